import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it, vi } from "vitest";
import { throttled } from "../../src/domain/errors.js";
import { type BreakerState, createStoreBreaker } from "../../src/resilience/circuit-breaker.js";
import { type StoreProbe, watchStoreHealth } from "../../src/resilience/store-health.js";

/** A store whose breaker the test moves by hand, and whose probe it answers. */
function fakeStore() {
  let state: BreakerState = "closed";
  const listeners = new Set<(s: BreakerState) => void>();
  const probe = {
    ping: vi.fn((_table: string, _signal?: AbortSignal) => Promise.resolve()),
    breaker: {
      state: () => state,
      onChange(listener: (s: BreakerState) => void) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
  } satisfies StoreProbe;
  const move = (next: BreakerState) => {
    state = next;
    for (const listener of [...listeners]) listener(next);
  };
  return { probe, listeners, move };
}

describe("store health", () => {
  it("follows the breaker both ways at once, without waiting for a probe", () => {
    const store = fakeStore();
    const changes: boolean[] = [];
    const watch = watchStoreHealth({
      probe: store.probe,
      probeTable: "T",
      intervalMs: 60_000,
      onChange: (h) => changes.push(h),
    });
    store.move("open");
    expect(watch.healthy()).toBe(false);
    store.move("half_open");
    expect(watch.healthy()).toBe(false);
    store.move("closed");
    expect(watch.healthy()).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(store.probe.ping).not.toHaveBeenCalled();
    watch.stop();
  });

  it("stop() removes its breaker listener", () => {
    const store = fakeStore();
    const watch = watchStoreHealth({ probe: store.probe, probeTable: "T", onChange: () => undefined });
    expect(store.listeners.size).toBe(1);
    watch.stop();
    expect(store.listeners.size).toBe(0);
  });

  it("probes the given table and reports a failing probe", async () => {
    vi.useFakeTimers();
    try {
      const store = fakeStore();
      store.probe.ping.mockRejectedValueOnce(new Error("down"));
      const changes: boolean[] = [];
      const watch = watchStoreHealth({
        probe: store.probe,
        probeTable: "T",
        intervalMs: 100,
        onChange: (h) => changes.push(h),
      });
      await vi.advanceTimersByTimeAsync(100);
      expect(store.probe.ping).toHaveBeenCalledWith("T", expect.any(AbortSignal));
      expect(changes).toEqual([false]);
      await vi.advanceTimersByTimeAsync(100);
      expect(changes).toEqual([false, true]);
      watch.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("store breaker onChange", () => {
  it("returns an unsubscribe that stops the listener", async () => {
    const breaker = createStoreBreaker({ volumeThreshold: 1, errorThresholdPercentage: 1, resetTimeoutMs: 20 });
    try {
      const seen: BreakerState[] = [];
      const off = breaker.onChange((s) => seen.push(s));
      await expect(breaker.run(() => Promise.reject(throttled(new Error("slow down"))))).rejects.toThrow();
      expect(seen).toEqual(["open"]);
      off();
      await sleep(60);
      expect(breaker.state()).toBe("half_open");
      expect(seen).toEqual(["open"]);
    } finally {
      breaker.shutdown();
    }
  });
});

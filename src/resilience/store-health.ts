/**
 * Health that means something: a service is SERVING only while the store answers. A probe
 * (one cheap read, through the breaker) runs every `intervalMs`; the breaker opening or
 * closing flips health at once, so health follows real traffic between probes. The probe
 * also lets an open breaker close again when no traffic comes.
 */
import { HEALTH_PROBE_INTERVAL_MS, HEALTH_PROBE_TIMEOUT_MS } from "../domain/retry-policy.js";
import type { StoreBreaker } from "./circuit-breaker.js";

/** What health needs of the store: a cheap read through the breaker, and the breaker. The StoreClient is one. */
export interface StoreProbe {
  /** Resolves if the store answers a read of `table`. */
  ping(table: string, signal?: AbortSignal): Promise<void>;
  readonly breaker: Pick<StoreBreaker, "state" | "onChange">;
}

export interface StoreHealthOptions {
  probe: StoreProbe;
  /** Table the probe reads (a key that never exists). */
  probeTable: string;
  /** Probe period, ms. Default HEALTH_PROBE_INTERVAL_MS. */
  intervalMs?: number;
  /** Probe time limit, ms. Default HEALTH_PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
  onChange: (healthy: boolean) => void;
}

export function watchStoreHealth(options: StoreHealthOptions): { stop(): void; healthy(): boolean } {
  const { probe } = options;
  let healthy = true;
  const set = (value: boolean) => {
    if (value === healthy) return;
    healthy = value;
    options.onChange(value);
  };
  // The breaker closes only after a call succeeded: the store answers again
  // (test/unit/store-health.test.ts).
  const unsubscribe = probe.breaker.onChange((state) => {
    if (state === "open") set(false);
    else if (state === "closed") set(true);
  });
  const check = () =>
    probe.ping(options.probeTable, AbortSignal.timeout(options.timeoutMs ?? HEALTH_PROBE_TIMEOUT_MS)).then(
      // A probe that started before the breaker opened must not undo the open.
      () => set(probe.breaker.state() !== "open"),
      () => set(false),
    );
  const timer = setInterval(() => void check(), options.intervalMs ?? HEALTH_PROBE_INTERVAL_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      unsubscribe();
    },
    healthy: () => healthy,
  };
}

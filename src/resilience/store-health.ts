/**
 * Health that means something: a service is SERVING only while the store answers. A probe
 * (one cheap read, through the breaker) runs every `intervalMs`; the breaker opening flips
 * health at once. The probe also lets an open breaker close again when no traffic comes.
 */
import type { StoreClient } from "../store/dynamo.js";

export interface StoreHealthOptions {
  client: StoreClient;
  /** Table the probe reads (a key that never exists). */
  probeTable: string;
  /** Probe period, ms. Default 5 000. */
  intervalMs?: number;
  /** Probe time limit, ms. Default 2 000. */
  timeoutMs?: number;
  onChange: (healthy: boolean) => void;
}

export function watchStoreHealth(options: StoreHealthOptions): { stop(): void; healthy(): boolean } {
  const intervalMs = options.intervalMs ?? 5_000;
  let healthy = true;
  const set = (value: boolean) => {
    if (value === healthy) return;
    healthy = value;
    options.onChange(value);
  };
  options.client.breaker.onChange((state) => {
    if (state === "open") set(false);
  });
  const probe = () =>
    options.client.ping(options.probeTable, AbortSignal.timeout(options.timeoutMs ?? 2_000)).then(
      () => set(true),
      () => set(false),
    );
  const timer = setInterval(() => void probe(), intervalMs);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    healthy: () => healthy,
  };
}

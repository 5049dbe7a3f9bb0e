/**
 * Health that means something: a service is SERVING only while the store answers. A probe
 * (one cheap read, through the breaker) runs every `intervalMs`; the breaker opening flips
 * health at once. The probe also lets an open breaker close again when no traffic comes.
 */
import { HEALTH_PROBE_INTERVAL_MS, HEALTH_PROBE_TIMEOUT_MS } from "../domain/retry-policy.js";
import type { StoreClient } from "../store/dynamo.js";

export interface StoreHealthOptions {
  client: StoreClient;
  /** Table the probe reads (a key that never exists). */
  probeTable: string;
  /** Probe period, ms. Default HEALTH_PROBE_INTERVAL_MS. */
  intervalMs?: number;
  /** Probe time limit, ms. Default HEALTH_PROBE_TIMEOUT_MS. */
  timeoutMs?: number;
  onChange: (healthy: boolean) => void;
}

export function watchStoreHealth(options: StoreHealthOptions): { stop(): void; healthy(): boolean } {
  const intervalMs = options.intervalMs ?? HEALTH_PROBE_INTERVAL_MS;
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
    options.client.ping(options.probeTable, AbortSignal.timeout(options.timeoutMs ?? HEALTH_PROBE_TIMEOUT_MS)).then(
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

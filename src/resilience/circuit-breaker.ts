/**
 * The store's circuit breaker (opossum). It counts only failures that say "the store is in
 * trouble" — throttling after the SDK's retries, 5xx, timeouts, network errors (already
 * classified as THROTTLED / STORE_UNAVAILABLE by src/store/dynamo.ts) — never a
 * conditional-check failure, a validation error or a cancelled call. Open, it fails fast
 * with UNAVAILABLE / CIRCUIT_OPEN + RetryInfo instead of queueing work on a sick store;
 * after `resetTimeoutMs` one call probes (half-open) and closes it again on success.
 */
import CircuitBreaker from "opossum";
import { circuitOpen, DomainError } from "../domain/errors.js";
import { BREAKER_RESET_MS } from "../domain/retry-policy.js";

export interface StoreBreakerOptions {
  /** Failure percentage in the rolling window that opens the breaker. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls in the window before it may open: a single failure on a quiet server must not. Default 10. */
  volumeThreshold?: number;
  /** Rolling window, ms. Default 10 000 (opossum's). */
  rollingCountTimeoutMs?: number;
  /** Open → half-open after this long, ms; also the RetryInfo given to callers. Default BREAKER_RESET_MS. */
  resetTimeoutMs?: number;
}

export type BreakerState = "closed" | "open" | "half_open";

export interface StoreBreaker {
  run<T>(work: () => Promise<T>): Promise<T>;
  state(): BreakerState;
  /** Calls `listener` on every transition; returns the function that stops it. */
  onChange(listener: (state: BreakerState) => void): () => void;
  shutdown(): void;
}

function countsAsFailure(err: unknown): boolean {
  return DomainError.match(err, "THROTTLED") || DomainError.match(err, "STORE_UNAVAILABLE");
}

export function createStoreBreaker(options: StoreBreakerOptions = {}): StoreBreaker {
  const resetTimeoutMs = options.resetTimeoutMs ?? BREAKER_RESET_MS;
  const breaker = new CircuitBreaker((work: () => Promise<unknown>) => work(), {
    errorThresholdPercentage: options.errorThresholdPercentage ?? 50,
    volumeThreshold: options.volumeThreshold ?? 10,
    rollingCountTimeout: options.rollingCountTimeoutMs ?? 10_000,
    resetTimeout: resetTimeoutMs,
    // The SDK's own timeouts and the RPC's abort signal bound each call; a second timer
    // here would only race them.
    timeout: false,
    errorFilter: (err: unknown) => !countsAsFailure(err),
    // Only the failure rate is read. opossum's defaults also keep every call's latency for
    // the window (sorted for percentiles each time the stats are read: on every failure,
    // and once a second for a 'snapshot' event nobody listens to): per-call work and
    // memory that grow with the call rate (README, "Performance").
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  const state = (): BreakerState => (breaker.opened ? "open" : breaker.halfOpen ? "half_open" : "closed");
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      try {
        return (await breaker.fire(work)) as T;
      } catch (err) {
        if (err instanceof Error && (err as { code?: string }).code === "EOPENBREAKER") {
          throw circuitOpen(resetTimeoutMs);
        }
        throw err;
      }
    },
    state,
    onChange(listener) {
      const report = () => listener(state());
      breaker.on("open", report);
      breaker.on("halfOpen", report);
      breaker.on("close", report);
      return () => {
        breaker.removeListener("open", report);
        breaker.removeListener("halfOpen", report);
        breaker.removeListener("close", report);
      };
    },
    shutdown: () => breaker.shutdown(),
  };
}

/**
 * Every retry number of the service in one place (pure data): the waits we advise callers
 * through google.rpc.RetryInfo, and the bounds of our own retries. Change a delay here,
 * never at the place that uses it.
 */

/** RetryInfo after throttling that outlasted the SDK's own retries. */
export const THROTTLED_RETRY_MS = 1_000;
/** RetryInfo after a 5xx, timeout or network error. */
export const STORE_UNAVAILABLE_RETRY_MS = 1_000;
/** RetryInfo after a lost optimistic race or a DynamoDB TransactionConflict: conflicts clear fast. */
export const CONFLICT_RETRY_MS = 50;
/** The breaker stays open this long before one call probes; also the RetryInfo of CIRCUIT_OPEN. */
export const BREAKER_RESET_MS = 5_000;

/** SDK attempts per call including the first (standard mode: backoff with full jitter). */
export const SDK_MAX_ATTEMPTS = 4;

/** Read → decide → conditional write rounds against writers in other processes before ABORTED. */
export const MAX_OPTIMISTIC_ATTEMPTS = 8;

/** Retries of Unprocessed* in batch calls: exponential backoff, full jitter, bounded. */
export const BATCH_BACKOFF = Object.freeze({
  /** Attempts per chunk including the first (~1.6 s of waiting at most). */
  attempts: 6,
  /** First backoff ceiling, doubled per attempt. */
  baseMs: 25,
  /** Largest backoff ceiling. */
  capMs: 2_000,
});

/** Store health probe: period and time limit of one probe. */
export const HEALTH_PROBE_INTERVAL_MS = 5_000;
export const HEALTH_PROBE_TIMEOUT_MS = 2_000;

/**
 * commerce-admin import: Unprocessed* retries per BatchWriteItem chunk. More patient than
 * an RPC's (no caller is waiting on a deadline, and a bulk load is what throttles): up to
 * ~15 s of backoff before the chunk counts as not written.
 */
export const IMPORT_BACKOFF = Object.freeze({ attempts: 12, baseMs: 50 });

/**
 * BatchGetItem and BatchWriteItem in DynamoDB-sized chunks with Unprocessed* retried
 * (exponential backoff, full jitter, bounded). Keys or writes still unprocessed after the
 * last attempt fail the call with THROTTLED: an item is never dropped silently.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { keysUnprocessed, writesUnprocessed } from "../domain/errors.js";
import { BATCH_BACKOFF } from "../domain/retry-policy.js";
import type { StoreClient } from "./dynamo.js";

export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;

export interface BackoffOptions {
  /** Attempts per chunk including the first. Default BATCH_BACKOFF.attempts. */
  attempts?: number;
  /** First backoff ceiling in ms; doubled per attempt. Default BATCH_BACKOFF.baseMs. */
  baseMs?: number;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Full jitter (AWS Architecture Blog "Exponential Backoff and Jitter"): uniform in [0, cap). */
export function fullJitterDelay(attempt: number, baseMs: number, maxMs = BATCH_BACKOFF.capMs): number {
  return Math.floor(Math.random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

/**
 * Sends `items` until DynamoDB has processed every one: `send` answers what it left
 * unprocessed, which is sent again after a full-jitter backoff, at most `attempts` tries in
 * all; then `gaveUp` says how many were left.
 */
export async function untilProcessed<T>(
  items: readonly T[],
  backoff: BackoffOptions,
  signal: AbortSignal | undefined,
  send: (pending: readonly T[]) => Promise<readonly T[]>,
  gaveUp: (count: number, attempts: number) => Error,
): Promise<void> {
  const attempts = backoff.attempts ?? BATCH_BACKOFF.attempts;
  const baseMs = backoff.baseMs ?? BATCH_BACKOFF.baseMs;
  let pending = items;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= attempts) throw gaveUp(pending.length, attempts);
    if (attempt > 0) await sleep(fullJitterDelay(attempt, baseMs), undefined, signal ? { signal } : {});
    pending = await send(pending);
  }
}

export async function batchGet(
  client: StoreClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  signal?: AbortSignal,
  backoff: BackoffOptions = {},
): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const group of chunk(keys, BATCH_GET_LIMIT)) {
    await untilProcessed(
      group,
      backoff,
      signal,
      async (pending) => {
        const out = await client.batchGet(
          { RequestItems: { [table]: { Keys: [...pending], ConsistentRead: true } } },
          signal,
        );
        found.push(...(out.Responses[table] ?? []));
        return out.UnprocessedKeys[table]?.Keys ?? [];
      },
      keysUnprocessed,
    );
  }
  return found;
}

/** One write of a BatchWriteItem: an unconditional put or delete (BatchWriteItem takes no conditions). */
export type BatchWrite =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/**
 * Every write applied, or a rejection. Puts and deletes are unconditional, so a write that
 * DynamoDB (or the SDK's retry of a failed call) applies twice leaves the same item.
 * Two writes of one key in one chunk make DynamoDB refuse the whole chunk
 * (ValidationException): callers group their writes so that a chunk's keys are distinct.
 */
export async function batchWrite(
  client: StoreClient,
  table: string,
  writes: readonly BatchWrite[],
  signal?: AbortSignal,
  backoff: BackoffOptions = {},
): Promise<void> {
  for (const group of chunk(writes, BATCH_WRITE_LIMIT)) {
    await untilProcessed(
      group,
      backoff,
      signal,
      async (pending) => {
        const out = await client.batchWrite({ RequestItems: { [table]: [...pending] } }, signal);
        return out.UnprocessedItems[table] ?? [];
      },
      writesUnprocessed,
    );
  }
}

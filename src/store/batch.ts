/**
 * BatchGetItem in DynamoDB-sized chunks with UnprocessedKeys retried (exponential backoff,
 * full jitter, bounded). Keys still unprocessed after the last attempt fail the call with
 * THROTTLED: an item is never dropped silently.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { BatchGetCommand } from "@aws-sdk/lib-dynamodb";
import { keysUnprocessed } from "../domain/errors.js";
import { BATCH_BACKOFF } from "../domain/retry-policy.js";
import { type StoreClient, withSignal } from "./dynamo.js";

export const BATCH_GET_LIMIT = 100;

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

export async function batchGet(
  client: StoreClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  signal?: AbortSignal,
  backoff: BackoffOptions = {},
): Promise<Record<string, unknown>[]> {
  const attempts = backoff.attempts ?? BATCH_BACKOFF.attempts;
  const baseMs = backoff.baseMs ?? BATCH_BACKOFF.baseMs;
  const found: Record<string, unknown>[] = [];
  for (const group of chunk(keys, BATCH_GET_LIMIT)) {
    let pending: Record<string, unknown>[] = group;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= attempts) {
        throw keysUnprocessed(pending.length, attempts);
      }
      if (attempt > 0) await sleep(fullJitterDelay(attempt, baseMs), undefined, signal ? { signal } : {});
      const out = await client.call((doc) =>
        doc.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
          withSignal(signal),
        ),
      );
      found.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
  }
  return found;
}

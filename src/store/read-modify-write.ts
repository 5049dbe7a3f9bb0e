/**
 * Read → decide → write-if-unchanged, for idempotent writes whose result must be stored
 * with the change in one transaction (the stored result is what a retry gets back, so it
 * must be computed before writing, from a consistent read). The write is conditional on
 * the version read, so a concurrent writer makes it fail and we read again; the per-key
 * queue keeps writers in this process from racing each other at all (key-lock.ts).
 */

import { concurrentChanges, versionNoLongerCurrent } from "../domain/errors.js";
import { MAX_OPTIMISTIC_ATTEMPTS } from "../domain/retry-policy.js";
import type { StoreClient } from "./dynamo.js";
import { createKeyLock } from "./key-lock.js";
import { type GuardedWrite, type TransactItem, transactWrite } from "./transact.js";

export interface Versioned {
  version: bigint;
}

export interface ReadModifyWrite<T extends Versioned> {
  /** Serialises work per key (the item's key). */
  key: string;
  /** Consistent read of the current state; throws NOT_FOUND itself. */
  read: () => Promise<T>;
  /** The new state, or a thrown domain error (version mismatch, out of stock, ...). */
  decide: (current: T) => T;
  /** The Update of the item; must carry `version = current.version` as its condition. */
  write: (current: T, next: T) => TransactItem;
  /** The idempotency record of the result (idempotency.ts). */
  record: (next: T) => GuardedWrite;
  /** request_id: seeds ClientRequestToken together with the version read. */
  requestId: string;
  /** Non-zero: the caller asked for this version, so losing a race is VERSION_MISMATCH. */
  expectedVersion: bigint;
  /** Names the resource in the errors (e.g. { sku }). */
  metadata: Record<string, string>;
  signal: AbortSignal | undefined;
}

export function createReadModifyWrite(client: StoreClient) {
  const withKeyLock = createKeyLock();
  return function readModifyWrite<T extends Versioned>(op: ReadModifyWrite<T>): Promise<T> {
    return withKeyLock(op.key, async () => {
      for (let attempt = 1; ; attempt++) {
        const current = await op.read();
        const next = op.decide(current);
        let lostRace = false;
        try {
          await transactWrite(
            client,
            [
              {
                item: op.write(current, next),
                onConditionFailed: () => {
                  lostRace = true;
                  return new Error("version changed");
                },
              },
              op.record(next),
            ],
            { signal: op.signal, tokenSeed: `${op.requestId}#${current.version}` },
          );
          return next;
        } catch (err) {
          if (!lostRace) throw err;
          if (op.expectedVersion !== 0n) {
            throw versionNoLongerCurrent(op.metadata, op.expectedVersion);
          }
          if (attempt >= MAX_OPTIMISTIC_ATTEMPTS) {
            throw concurrentChanges(op.metadata);
          }
        }
      }
    });
  };
}

/**
 * TransactWriteItems with the failure decided by CancellationReasons, not guessed: each
 * write says which domain error its own condition means (given the item as it was, from
 * ReturnValuesOnConditionCheckFailure). By default the first failed condition wins; a
 * caller that must name every failure (each out-of-stock line of an order) passes
 * `combineFailures` and gets them all (test/store/transact.test.ts).
 */

import { hash, randomUUID } from "node:crypto";
import { type AttributeValue, type CancellationReason, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import type { TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { throttled, transactionConflict } from "../domain/errors.js";
import { itemAtFailure, type StoreClient } from "./dynamo.js";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];
export type StoredItem = Record<string, unknown>;

export interface GuardedWrite {
  item: TransactItem;
  /** The domain error this write's condition failing means; `old` is the item as it was. */
  onConditionFailed?: (old: StoredItem | undefined) => Error;
}

export interface TransactOptions {
  signal?: AbortSignal | undefined;
  /**
   * ClientRequestToken: makes the SDK's own retries of an ambiguous failure (applied, but
   * the answer lost) come back as success instead of a spurious condition failure.
   * Derived from the request_id when there is one; random otherwise.
   */
  tokenSeed?: string | undefined;
  /**
   * Given the errors of every write whose condition failed (in write order, at least one),
   * the error to throw. Unset: the first one.
   */
  combineFailures?: ((errors: Error[]) => Error) | undefined;
}

export function clientRequestToken(seed: string | undefined): string {
  if (seed === undefined) return randomUUID();
  // At most 36 characters are allowed.
  return hash("sha256", seed, "base64url").slice(0, 36);
}

function withOldValues(item: TransactItem): TransactItem {
  const kind = item.Put
    ? "Put"
    : item.Update
      ? "Update"
      : item.Delete
        ? "Delete"
        : item.ConditionCheck
          ? "ConditionCheck"
          : undefined;
  if (kind === undefined) return item;
  return { [kind]: { ...item[kind], ReturnValuesOnConditionCheckFailure: "ALL_OLD" } } as TransactItem;
}

export async function transactWrite(
  client: StoreClient,
  writes: GuardedWrite[],
  options: TransactOptions = {},
): Promise<void> {
  const input: TransactWriteCommandInput = {
    TransactItems: writes.map((w) => (w.onConditionFailed ? withOldValues(w.item) : w.item)),
    ClientRequestToken: clientRequestToken(options.tokenSeed),
  };
  try {
    await client.transactWrite(input, options.signal);
  } catch (err) {
    throw interpretCancellation(err, writes, options.combineFailures);
  }
}

export function interpretCancellation(
  err: unknown,
  writes: GuardedWrite[],
  combineFailures: (errors: Error[]) => Error = (errors) => errors[0]!,
): unknown {
  if (!(err instanceof TransactionCanceledException)) {
    // TransactionInProgress: another call with the same ClientRequestToken is still running
    // (a twin of this request); the SDK already retried it. Both are "retry shortly".
    if (
      err instanceof Error &&
      (err.name === "TransactionConflictException" || err.name === "TransactionInProgressException")
    ) {
      return transactionConflict(err);
    }
    return err;
  }
  const reasons = err.CancellationReasons ?? [];
  const failures = conditionFailures(reasons, writes);
  if (failures.length > 0) return combineFailures(failures);
  const codes = new Set(reasons.map((r) => r.Code));
  if (codes.has("TransactionConflict")) return transactionConflict(err);
  if (codes.has("ThrottlingError") || codes.has("ProvisionedThroughputExceeded")) return throttled(err);
  return err;
}

/** The domain error of every write whose condition failed, in write order. */
function conditionFailures(reasons: CancellationReason[], writes: GuardedWrite[]): Error[] {
  return reasons.flatMap((reason, i) => {
    const onFailed = writes[i]?.onConditionFailed;
    if (reason.Code !== "ConditionalCheckFailed" || onFailed === undefined) return [];
    return [onFailed(itemAtFailure(reason.Item as Record<string, AttributeValue> | undefined))];
  });
}

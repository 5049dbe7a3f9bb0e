/**
 * TransactWriteItems with the failure decided by CancellationReasons, not guessed: each
 * write says which domain error its own condition means (given the item as it was, from
 * ReturnValuesOnConditionCheckFailure), and the first failed condition wins.
 */

import { createHash, randomUUID } from "node:crypto";
import { type AttributeValue, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { TransactWriteCommand, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { throttled, transactionConflict } from "../domain/errors.js";
import { itemAtFailure, type StoreClient, withSignal } from "./dynamo.js";

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
}

export function clientRequestToken(seed: string | undefined): string {
  if (seed === undefined) return randomUUID();
  // At most 36 characters are allowed.
  return createHash("sha256").update(seed).digest("base64url").slice(0, 36);
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
    await client.call((doc) => doc.send(new TransactWriteCommand(input), withSignal(options.signal)));
  } catch (err) {
    throw interpretCancellation(err, writes);
  }
}

export function interpretCancellation(err: unknown, writes: GuardedWrite[]): unknown {
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
  for (const [i, reason] of reasons.entries()) {
    if (reason.Code !== "ConditionalCheckFailed") continue;
    const onFailed = writes[i]?.onConditionFailed;
    if (onFailed) {
      const old = itemAtFailure(reason.Item as Record<string, AttributeValue> | undefined);
      return onFailed(old);
    }
  }
  const codes = new Set(reasons.map((r) => r.Code));
  if (codes.has("TransactionConflict")) return transactionConflict(err);
  if (codes.has("ThrottlingError") || codes.has("ProvisionedThroughputExceeded")) return throttled(err);
  return err;
}

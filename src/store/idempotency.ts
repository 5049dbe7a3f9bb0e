/**
 * request_id idempotency (AIP-155), stored in DynamoDB in the same transaction as the
 * effect. A record holds a fingerprint of the request and the result it produced:
 * - same request_id, same fingerprint → the stored result, nothing written again;
 * - same request_id, other fingerprint → REQUEST_ID_REUSED;
 * - records expire after 24 h (TTL on `expires_at`); an expired record is ignored even
 *   before TTL deletes it, and may be overwritten.
 * The key is the request_id alone and the fingerprint includes the operation, so reusing
 * an id for another RPC is a different request (REQUEST_ID_REUSED).
 * A repeat is recognised when its attempt fails: on the record's condition, or on the
 * state the first attempt changed (the money already moved, the version already bumped).
 */

import { hash } from "node:crypto";
import { DomainError, requestIdReused, requestInProgress } from "../domain/errors.js";
import type { StoreClient } from "./dynamo.js";
import { getItem } from "./get-item.js";
import { canonicalJson, decodeSnapshot, encodeSnapshot } from "./snapshot.js";
import type { GuardedWrite } from "./transact.js";

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface IdempotentRequest {
  requestId: string;
  /** The RPC, e.g. "AdjustStock"; part of the fingerprint. */
  operation: string;
  /** Every field of the request that changes its meaning (not the request_id). */
  command: unknown;
}

export interface Idempotency {
  /** Runs `attempt` once per request_id; `attempt` must include `record(result)` in its transaction. */
  run<T>(
    request: IdempotentRequest,
    signal: AbortSignal | undefined,
    attempt: (record: (result: T) => GuardedWrite) => Promise<T>,
  ): Promise<T>;
}

/** Thrown by the record's own condition: someone else holds this request_id. */
class RequestIdTaken extends Error {
  override readonly name = "RequestIdTaken";
}

export function fingerprint(request: IdempotentRequest): string {
  return hash("sha256", canonicalJson([request.operation, request.command]), "base64url");
}

/**
 * The record of a request's first result, put in the effect's own transaction: it fails
 * while another unexpired record holds the request_id. Pure (test/store/requests.test.ts).
 */
export function idempotencyRecordPut(table: string, request: IdempotentRequest, result: unknown, nowSeconds: number) {
  return {
    Put: {
      TableName: table,
      Item: {
        request_id: request.requestId,
        fingerprint: fingerprint(request),
        operation: request.operation,
        result: encodeSnapshot(result),
        expires_at: nowSeconds + IDEMPOTENCY_TTL_SECONDS,
      },
      ConditionExpression: "attribute_not_exists(request_id) OR expires_at <= :now",
      ExpressionAttributeValues: { ":now": nowSeconds },
    },
  };
}

export function createIdempotency(client: StoreClient, table: string, now: () => Date = () => new Date()): Idempotency {
  async function prior<T>(requestId: string, print: string, signal: AbortSignal | undefined): Promise<T | undefined> {
    const record = await getItem(client, { table, key: { request_id: requestId } }, signal);
    if (record === undefined) return undefined;
    if (Number(String(record["expires_at"])) <= Math.floor(now().getTime() / 1000)) return undefined;
    if (record["fingerprint"] !== print) {
      throw requestIdReused(requestId);
    }
    return decodeSnapshot<T>(String(record["result"]));
  }

  return {
    async run<T>(
      request: IdempotentRequest,
      signal: AbortSignal | undefined,
      attempt: (record: (result: T) => GuardedWrite) => Promise<T>,
    ): Promise<T> {
      // No read first: the record's own condition in the effect's transaction is what
      // stops a second application, so a new request (the common case) costs one
      // transaction, and a repeat pays one failed transaction plus the read below.
      const record = (result: T): GuardedWrite => ({
        item: idempotencyRecordPut(table, request, result, Math.floor(now().getTime() / 1000)),
        onConditionFailed: () => new RequestIdTaken(),
      });
      try {
        return await attempt(record);
      } catch (err) {
        // A concurrent twin of this request may have won the race: its record (or the
        // state it changed — e.g. the money it moved) made our attempt fail. If the twin
        // recorded a result, that result is our answer too. Checked for every domain
        // failure, because which condition DynamoDB reports first is not ours to choose.
        const taken =
          err instanceof RequestIdTaken ||
          (err instanceof Error && err.name === "IdempotentParameterMismatchException");
        if (!taken && !(err instanceof DomainError)) throw err;
        const twin = await prior<T>(request.requestId, fingerprint(request), signal);
        if (twin !== undefined) return twin;
        if (!taken) throw err;
        throw requestInProgress(err);
      }
    },
  };
}

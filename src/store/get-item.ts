/**
 * Consistent single-item read: the read every decision of ours is made on (a stale read
 * would let a write be decided on a state that no longer is). Pure builder + thin send.
 */
import type { GetCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Stored } from "./attributes.js";
import type { StoreClient } from "./dynamo.js";
import type { Projection } from "./projection.js";

export interface GetItemParams {
  table: string;
  key: Record<string, unknown>;
  /** From buildProjection; undefined reads every attribute. */
  projection?: Projection | undefined;
  /** Default true. False only where the caller asked for an eventually consistent read (GetOrder). */
  consistent?: boolean | undefined;
}

export function getItemRequest(params: GetItemParams): GetCommandInput {
  return { TableName: params.table, Key: params.key, ConsistentRead: params.consistent ?? true, ...params.projection };
}

/** The item, or undefined when there is none. */
export async function getItem(
  client: StoreClient,
  params: GetItemParams,
  signal: AbortSignal | undefined,
): Promise<Stored | undefined> {
  return client.getItem(getItemRequest(params), signal);
}

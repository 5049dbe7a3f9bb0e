/**
 * Orders in bulk: import, parallel scan, counts by status, purge. Requests are built by
 * pure functions (test/store/order-bulk-requests.test.ts) and sent through the store kit.
 * Import and purge touch the Orders table only: no stock, no refunds.
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, type DeleteCommandInput, QueryCommand, type QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import { DomainError, withProgress } from "../domain/errors.js";
import type { Money } from "../domain/money.js";
import { ORDER_STATUSES, type Order, type OrderKey, type OrderStatus, type OrderView } from "../domain/orders.js";
import type { Stored } from "./attributes.js";
import { BATCH_WRITE_LIMIT, type BatchWrite, batchWrite } from "./batch.js";
import { type StoreClient, withSignal } from "./dynamo.js";
import { forEachLimited } from "./for-each-limited.js";
import { orderIdRange } from "./ids.js";
import {
  decimal,
  ORDER_KEY_ATTRIBUTES,
  ORDER_PROJECTION,
  orderToStored,
  orderViewFromStored,
  readStatus,
} from "./order-mapping.js";
import { buildProjection } from "./projection.js";
import { type ScanSegmentsParams, scanSegments } from "./scan-segments.js";
import type { TableNames } from "./tables.js";

export interface OrderBulkStoreOptions {
  client: StoreClient;
  tables: TableNames;
  now?: () => Date;
}

/** Items one ScanOrders read examines: a page never holds more, so one page fits one message. */
export const SCAN_PAGE_LIMIT = 100;
/** Conditional deletes of one purge in flight at once. */
export const PURGE_PARALLELISM = 8;

export interface ScanOrdersFilter {
  totalSegments: number;
  /** undefined: every status. */
  status?: OrderStatus | undefined;
  /** Only orders in this currency whose total is at least this amount. */
  minTotal?: Money | undefined;
  /** Order field names (read_mask paths); empty: every field. */
  readMask: readonly string[];
}

export interface PurgeOrdersParams {
  customerId: string;
  /** Orders created at or before this instant (epoch ms, inclusive) are candidates. */
  createdAtOrBeforeMs: number;
  /** Distinct, non-empty. */
  statuses: readonly OrderStatus[];
}

// ---- pure request builders -------------------------------------------------------------

/**
 * Splits one message's writes into BatchWriteItem groups, in order: a new group starts when
 * one is full or before a key it already holds (DynamoDB refuses a batch that writes one key
 * twice). A later write of a key lands in a later group, so it wins, as in the stream.
 */
export function writeGroups<T>(items: readonly T[], keyOf: (item: T) => string, limit = BATCH_WRITE_LIMIT): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let keys = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (group.length === limit || keys.has(key)) {
      groups.push(group);
      group = [];
      keys = new Set();
    }
    group.push(item);
    keys.add(key);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The key as one string; JSON keeps the pair unambiguous whatever the ids hold. */
const keyString = (o: OrderKey) => JSON.stringify([o.customerId, o.orderId]);

/** ScanOrders' filter and projection, for scanSegments. Names are `#f_*`: projection.ts uses `#p*`. */
export function scanOrdersParams(table: string, filter: ScanOrdersFilter): ScanSegmentsParams {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (filter.status !== undefined) {
    conditions.push("#f_status = :f_status");
    names["#f_status"] = "status";
    values[":f_status"] = filter.status;
  }
  if (filter.minTotal !== undefined) {
    conditions.push("#f_currency = :f_currency AND #f_total >= :f_min");
    names["#f_currency"] = "currency";
    names["#f_total"] = "total";
    values[":f_currency"] = filter.minTotal.currencyCode;
    values[":f_min"] = decimal(filter.minTotal);
  }
  return {
    table,
    totalSegments: filter.totalSegments,
    limit: SCAN_PAGE_LIMIT,
    ...(conditions.length > 0 ? { filter: conditions.join(" AND "), names, values } : {}),
    projection: buildProjection(filter.readMask, ORDER_PROJECTION, ORDER_KEY_ATTRIBUTES),
  };
}

/** CountOrdersByStatus reads the status alone. */
export function countByStatusParams(table: string, totalSegments: number): ScanSegmentsParams {
  return { table, totalSegments, projection: buildProjection(["status"], ORDER_PROJECTION, []) };
}

/** `#s IN (:s0, :s1, ...)` with its values: a purge's filter and each delete's condition. */
function statusIn(statuses: readonly OrderStatus[]) {
  const values = Object.fromEntries(statuses.map((s, i) => [`:s${i}`, s]));
  return { expression: `#s IN (${Object.keys(values).join(", ")})`, values };
}

/** One page of a customer's orders created up to the bound in one of the statuses: keys only. */
export function purgeQueryRequest(
  table: string,
  params: PurgeOrdersParams,
  startKey: Record<string, unknown> | undefined,
): QueryCommandInput {
  const range = orderIdRange(0, params.createdAtOrBeforeMs);
  const status = statusIn(params.statuses);
  return {
    TableName: table,
    ConsistentRead: true,
    KeyConditionExpression: "#c = :c AND #o BETWEEN :low AND :high",
    FilterExpression: status.expression,
    ProjectionExpression: "#c, #o",
    ExpressionAttributeNames: { "#c": "customer_id", "#o": "order_id", "#s": "status" },
    ExpressionAttributeValues: { ":c": params.customerId, ":low": range.low, ":high": range.high, ...status.values },
    ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
  };
}

/** Deletes the order only if its status is still one of `statuses` (a write may have moved it on). */
export function purgeDeleteRequest(table: string, key: Stored, statuses: readonly OrderStatus[]): DeleteCommandInput {
  const status = statusIn(statuses);
  return {
    TableName: table,
    Key: { customer_id: key["customer_id"], order_id: key["order_id"] },
    ConditionExpression: status.expression,
    ExpressionAttributeNames: { "#s": "status" },
    ExpressionAttributeValues: status.values,
  };
}

// ---- the store --------------------------------------------------------------------------

export type OrderBulkStore = ReturnType<typeof createOrderBulkStore>;

export function createOrderBulkStore(options: OrderBulkStoreOptions) {
  const { client } = options;
  const table = options.tables.orders;

  return {
    /**
     * Writes each batch (a message of the stream) in BatchWriteItem groups, one group after
     * another, and pulls the next batch only when this one is stored, so it holds one batch at
     * a time. Overwrites orders with the same key. Resolves to the orders written; a failure
     * of the source (an invalid order) or of a write rejects, a DomainError with metadata
     * `written`: the orders of the groups stored before it, a prefix of the stream
     * (test/store/order-bulk-requests.test.ts).
     */
    async importOrders(batches: AsyncIterable<readonly Order[]>, signal?: AbortSignal): Promise<number> {
      let written = 0;
      try {
        for await (const batch of batches) {
          for (const group of writeGroups(batch, keyString)) {
            const writes: BatchWrite[] = group.map((o) => ({ PutRequest: { Item: orderToStored(o) } }));
            await batchWrite(client, table, writes, signal);
            written += group.length;
          }
        }
      } catch (err) {
        throw DomainError.match(err) ? withProgress(err, { written: String(written) }) : err;
      }
      return written;
    },

    /** Every matching order exactly once, in pages of at most SCAN_PAGE_LIMIT, with backpressure. */
    async *scanOrders(filter: ScanOrdersFilter, signal?: AbortSignal): AsyncGenerator<OrderView[]> {
      for await (const page of scanSegments(client, scanOrdersParams(table, filter), signal)) {
        yield page.map(orderViewFromStored);
      }
    },

    /** Orders per status, every status present (0 when none). */
    async countOrdersByStatus(totalSegments: number, signal?: AbortSignal): Promise<Record<OrderStatus, bigint>> {
      const counts = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0n])) as Record<OrderStatus, bigint>;
      for await (const page of scanSegments(client, countByStatusParams(table, totalSegments), signal)) {
        for (const item of page) counts[readStatus(item)] += 1n;
      }
      return counts;
    },

    /**
     * Deletes the customer's orders created up to the bound whose status is one of
     * `statuses`, PURGE_PARALLELISM at a time, each under the condition that its status still
     * is. Resolves to the orders deleted; a store failure rejects once the deletes in flight
     * have settled, a DomainError with metadata `deleted` (test/store/order-bulk-requests.test.ts).
     */
    async purgeOrders(params: PurgeOrdersParams, signal?: AbortSignal): Promise<number> {
      let deleted = 0;
      const deleteOne = async (key: Stored) => {
        try {
          // At most once: a repeated delete would find the order gone and not count it.
          await client.callAtMostOnce((doc) =>
            doc.send(new DeleteCommand(purgeDeleteRequest(table, key, params.statuses)), withSignal(signal)),
          );
          deleted++;
        } catch (err) {
          // The order changed status (or went) since the query: not ours to delete.
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        }
      };
      try {
        let startKey: Record<string, unknown> | undefined;
        do {
          const request = purgeQueryRequest(table, params, startKey);
          const out = await client.call((doc) => doc.send(new QueryCommand(request), withSignal(signal)));
          await forEachLimited(out.Items ?? [], PURGE_PARALLELISM, deleteOne);
          startKey = out.LastEvaluatedKey;
        } while (startKey !== undefined);
      } catch (err) {
        throw DomainError.match(err) ? withProgress(err, { deleted: String(deleted) }) : err;
      }
      return deleted;
    },
  };
}

/**
 * Orders, one at a time: create (stock taken in the same transaction), read, list, status
 * changes, added lines, cancel (stock restored and a refund written in the same
 * transaction), delete. Stored shape: order-mapping.ts. Every write that moves stock is one
 * TransactWriteItems with the order, so stock, orders and refunds never disagree.
 */
import {
  concurrentChanges,
  DomainError,
  invalidField,
  invalidTransition,
  itemNotFound,
  itemsNotFound,
  linesOutOfStock,
  orderCurrencyMismatch,
  orderNotFound,
  orderStatusRefused,
  priceChanged,
  restockImpossible,
  type StockShortage,
  versionMismatch,
  versionNoLongerCurrent,
} from "../domain/errors.js";
import { MAX_QUANTITY } from "../domain/inventory.js";
import { toNanos } from "../domain/money.js";
import {
  canTransition,
  MAX_ORDER_LINES,
  type NewOrder,
  type Order,
  type OrderKey,
  type OrderLine,
  type OrderStatus,
  orderTotal,
  type Refund,
  statusesBefore,
} from "../domain/orders.js";
import { MAX_OPTIMISTIC_ATTEMPTS } from "../domain/retry-policy.js";
import { readBigInt, readMoney, readString } from "./attributes.js";
import { batchGet } from "./batch.js";
import type { StoreClient } from "./dynamo.js";
import { getItem } from "./get-item.js";
import type { Idempotency } from "./idempotency.js";
import { orderIdRange, orderIdTime, timeOrderedId } from "./ids.js";
import { createKeyLock } from "./key-lock.js";
import {
  decimal,
  linesToStored,
  MAX_STORED_TIME_MS,
  ORDER_KEY_ATTRIBUTES,
  ORDER_PROJECTION,
  orderFromStored,
  orderToStored,
  orderViewFromStored,
  readStatus,
  refundFromStored,
  refundToStored,
} from "./order-mapping.js";
import type { PageTokenCodec } from "./page-token.js";
import { buildProjection } from "./projection.js";
import { type Page, type QueryPageParams, queryPage } from "./query-page.js";
import type { TableNames } from "./tables.js";
import { type GuardedWrite, transactWrite } from "./transact.js";
import { writeOnce } from "./write-once.js";

export interface OrderStoreOptions {
  client: StoreClient;
  tables: TableNames;
  idempotency: Idempotency;
  pageTokens: PageTokenCodec;
  now?: () => Date;
}

/** Creation-time bounds of a list, in epoch ms, both inclusive; undefined: unbounded. */
export interface CreatedWithin {
  fromMs: number | undefined;
  toMs: number | undefined;
}

export interface ListOrdersQuery {
  customerId: string;
  status: OrderStatus | undefined;
  created: CreatedWithin;
  newestFirst: boolean;
  pageSize: number;
  pageToken: string;
}

export interface ListOrdersByStatusQuery {
  status: OrderStatus;
  created: CreatedWithin;
  newestFirst: boolean;
  pageSize: number;
  pageToken: string;
}

/** The largest time a ULID carries (48 bits of ms). */
const MAX_ULID_MS = 2 ** 48 - 1;

// ---- pure request builders -------------------------------------------------------------

/**
 * Take `line.quantity` from the item's stock, only if there is enough AND the item still
 * has the price the order was computed from: a price changed in between fails the order
 * (it can be placed again) instead of charging a price the customer never saw.
 */
export function takeStockUpdate(table: string, line: OrderLine, now: string) {
  return {
    Update: {
      TableName: table,
      Key: { sku: line.sku },
      UpdateExpression: "SET quantity = quantity - :q, version = version + :one, updated_at = :now",
      ConditionExpression: "attribute_exists(sku) AND quantity >= :q AND price = :price AND currency = :currency",
      ExpressionAttributeValues: {
        ":q": line.quantity,
        ":one": 1n,
        ":now": now,
        ":price": decimal(line.unitPrice),
        ":currency": line.unitPrice.currencyCode,
      },
    },
  };
}

/** Give `line.quantity` back to the item's stock (cancel); the item must still exist. */
export function restoreStockUpdate(table: string, line: Pick<OrderLine, "sku" | "quantity">, now: string) {
  return {
    Update: {
      TableName: table,
      Key: { sku: line.sku },
      UpdateExpression: "SET quantity = quantity + :q, version = version + :one, updated_at = :now",
      ConditionExpression: "attribute_exists(sku) AND quantity <= :room",
      ExpressionAttributeValues: {
        ":q": line.quantity,
        ":one": 1n,
        ":now": now,
        ":room": MAX_QUANTITY - line.quantity,
      },
    },
  };
}

/** A status change in one conditional UpdateItem: allowed only from `from` (and at `expectedVersion` when ≠ 0). */
export function changeStatusUpdate(
  table: string,
  key: OrderKey,
  to: OrderStatus,
  from: readonly OrderStatus[],
  expectedVersion: bigint,
  now: string,
) {
  const values: Record<string, unknown> = { ":to": to, ":one": 1n, ":now": now };
  const allowed = from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  let condition = `attribute_exists(order_id) AND #status IN (${allowed.join(", ")})`;
  if (expectedVersion !== 0n) {
    condition += " AND version = :expected";
    values[":expected"] = expectedVersion;
  }
  return {
    Update: {
      TableName: table,
      Key: { customer_id: key.customerId, order_id: key.orderId },
      UpdateExpression: "SET #status = :to, version = version + :one, updated_at = :now",
      ConditionExpression: condition,
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: values,
      ReturnValues: "ALL_NEW" as const,
    },
  };
}

/** Replace the order with `next` (new lines, total, status...), only if it is still at `read.version`. */
export function replaceOrderUpdate(table: string, read: Order, next: Order, extra: Record<string, unknown> = {}) {
  // Through names: "lines", "total" and "status" are DynamoDB reserved words.
  const fields: Record<string, unknown> = {
    lines: linesToStored(next.lines),
    total: decimal(next.total),
    status: next.status,
    version: next.version,
    updated_at: next.updatedAt,
    ...extra,
  };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ":read": read.version };
  const sets = Object.entries(fields).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  return {
    Update: {
      TableName: table,
      Key: { customer_id: read.customerId, order_id: read.orderId },
      UpdateExpression: `SET ${sets.join(", ")}`,
      ConditionExpression: "version = :read",
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/** The refund of an order: one per order, its id derived from the order's. */
export function refundIdOf(orderId: string): string {
  return `RFD-${orderId.replace(/^ORD-/, "")}`;
}

// ---- the store --------------------------------------------------------------------------

export type OrderStore = ReturnType<typeof createOrderStore>;

/** What every list token is also bound to: the table and the direction. */
const tokenScope = (table: string, q: { newestFirst: boolean }) => ({ table, newestFirst: q.newestFirst });

/**
 * ListOrders' read: a customer's orders by order id (= creation time) within the query's
 * bounds, the status filter (which may make a page short) applied by DynamoDB; undefined
 * when the bounds hold no time at all. Pure, so the bench's direct Query is this one too.
 */
export function listOrdersRead(table: string, q: ListOrdersQuery): QueryPageParams | undefined {
  const fromMs = Math.max(0, q.created.fromMs ?? 0);
  const toMs = Math.min(MAX_ULID_MS, q.created.toMs ?? MAX_ULID_MS);
  if (fromMs > toMs) return undefined;
  const ids = orderIdRange(fromMs, toMs);
  return {
    table,
    pageKey: ["customer_id", "order_id"],
    keyCondition: "customer_id = :customer AND order_id BETWEEN :low AND :high",
    values: {
      ":customer": q.customerId,
      ":low": ids.low,
      ":high": ids.high,
      ...(q.status ? { ":status": q.status } : {}),
    },
    ...(q.status ? { filter: "#status = :status", names: { "#status": "status" } } : {}),
    forward: !q.newestFirst,
    resumeFromSortKey: { attribute: "order_id", between: { low: ":low", high: ":high" } },
    pageSize: q.pageSize,
    pageToken: q.pageToken,
    query: { op: "ListOrders", customer: q.customerId, status: q.status, fromMs, toMs, ...tokenScope(table, q) },
  };
}

export function createOrderStore(options: OrderStoreOptions) {
  const { client, tables, idempotency, pageTokens } = options;
  const clock = options.now ?? (() => new Date());
  const now = () => clock().toISOString();
  // Writers of one order in this process take turns (key-lock.ts): correctness rests on
  // the version condition, this only spares them lost races against each other.
  const withOrderLock = createKeyLock();
  const orderKey = (k: OrderKey) => ({ customer_id: k.customerId, order_id: k.orderId });

  async function readOrder(key: OrderKey, signal: AbortSignal | undefined): Promise<Order> {
    const stored = await getItem(client, { table: tables.orders, key: orderKey(key) }, signal);
    if (stored === undefined) throw orderNotFound(key.customerId, key.orderId);
    return orderFromStored(stored);
  }

  /** The items' current prices, read consistently in one BatchGet; every missing sku is named. */
  async function priceLines(
    lines: readonly { sku: string; quantity: bigint }[],
    signal: AbortSignal | undefined,
  ): Promise<OrderLine[]> {
    const found = await batchGet(
      client,
      tables.inventory,
      lines.map((l) => ({ sku: l.sku })),
      signal,
    );
    const bySku = new Map(found.map((s) => [readString(s, "sku"), s]));
    const missing = lines.filter((l) => !bySku.has(l.sku));
    if (missing.length > 0) {
      throw itemsNotFound(missing.map((l) => l.sku));
    }
    return lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      unitPrice: readMoney(bySku.get(l.sku)!, "price", "currency"),
    }));
  }

  /** One stock-taking write per line; a failed condition says which of the three conditions failed. */
  function takeStock(
    lines: readonly OrderLine[],
    field: (i: number) => string,
    shortages: StockShortage[],
    at: string,
  ) {
    return lines.map(
      (line, i): GuardedWrite => ({
        item: takeStockUpdate(tables.inventory, line, at),
        onConditionFailed: (old) => {
          if (old === undefined) return itemNotFound(line.sku);
          const price = readMoney(old, "price", "currency");
          if (price.currencyCode !== line.unitPrice.currencyCode || toNanos(price) !== toNanos(line.unitPrice)) {
            return priceChanged(line.sku);
          }
          const shortage = {
            field: field(i),
            sku: line.sku,
            requested: line.quantity,
            available: readBigInt(old, "quantity"),
          };
          shortages.push(shortage);
          return linesOutOfStock([shortage]);
        },
      }),
    );
  }

  /** Every short line named at once; any other failure (a price moved, an item gone) first. */
  function combineStockFailures(shortages: StockShortage[]) {
    return (errors: Error[]): Error => {
      const other = errors.find((e) => !DomainError.match(e, "OUT_OF_STOCK"));
      return other ?? linesOutOfStock(shortages);
    };
  }

  function orderCurrency(lines: readonly OrderLine[]): string {
    const currency = lines[0]!.unitPrice.currencyCode;
    const other = lines.find((l) => l.unitPrice.currencyCode !== currency);
    if (other) throw orderCurrencyMismatch(other.sku, other.unitPrice.currencyCode, currency);
    return currency;
  }

  function totalOf(currency: string, lines: readonly OrderLine[]) {
    const total = orderTotal(currency, lines);
    if (total === undefined) throw invalidField("lines", "the order total is larger than Money can carry");
    return total;
  }

  async function placeOrder(
    n: NewOrder,
    record: ((order: Order) => GuardedWrite) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Order> {
    const lines = await priceLines(n.lines, signal);
    const currency = orderCurrency(lines);
    // The id carries the creation time, and created_at is read back from it, so the two
    // never differ (ListOrders' time bounds are a range of ids).
    const orderId = timeOrderedId("ORD", clock());
    const createdAt = new Date(orderIdTime(orderId)).toISOString();
    const order: Order = {
      customerId: n.customerId,
      orderId,
      lines,
      total: totalOf(currency, lines),
      status: "PENDING",
      shippingAddress: n.shippingAddress,
      version: 1n,
      createdAt,
      updatedAt: createdAt,
    };
    const shortages: StockShortage[] = [];
    const writes: GuardedWrite[] = [
      {
        item: {
          Put: {
            TableName: tables.orders,
            Item: orderToStored(order),
            ConditionExpression: "attribute_not_exists(order_id)",
          },
        },
        // The id is new to this attempt, so an order already under it is this attempt's own,
        // applied by an earlier try whose answer was lost (a store that does not honour
        // ClientRequestToken would repeat it): the order exists, which is success.
        onConditionFailed: () => new AppliedEarlier(),
      },
      ...takeStock(lines, (i) => `lines[${i}].quantity`, shortages, createdAt),
      ...(record ? [record(order)] : []),
    ];
    try {
      await transactWrite(client, writes, {
        signal,
        // Per attempt: each attempt has its own order id.
        tokenSeed: n.requestId === "" ? undefined : `${n.requestId}#${orderId}`,
        combineFailures: combineStockFailures(shortages),
      });
    } catch (err) {
      if (err instanceof AppliedEarlier) return order;
      throw err;
    }
    return order;
  }

  /** Reads the order and runs `change` on it until it is written or refused; `change` throws to refuse. */
  async function changeOrder<T>(
    key: OrderKey,
    expectedVersion: bigint,
    signal: AbortSignal | undefined,
    change: (current: Order, lostRace: () => Error) => Promise<T | undefined>,
  ): Promise<T> {
    return withOrderLock(`${key.customerId}/${key.orderId}`, async () => {
      for (let attempt = 1; attempt <= MAX_OPTIMISTIC_ATTEMPTS; attempt++) {
        const current = await readOrder(key, signal);
        if (expectedVersion !== 0n && current.version !== expectedVersion) {
          throw versionMismatch(orderMetadata(key), expectedVersion, current.version);
        }
        let lost = false;
        const result = await change(current, () => {
          lost = true;
          return new Error("the order changed since it was read");
        }).catch((err: unknown) => {
          if (lost) return undefined;
          throw err;
        });
        if (!lost) return result as T;
        if (expectedVersion !== 0n) throw versionNoLongerCurrent(orderMetadata(key), expectedVersion);
      }
      throw concurrentChanges(orderMetadata(key));
    });
  }

  async function ordersPage(params: QueryPageParams, signal: AbortSignal | undefined): Promise<Page<Order>> {
    const page = await queryPage(client, pageTokens, params, signal);
    return { items: page.items.map(orderFromStored), nextPageToken: page.nextPageToken };
  }

  async function readRefund(orderId: string, signal: AbortSignal | undefined): Promise<Refund | undefined> {
    const stored = await getItem(client, { table: tables.refunds, key: { refund_id: refundIdOf(orderId) } }, signal);
    return stored === undefined ? undefined : refundFromStored(stored);
  }

  async function cancel(
    key: OrderKey,
    reason: string,
    requestId: string,
    record: ((result: CancelResult) => GuardedWrite) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<CancelResult> {
    return changeOrder(key, 0n, signal, async (current, lostRace) => {
      // Cancelled already (by an earlier call, or a twin of this one): the same answer again.
      if (current.status === "CANCELLED") return { order: current, refund: await readRefund(current.orderId, signal) };
      if (!canTransition(current.status, "CANCELLED")) {
        throw invalidTransition(current.orderId, current.status, "CANCELLED");
      }
      const at = now();
      const next: Order = { ...current, status: "CANCELLED", version: current.version + 1n, updatedAt: at };
      const refund: Refund = {
        refundId: refundIdOf(current.orderId),
        customerId: current.customerId,
        orderId: current.orderId,
        amount: current.total,
        createdAt: at,
      };
      const result = { order: next, refund };
      const writes: GuardedWrite[] = [
        {
          item: replaceOrderUpdate(tables.orders, current, next, { cancel_reason: reason }),
          onConditionFailed: lostRace,
        },
        ...current.lines.map(
          (line): GuardedWrite => ({
            item: restoreStockUpdate(tables.inventory, line, at),
            onConditionFailed: (old) =>
              old === undefined
                ? restockImpossible(line.sku)
                : invalidField("lines", `stock of ${line.sku} would overflow`),
          }),
        ),
        {
          item: {
            Put: {
              TableName: tables.refunds,
              Item: { ...refundToStored(refund), reason },
              ConditionExpression: "attribute_not_exists(refund_id)",
            },
          },
          onConditionFailed: lostRace,
        },
        ...(record ? [record(result)] : []),
      ];
      await transactWrite(client, writes, {
        signal,
        tokenSeed: requestId === "" ? undefined : `${requestId}#${current.version}`,
      });
      return result;
    });
  }

  return {
    /** With a request_id, at most one order per request_id (idempotency.ts); see the proto for racing twins. */
    createOrder(n: NewOrder, signal?: AbortSignal): Promise<Order> {
      if (n.requestId === "") return placeOrder(n, undefined, signal);
      const request = {
        requestId: n.requestId,
        operation: "CreateOrder",
        command: { customerId: n.customerId, lines: n.lines, shippingAddress: n.shippingAddress ?? null },
      };
      return idempotency.run<Order>(request, signal, (record) => placeOrder(n, record, signal));
    },

    async getOrder(key: OrderKey, readMask: readonly string[], consistent: boolean, signal?: AbortSignal) {
      const projection = buildProjection(readMask, ORDER_PROJECTION, ORDER_KEY_ATTRIBUTES);
      const stored = await getItem(
        client,
        { table: tables.orders, key: orderKey(key), projection, consistent },
        signal,
      );
      if (stored === undefined) throw orderNotFound(key.customerId, key.orderId);
      return orderViewFromStored(stored);
    },

    /** Orders in the order of `keys`; the keys with no order in `missing`, in the same order. */
    async batchGetOrders(
      keys: readonly OrderKey[],
      signal?: AbortSignal,
    ): Promise<{ orders: Order[]; missing: OrderKey[] }> {
      const found = await batchGet(client, tables.orders, keys.map(orderKey), signal);
      const byKey = new Map(found.map((s) => [`${readString(s, "customer_id")}/${readString(s, "order_id")}`, s]));
      const orders: Order[] = [];
      const missing: OrderKey[] = [];
      for (const key of keys) {
        const stored = byKey.get(`${key.customerId}/${key.orderId}`);
        if (stored === undefined) missing.push(key);
        else orders.push(orderFromStored(stored));
      }
      return { orders, missing };
    },

    /** A customer's orders by order id (= creation time); the status filter may make a page short. */
    async listOrders(q: ListOrdersQuery, signal?: AbortSignal): Promise<Page<Order>> {
      const read = listOrdersRead(tables.orders, q);
      return read === undefined ? { items: [], nextPageToken: "" } : ordersPage(read, signal);
    },

    /** Orders in one status by creation time, from the StatusIndex GSI (eventually consistent). */
    async listOrdersByStatus(q: ListOrdersByStatusQuery, signal?: AbortSignal): Promise<Page<Order>> {
      const fromMs = Math.max(0, q.created.fromMs ?? 0);
      const toMs = Math.min(MAX_STORED_TIME_MS, q.created.toMs ?? MAX_STORED_TIME_MS);
      if (fromMs > toMs) return { items: [], nextPageToken: "" };
      return ordersPage(
        {
          table: tables.orders,
          index: tables.statusIndex,
          pageKey: ["customer_id", "order_id", "status", "created_at"],
          keyCondition: "#status = :status AND created_at BETWEEN :from AND :to",
          names: { "#status": "status" },
          values: { ":status": q.status, ":from": new Date(fromMs).toISOString(), ":to": new Date(toMs).toISOString() },
          forward: !q.newestFirst,
          pageSize: q.pageSize,
          pageToken: q.pageToken,
          query: { op: "ListOrdersByStatus", status: q.status, fromMs, toMs, ...tokenScope(tables.orders, q) },
        },
        signal,
      );
    },

    /** One conditional UpdateItem; CANCELLED only through cancelOrder (it restocks and refunds). */
    async updateOrderStatus(key: OrderKey, to: OrderStatus, expectedVersion: bigint, signal?: AbortSignal) {
      const from = to === "CANCELLED" ? [] : statusesBefore(to);
      if (from.length === 0) {
        const current = await readOrder(key, signal);
        if (to === "CANCELLED") throw orderStatusRefused(key.orderId, current.status, "cancel it with CancelOrder");
        throw invalidTransition(key.orderId, current.status, to);
      }
      const updated = await writeOnce(
        client,
        changeStatusUpdate(tables.orders, key, to, from, expectedVersion, now()),
        (old) => {
          if (old === undefined) return orderNotFound(key.customerId, key.orderId);
          const version = readBigInt(old, "version");
          if (expectedVersion !== 0n && version !== expectedVersion) {
            return versionMismatch(orderMetadata(key), expectedVersion, version);
          }
          return invalidTransition(key.orderId, readStatus(old), to);
        },
        signal,
      );
      return orderFromStored(updated ?? {});
    },

    /** PENDING orders only: the line's stock, the lines and the total change in one transaction. */
    addOrderLine(
      key: OrderKey,
      line: { sku: string; quantity: bigint },
      expectedVersion: bigint,
      signal?: AbortSignal,
    ) {
      return changeOrder<Order>(key, expectedVersion, signal, async (current, lostRace) => {
        if (current.status !== "PENDING") {
          throw orderStatusRefused(key.orderId, current.status, "lines can be added to PENDING orders only");
        }
        if (current.lines.some((l) => l.sku === line.sku)) {
          throw invalidField("line.sku", `${line.sku} is a line of the order already`);
        }
        if (current.lines.length >= MAX_ORDER_LINES) {
          throw invalidField("line", `the order has ${MAX_ORDER_LINES} lines, the most an order can have`);
        }
        const [priced] = await priceLines([line], signal);
        if (priced!.unitPrice.currencyCode !== current.total.currencyCode) {
          throw orderCurrencyMismatch(line.sku, priced!.unitPrice.currencyCode, current.total.currencyCode);
        }
        const lines = [...current.lines, priced!];
        const at = now();
        const next: Order = {
          ...current,
          lines,
          total: totalOf(current.total.currencyCode, lines),
          version: current.version + 1n,
          updatedAt: at,
        };
        const shortages: StockShortage[] = [];
        await transactWrite(
          client,
          [
            { item: replaceOrderUpdate(tables.orders, current, next), onConditionFailed: lostRace },
            ...takeStock([priced!], () => "line.quantity", shortages, at),
          ],
          { signal, combineFailures: combineStockFailures(shortages) },
        );
        return next;
      });
    },

    /**
     * Status CANCELLED, every line's stock back and one refund (id derived from the order),
     * in one transaction. Cancelling a cancelled order answers the same order and refund:
     * two cancels, even concurrent, make one refund.
     */
    cancelOrder(key: OrderKey, reason: string, requestId: string, signal?: AbortSignal): Promise<CancelResult> {
      if (requestId === "") return cancel(key, reason, requestId, undefined, signal);
      const request = { requestId, operation: "CancelOrder", command: { ...key, reason } };
      return idempotency.run<CancelResult>(request, signal, (record) => cancel(key, reason, requestId, record, signal));
    },

    /** CANCELLED orders only; one conditional DeleteItem. */
    async deleteOrder(key: OrderKey, signal?: AbortSignal): Promise<Order> {
      const deleted = await writeOnce(
        client,
        {
          Delete: {
            TableName: tables.orders,
            Key: orderKey(key),
            ConditionExpression: "attribute_exists(order_id) AND #status = :cancelled",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":cancelled": "CANCELLED" },
            ReturnValues: "ALL_OLD" as const,
          },
        },
        (old) =>
          old === undefined
            ? orderNotFound(key.customerId, key.orderId)
            : orderStatusRefused(key.orderId, readStatus(old), "only CANCELLED orders can be deleted"),
        signal,
      );
      return orderFromStored(deleted ?? {});
    },
  };
}

/** The transaction was applied by an earlier try of the same attempt (see placeOrder). */
class AppliedEarlier extends Error {
  override readonly name = "AppliedEarlier";
}

export interface CancelResult {
  order: Order;
  /** Undefined only for an order cancelled without one (imported as CANCELLED). */
  refund: Refund | undefined;
}

function orderMetadata(key: OrderKey): Record<string, string> {
  return { customer_id: key.customerId, order_id: key.orderId };
}

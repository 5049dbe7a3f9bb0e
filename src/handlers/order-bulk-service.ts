/** OrderService's bulk RPCs: ImportOrders, ScanOrders, CountOrdersByStatus, PurgeOrders. */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { invalidField } from "../domain/errors.js";
import { type Money, moneyViolations, toNanos } from "../domain/money.js";
import {
  isOrderId,
  MAX_LINE_QUANTITY,
  MAX_ORDER_LINES,
  ORDER_STATUSES,
  type Order,
  type OrderLine,
  type OrderStatus,
  orderTotal,
} from "../domain/orders.js";
import type {
  ImportOrdersRequest,
  OrderLine as OrderLineMessage,
  Order as OrderMessage,
  OrderService,
} from "../gen/commerce/v1/order_service_pb.js";
import { orderIdTime } from "../store/ids.js";
import type { OrderBulkStore } from "../store/order-bulk-store.js";
import { MAX_STORED_TIME_MS } from "../store/order-mapping.js";
import { moneyFromProto } from "./convert.js";
import { addressFromProto, orderToProto, statusEnumName, timestampCeilMs, timestampFloorMs } from "./order-convert.js";
import { totalSegmentsOf, Violations } from "./validate.js";

type BulkMethods = "importOrders" | "scanOrders" | "countOrdersByStatus" | "purgeOrders";

/** Orders in one ImportOrders message, at most. */
export const MAX_IMPORT_BATCH = 100;
/** Messages in one ImportOrders stream, at most: one call stays well inside any deadline. */
export const MAX_IMPORT_MESSAGES = 1000;
const MAX_IMPORT_ORDERS = MAX_IMPORT_MESSAGES * MAX_IMPORT_BATCH;
/** Statuses PurgeOrders deletes when the request names none. */
const DEFAULT_PURGE_STATUSES: readonly OrderStatus[] = ["DELIVERED", "CANCELLED"];

/** Stored times are ISO-8601 with milliseconds: a finer timestamp would not come back as sent. */
function checkWholeMs(v: Violations, field: string, t: Timestamp | undefined): number | undefined {
  if (t === undefined) return undefined;
  v.timestamp(field, t).check(t.nanos % 1_000_000 === 0, field, "must be a whole millisecond");
  return timestampFloorMs(t);
}

/** Money rules, reported to `v`; true when `m` broke none. */
function checkMoney(v: Violations, field: string, m: Money | undefined): m is Money {
  const found = moneyViolations(field, m, { nonNegative: true });
  for (const f of found) v.add(f.field, f.description);
  return found.length === 0;
}

/**
 * One imported order, checked whole (every violation named `orders[position]...`) and
 * converted. Unset created_at is the time the order id carries; unset updated_at is
 * created_at; version 0 is 1.
 */
function importedOrder(p: string, o: OrderMessage): Order {
  const v = new Violations().id(`${p}.customer_id`, o.customerId);
  const idOk = isOrderId(o.orderId);
  v.orderId(`${p}.order_id`, o.orderId);
  const idMs = idOk ? orderIdTime(o.orderId) : 0;
  v.check(idMs <= MAX_STORED_TIME_MS, `${p}.order_id`, "carries a time after 9999-12-31");
  const createdMs = checkWholeMs(v, `${p}.created_at`, o.createdAt);
  if (idOk && createdMs !== undefined) {
    v.check(createdMs === idMs, `${p}.created_at`, "must be the time the order_id carries, or unset");
  }
  const updatedMs = checkWholeMs(v, `${p}.updated_at`, o.updatedAt);
  if (idOk && updatedMs !== undefined) v.check(updatedMs >= idMs, `${p}.updated_at`, "must not be before created_at");
  const status = v.orderStatus(`${p}.status`, o.status, true);
  v.check(o.version >= 0n, `${p}.version`, "must be at least 1 (0 means 1)");

  const total = moneyFromProto(o.total);
  const totalOk = checkMoney(v, `${p}.total`, total);
  const lines = checkLines(v, p, o.lines, totalOk ? total.currencyCode : undefined);
  if (totalOk && lines !== undefined) {
    const sum = orderTotal(total.currencyCode, lines);
    v.check(
      sum !== undefined && toNanos(sum) === toNanos(total),
      `${p}.total`,
      "must be the exact sum of quantity * unit_price over the lines",
    );
  }
  const a = o.shippingAddress;
  if (a !== undefined) v.address(`${p}.shipping_address`, a);
  v.done();
  const createdAt = new Date(idMs).toISOString();
  return {
    customerId: o.customerId,
    orderId: o.orderId,
    lines: lines!,
    total: total!,
    status: status!,
    shippingAddress: addressFromProto(a),
    version: o.version === 0n ? 1n : o.version,
    createdAt,
    updatedAt: updatedMs === undefined ? createdAt : new Date(updatedMs).toISOString(),
  };
}

/**
 * Lines of an imported order: 1-50, distinct skus, quantities in range, valid prices all in
 * the total's currency. undefined when any line is invalid (then the total is not checked).
 */
function checkLines(
  v: Violations,
  p: string,
  lines: readonly OrderLineMessage[],
  currency: string | undefined,
): OrderLine[] | undefined {
  const skus = lines.map((l) => l.sku);
  v.distinct(`${p}.lines`, skus, 1, MAX_ORDER_LINES);
  let ok = lines.length >= 1 && lines.length <= MAX_ORDER_LINES && new Set(skus).size === skus.length;
  const out: OrderLine[] = [];
  v.each(lines, MAX_ORDER_LINES, (l, j) => {
    const q = `${p}.lines[${j}]`;
    v.id(`${q}.sku`, l.sku);
    const quantityOk = l.quantity >= 1n && l.quantity <= MAX_LINE_QUANTITY;
    v.check(quantityOk, `${q}.quantity`, `must be between 1 and ${MAX_LINE_QUANTITY}`);
    const price = moneyFromProto(l.unitPrice);
    const priceOk = checkMoney(v, `${q}.unit_price`, price);
    const sameCurrency = !priceOk || currency === undefined || price.currencyCode === currency;
    v.check(sameCurrency, `${q}.unit_price.currency_code`, `must be the order's currency (total's, ${currency})`);
    if (priceOk && quantityOk && sameCurrency) out.push({ sku: l.sku, quantity: l.quantity, unitPrice: price });
    else ok = false;
  });
  return ok && currency !== undefined ? out : undefined;
}

/**
 * The stream's messages. One the transport cannot read (undecodable, not decompressing,
 * cut short: INVALID_ARGUMENT) fails the call as an invalid `orders` message, a domain
 * error, so the store adds how many orders were written before it (API.md: the error says
 * so); the transport's own error would not.
 */
async function* readableMessages(requests: AsyncIterable<ImportOrdersRequest>): AsyncGenerator<ImportOrdersRequest> {
  let message = 0;
  try {
    for await (const req of requests) {
      yield req;
      message++;
    }
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.InvalidArgument) {
      throw invalidField("orders", `message ${message} of the stream cannot be read: ${err.rawMessage}`);
    }
    throw err;
  }
}

/**
 * Each message's orders, validated whole before any of them is written: an invalid order
 * fails the call naming its position in the stream, and nothing of its message is written.
 * A stream carries at most MAX_IMPORT_MESSAGES messages (so at most MAX_IMPORT_ORDERS orders).
 */
async function* validatedBatches(requests: AsyncIterable<ImportOrdersRequest>): AsyncGenerator<Order[]> {
  let position = 0;
  let message = 0;
  for await (const req of readableMessages(requests)) {
    if (message >= MAX_IMPORT_MESSAGES) {
      throw invalidField(
        "orders",
        `a stream may carry at most ${MAX_IMPORT_MESSAGES} messages (${MAX_IMPORT_ORDERS} orders); send the rest in another call`,
      );
    }
    if (req.orders.length > MAX_IMPORT_BATCH) {
      throw invalidField(
        "orders",
        `must have at most ${MAX_IMPORT_BATCH} orders a message (message ${message} has ${req.orders.length})`,
      );
    }
    const orders = req.orders.map((o, i) => importedOrder(`orders[${position + i}]`, o));
    position += orders.length;
    message++;
    yield orders;
  }
}

export function createOrderBulkHandlers(bulk: OrderBulkStore): Pick<ServiceImpl<typeof OrderService>, BulkMethods> {
  return {
    async importOrders(requests, ctx) {
      return { written: BigInt(await bulk.importOrders(validatedBatches(requests), ctx.signal)) };
    },

    async *scanOrders(req, ctx) {
      const v = new Violations();
      const totalSegments = v.totalSegments("total_segments", req.totalSegments);
      const status = v.orderStatus("status", req.status, false);
      const minTotal: Money | undefined = moneyFromProto(req.minTotal);
      if (minTotal !== undefined) v.money("min_total", minTotal, {});
      v.readMask("read_mask", req.readMask).done();
      const readMask = req.readMask?.paths ?? [];
      for await (const orders of bulk.scanOrders({ totalSegments, status, minTotal, readMask }, ctx.signal)) {
        yield { orders: orders.map(orderToProto) };
      }
    },

    async countOrdersByStatus(req, ctx) {
      const counts = await bulk.countOrdersByStatus(totalSegmentsOf(req.totalSegments), ctx.signal);
      return {
        counts: Object.fromEntries(Object.entries(counts).map(([s, n]) => [statusEnumName(s as OrderStatus), n])),
      };
    },

    async purgeOrders(req, ctx) {
      const v = new Violations().id("customer_id", req.customerId);
      v.check(req.createdBefore !== undefined, "created_before", "is required").timestamp(
        "created_before",
        req.createdBefore,
      );
      const statuses = new Set<OrderStatus>();
      v.check(
        req.statuses.length <= ORDER_STATUSES.length,
        "statuses",
        `must have at most ${ORDER_STATUSES.length} entries`,
      ).each(req.statuses, ORDER_STATUSES.length, (s, i) => {
        const known = v.orderStatus(`statuses[${i}]`, s, true);
        if (known !== undefined) statuses.add(known);
      });
      v.done();
      // Strictly before: the last whole millisecond before the bound.
      const lastMs = timestampCeilMs(req.createdBefore)! - 1;
      if (lastMs < 0) return { deleted: 0n };
      const deleted = await bulk.purgeOrders(
        {
          customerId: req.customerId,
          createdAtOrBeforeMs: lastMs,
          statuses: statuses.size > 0 ? [...statuses] : DEFAULT_PURGE_STATUSES,
        },
        ctx.signal,
      );
      return { deleted: BigInt(deleted) };
    },
  };
}

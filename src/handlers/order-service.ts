/**
 * OrderService: validate → store → map. No transport code, no DynamoDB details. The bulk
 * RPCs (import, scan, counts, purge) live in order-bulk-service.ts.
 */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, type OrderKey } from "../domain/orders.js";
import type { OrderLine as LineMessage, OrderService } from "../gen/commerce/v1/order_service_pb.js";
import type { OrderBulkStore } from "../store/order-bulk-store.js";
import type { CreatedWithin, OrderStore } from "../store/order-store.js";
import { createOrderBulkHandlers } from "./order-bulk-service.js";
import { addressFromProto, orderToProto, refundToProto, timestampCeilMs } from "./order-convert.js";
import { Violations } from "./validate.js";

export const MAX_BATCH_GET_ORDERS = 100;
const MAX_CANCEL_REASON = 500;

/** customer_id and order_id of a request, both ids. */
function checkKey(v: Violations, key: OrderKey, prefix = ""): Violations {
  return v.id(`${prefix}customer_id`, key.customerId).orderId(`${prefix}order_id`, key.orderId);
}

/** A line as a client sends it: sku and quantity. unit_price is output only and ignored (AIP-203). */
function checkLine(v: Violations, field: string, line: LineMessage): Violations {
  return v
    .id(`${field}.sku`, line.sku)
    .check(
      line.quantity >= 1n && line.quantity <= MAX_LINE_QUANTITY,
      `${field}.quantity`,
      `must be between 1 and ${MAX_LINE_QUANTITY}`,
    );
}

/**
 * created_after (inclusive) / created_before (exclusive) as inclusive ms bounds. Stored times
 * have millisecond precision: at or after t means from ceil(t); before t means up to
 * ceil(t) − 1 ms.
 */
function createdWithin(v: Violations, after: Timestamp | undefined, before: Timestamp | undefined): CreatedWithin {
  v.timestamp("created_after", after).timestamp("created_before", before);
  const afterMs = timestampCeilMs(after);
  const beforeMs = timestampCeilMs(before);
  if (after && before) {
    v.check(
      after.seconds < before.seconds || (after.seconds === before.seconds && after.nanos < before.nanos),
      "created_before",
      "must be later than created_after",
    );
  }
  return { fromMs: afterMs, toMs: beforeMs === undefined ? undefined : beforeMs - 1 };
}

export function createOrderService(
  orders: OrderStore,
  bulk: OrderBulkStore,
): Partial<ServiceImpl<typeof OrderService>> {
  return {
    ...createOrderBulkHandlers(bulk),

    async createOrder(req, ctx) {
      const v = new Violations().id("customer_id", req.customerId);
      v.distinct(
        "lines",
        req.lines.map((l) => l.sku),
        1,
        MAX_ORDER_LINES,
      );
      v.each(req.lines, MAX_ORDER_LINES, (line, i) => checkLine(v, `lines[${i}]`, line));
      if (req.shippingAddress === undefined) v.add("shipping_address", "is required");
      else v.address("shipping_address", req.shippingAddress);
      v.requestId("request_id", req.requestId, false).done();
      const order = await orders.createOrder(
        {
          customerId: req.customerId,
          lines: req.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
          shippingAddress: addressFromProto(req.shippingAddress),
          requestId: req.requestId,
        },
        ctx.signal,
      );
      return { order: orderToProto(order) };
    },

    async getOrder(req, ctx) {
      checkKey(new Violations(), req).readMask("read_mask", req.readMask).done();
      const order = await orders.getOrder(req, req.readMask?.paths ?? [], req.consistentRead, ctx.signal);
      return { order: orderToProto(order) };
    },

    async batchGetOrders(req, ctx) {
      const v = new Violations().distinct(
        "keys",
        req.keys.map((k) => `${k.customerId}\u0000${k.orderId}`),
        1,
        MAX_BATCH_GET_ORDERS,
      );
      v.each(req.keys, MAX_BATCH_GET_ORDERS, (key, i) => checkKey(v, key, `keys[${i}].`));
      v.done();
      const keys = req.keys.map((k) => ({ customerId: k.customerId, orderId: k.orderId }));
      const { orders: found, missing } = await orders.batchGetOrders(keys, ctx.signal);
      return { orders: found.map(orderToProto), missing };
    },

    async listOrders(req, ctx) {
      const v = new Violations().id("customer_id", req.customerId);
      const pageSize = v.pageSize("page_size", req.pageSize);
      const status = v.orderStatus("status", req.status, false);
      const created = createdWithin(v, req.createdAfter, req.createdBefore);
      v.done();
      const page = await orders.listOrders(
        {
          customerId: req.customerId,
          status,
          created,
          newestFirst: req.newestFirst,
          pageSize,
          pageToken: req.pageToken,
        },
        ctx.signal,
      );
      return { orders: page.items.map(orderToProto), nextPageToken: page.nextPageToken };
    },

    async listOrdersByStatus(req, ctx) {
      const v = new Violations();
      const pageSize = v.pageSize("page_size", req.pageSize);
      const status = v.orderStatus("status", req.status, true);
      const created = createdWithin(v, req.createdAfter, req.createdBefore);
      v.done();
      const page = await orders.listOrdersByStatus(
        { status: status!, created, newestFirst: req.newestFirst, pageSize, pageToken: req.pageToken },
        ctx.signal,
      );
      return { orders: page.items.map(orderToProto), nextPageToken: page.nextPageToken };
    },

    async updateOrderStatus(req, ctx) {
      const v = checkKey(new Violations(), req);
      const status = v.orderStatus("status", req.status, true);
      v.expectedVersion("expected_version", req.expectedVersion).done();
      const order = await orders.updateOrderStatus(req, status!, req.expectedVersion, ctx.signal);
      return { order: orderToProto(order) };
    },

    async addOrderLine(req, ctx) {
      const v = checkKey(new Violations(), req);
      if (req.line === undefined) v.add("line", "is required");
      else checkLine(v, "line", req.line);
      v.expectedVersion("expected_version", req.expectedVersion).done();
      const line = { sku: req.line!.sku, quantity: req.line!.quantity };
      const order = await orders.addOrderLine(req, line, req.expectedVersion, ctx.signal);
      return { order: orderToProto(order) };
    },

    async cancelOrder(req, ctx) {
      checkKey(new Violations(), req)
        .text("reason", req.reason, 0, MAX_CANCEL_REASON)
        .requestId("request_id", req.requestId, false)
        .done();
      const { order, refund } = await orders.cancelOrder(req, req.reason, req.requestId, ctx.signal);
      return { order: orderToProto(order), refund: refund === undefined ? undefined : refundToProto(refund) };
    },

    async deleteOrder(req, ctx) {
      checkKey(new Violations(), req).done();
      return { order: orderToProto(await orders.deleteOrder(req, ctx.signal)) };
    },
  };
}

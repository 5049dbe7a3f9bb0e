import { describe, expect, it } from "vitest";
import type { Order } from "../../src/domain/orders.js";
import { isOrderId } from "../../src/domain/orders.js";
import { orderIdRange, orderIdTime, timeOrderedId } from "../../src/store/ids.js";
import {
  ORDER_PROJECTION,
  orderFromStored,
  orderToStored,
  orderViewFromStored,
  refundFromStored,
  refundToStored,
} from "../../src/store/order-mapping.js";
import { eur } from "../support/money.js";

const order: Order = {
  customerId: "c-1",
  orderId: "ORD-01M85GQ9AMGT6V8NEJMAHGPZ6F",
  lines: [
    { sku: "a", quantity: 2n, unitPrice: eur(1n, 500_000_000) },
    { sku: "b", quantity: 1n, unitPrice: eur(0n, 1) },
  ],
  total: eur(3n, 1),
  status: "CONFIRMED",
  shippingAddress: { street: "1 Main", city: "Town", region: "", postalCode: "1000", countryCode: "BE" },
  version: 2n,
  createdAt: "2026-11-24T00:00:00.000Z",
  updatedAt: "2026-11-24T00:00:01.000Z",
};

describe("order mapping", () => {
  it("round-trips an order exactly", () => {
    // Numbers come back from DynamoDB as NumberValue (wrapNumbers); the mapping reads their text.
    const stored = JSON.parse(JSON.stringify(orderToStored(order), (_k, v) => (typeof v === "bigint" ? `${v}` : v)));
    expect(orderFromStored(stored)).toEqual(order);
    expect(orderViewFromStored({ customer_id: "c-1", order_id: order.orderId, status: "SHIPPED" })).toEqual({
      customerId: "c-1",
      orderId: order.orderId,
      status: "SHIPPED",
    });
    expect(ORDER_PROJECTION["total"]).toEqual(["total", "currency"]);
  });

  it("round-trips a refund", () => {
    const refund = { refundId: "RFD-1", customerId: "c", orderId: "o", amount: eur(5n, 5), createdAt: "t" };
    const stored = JSON.parse(JSON.stringify(refundToStored(refund)));
    expect(refundFromStored(stored)).toEqual(refund);
  });
});

describe("order ids", () => {
  it("carry their creation time, and a time range is an id range", () => {
    const at = new Date("2026-11-24T10:00:00.123Z");
    const id = timeOrderedId("ORD", at);
    expect(isOrderId(id)).toBe(true);
    expect(isOrderId("ORD-nope")).toBe(false);
    expect(isOrderId("ORD-81M85GQ9AMGT6V8NEJMAHGPZ6F")).toBe(false); // time past 48 bits
    expect(orderIdTime(id)).toBe(at.getTime());
    const inside = orderIdRange(at.getTime(), at.getTime());
    expect(id > inside.low && id < inside.high).toBe(true);
    const after = orderIdRange(at.getTime() + 1, at.getTime() + 10);
    expect(id < after.low).toBe(true);
  });

  it("are distinct, increase within a millisecond, and draw every character of their random part", () => {
    // 2,000 ids draw 32,000 random bytes: the pool behind them is refilled several times.
    const ids = Array.from({ length: 2_000 }, (_, i) => timeOrderedId("TRF", new Date(1_700_000_000_000 + 2 * i)));
    expect(new Set(ids).size).toBe(ids.length);
    const characters = new Set(ids.flatMap((id) => [...id.slice(-16)]));
    expect([...characters].sort().join("")).toBe("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    const at = new Date(1_800_000_000_000);
    const sameMillisecond = Array.from({ length: 5 }, () => timeOrderedId("ORD", at));
    expect([...sameMillisecond].sort()).toEqual(sameMillisecond);
    expect(new Set(sameMillisecond).size).toBe(5);
  });
});

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

  it("draw a fresh, uniform random part in each new millisecond, and increase within one", () => {
    // Later than any id made before in this file: ulid draws fresh bytes only when the time
    // moves forward (otherwise it increments the last random part). 2,000 ids draw 32,000
    // bytes, so the 4 KiB pool behind them is refilled seven times.
    const start = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 2_000 }, (_, i) => timeOrderedId("TRF", new Date(start + 2 * i)));
    expect(ids.map(orderIdTime)).toEqual(ids.map((_, i) => start + 2 * i));
    // A constant source, or a pool never refilled (it would repeat every 256 ids), repeats.
    expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
    const counts = new Map<string, number>();
    for (const id of ids) for (const c of id.slice(-16)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect([...counts.keys()].sort().join("")).toBe("0123456789ABCDEFGHJKMNPQRSTVWXYZ");
    // 1,000 of each expected, standard deviation about 31.
    expect(Math.min(...counts.values())).toBeGreaterThan(850);
    expect(Math.max(...counts.values())).toBeLessThan(1_150);
    const at = new Date(Date.UTC(2031, 0, 1));
    const sameMillisecond = Array.from({ length: 5 }, () => timeOrderedId("ORD", at));
    expect([...sameMillisecond].sort()).toEqual(sameMillisecond);
    expect(new Set(sameMillisecond).size).toBe(5);
  });
});

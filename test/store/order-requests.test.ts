/** The order store's request builders, without I/O. */
import { describe, expect, it } from "vitest";
import type { Order } from "../../src/domain/orders.js";
import {
  changeStatusUpdate,
  refundIdOf,
  replaceOrderUpdate,
  restoreStockUpdate,
  takeStockUpdate,
} from "../../src/store/order-store.js";
import { eur } from "../support/money.js";

const order: Order = {
  customerId: "c",
  orderId: "ORD-01M85GQ9AMGT6V8NEJMAHGPZ6F",
  lines: [{ sku: "a", quantity: 2n, unitPrice: eur(1n) }],
  total: eur(2n),
  status: "PENDING",
  shippingAddress: undefined,
  version: 3n,
  createdAt: "2026-11-24T00:00:00.000Z",
  updatedAt: "2026-11-24T00:00:00.000Z",
};

describe("order requests", () => {
  it("takes stock only if there is enough and the price is still the one the total used", () => {
    const { Update } = takeStockUpdate("Inventory", { sku: "a", quantity: 2n, unitPrice: eur(1n, 5) }, "now");
    expect(Update.ConditionExpression).toBe(
      "attribute_exists(sku) AND quantity >= :q AND price = :price AND currency = :currency",
    );
    expect(Update.ExpressionAttributeValues[":q"]).toBe(2n);
    expect(String(Update.ExpressionAttributeValues[":price"].value)).toBe("1.000000005");
  });

  it("restores stock only into an item that still exists, below the ceiling", () => {
    const { Update } = restoreStockUpdate("Inventory", { sku: "a", quantity: 2n }, "now");
    expect(Update.ConditionExpression).toBe("attribute_exists(sku) AND quantity <= :room");
    expect(Update.UpdateExpression).toContain("quantity = quantity + :q");
  });

  it("changes status only from the statuses that may move there, and at the expected version", () => {
    const key = { customerId: "c", orderId: "o" };
    const { Update } = changeStatusUpdate("Orders", key, "SHIPPED", ["CONFIRMED"], 4n, "now");
    expect(Update.ConditionExpression).toBe(
      "attribute_exists(order_id) AND #status IN (:from0) AND version = :expected",
    );
    expect(Update.ExpressionAttributeValues).toMatchObject({
      ":from0": "CONFIRMED",
      ":to": "SHIPPED",
      ":expected": 4n,
    });
    const unchecked = changeStatusUpdate("Orders", key, "CONFIRMED", ["PENDING"], 0n, "now").Update;
    expect(unchecked.ConditionExpression).not.toContain("version");
  });

  it("replaces an order only at the version it was read, every name through a placeholder", () => {
    const next = { ...order, version: 4n, status: "CANCELLED" as const };
    const { Update } = replaceOrderUpdate("Orders", order, next, { cancel_reason: "r" });
    expect(Update.ConditionExpression).toBe("version = :read");
    expect(Update.ExpressionAttributeValues[":read"]).toBe(3n);
    // "lines", "total" and "status" are DynamoDB reserved words.
    expect(Object.values(Update.ExpressionAttributeNames)).toEqual([
      "lines",
      "total",
      "status",
      "version",
      "updated_at",
      "cancel_reason",
    ]);
    expect(Update.UpdateExpression).not.toMatch(/\b(lines|total|status) =/);
  });

  it("derives one refund id per order", () => {
    expect(refundIdOf(order.orderId)).toBe("RFD-01M85GQ9AMGT6V8NEJMAHGPZ6F");
  });
});

import { describe, expect, it } from "vitest";
import {
  canTransition,
  MAX_ORDER_LINES,
  ORDER_STATUSES,
  type OrderStatus,
  orderTotal,
  statusesBefore,
} from "../../src/domain/orders.js";
import { eur } from "../support/money.js";

describe("order state machine", () => {
  const allowed: [OrderStatus, OrderStatus][] = [
    ["PENDING", "CONFIRMED"],
    ["PENDING", "CANCELLED"],
    ["CONFIRMED", "SHIPPED"],
    ["CONFIRMED", "CANCELLED"],
    ["SHIPPED", "DELIVERED"],
  ];
  it("allows exactly the transitions of API.md", () => {
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        const expected = allowed.some(([f, t]) => f === from && t === to);
        expect(canTransition(from, to), `${from} → ${to}`).toBe(expected);
      }
    }
  });

  it("names the statuses a move may start from", () => {
    expect(statusesBefore("CANCELLED")).toEqual(["PENDING", "CONFIRMED"]);
    expect(statusesBefore("DELIVERED")).toEqual(["SHIPPED"]);
    expect(statusesBefore("PENDING")).toEqual([]);
  });
});

describe("orderTotal", () => {
  it("is exact to the nano", () => {
    const lines = [
      { quantity: 3n, unitPrice: eur(0n, 100_000_000) },
      { quantity: 10_000n, unitPrice: eur(19n, 990_000_001) },
    ];
    expect(orderTotal("EUR", lines)).toEqual(eur(199_900n, 300_010_000));
  });

  it("refuses a total Money cannot carry, and lines in another currency", () => {
    const huge = { quantity: 10_000n, unitPrice: eur(999_999_999_999_999n) };
    expect(orderTotal("EUR", [huge])).toBeUndefined();
    expect(() => orderTotal("USD", [{ quantity: 1n, unitPrice: eur(1n) }])).toThrow(RangeError);
    expect(MAX_ORDER_LINES).toBe(50);
  });
});

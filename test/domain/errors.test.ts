import { describe, expect, it } from "vitest";
import {
  circuitOpen,
  DomainError,
  invalidTransition,
  keysUnprocessed,
  orderExists,
  orderNotFound,
  outOfStock,
  storeUnavailable,
  versionMismatch,
} from "../../src/domain/errors.js";
import { BREAKER_RESET_MS, THROTTLED_RETRY_MS } from "../../src/domain/retry-policy.js";

describe("named error constructors", () => {
  it("name the resource in metadata and leave unknown values out", () => {
    expect(outOfStock("A-1", 3n, undefined)).toMatchObject({
      reason: "OUT_OF_STOCK",
      message: "not enough stock of A-1: requested 3",
      metadata: { sku: "A-1", requested: "3" },
    });
    expect(versionMismatch({ sku: "A-1" }, 2n, 5n).metadata).toEqual({
      sku: "A-1",
      expected_version: "2",
      actual_version: "5",
    });
  });

  it("give the order reasons the API needs", () => {
    expect(orderNotFound("C1", "ORD-1")).toMatchObject({
      reason: "ORDER_NOT_FOUND",
      metadata: { customer_id: "C1", order_id: "ORD-1" },
    });
    expect(orderExists("C1", "ORD-1").reason).toBe("ORDER_EXISTS");
    expect(invalidTransition("ORD-1", "SHIPPED", "PENDING")).toMatchObject({
      reason: "INVALID_TRANSITION",
      metadata: { order_id: "ORD-1", from_status: "SHIPPED", to_status: "PENDING" },
    });
  });

  it("take their retry hints from the retry policy and keep the cause out of the message", () => {
    const cause = new Error("socket hang up");
    const unknown = storeUnavailable(cause, true);
    expect(unknown.metadata).toEqual({ write_outcome: "unknown" });
    expect(unknown.message).not.toContain("socket");
    expect(unknown.cause).toBe(cause);
    expect(keysUnprocessed(2, 6).retryAfterMs).toBe(THROTTLED_RETRY_MS);
    expect(circuitOpen().retryAfterMs).toBe(BREAKER_RESET_MS);
    expect(DomainError.match(circuitOpen(), "CIRCUIT_OPEN")).toBe(true);
  });
});

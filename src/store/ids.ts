/** Server-made ids that sort by creation time: prefix + ULID (monotonic within a millisecond). */
import { decodeTime, encodeTime, monotonicFactory } from "ulid";

const next = monotonicFactory();

export function timeOrderedId(prefix: "ORD" | "TRF" | "ACC" | "RFD", at: Date = new Date()): string {
  return `${prefix}-${next(at.getTime())}`;
}

/**
 * The creation time an order id carries, in ms. Orders store their created_at as exactly
 * this instant, so a range of order ids is a range of creation times (ListOrders' bounds).
 */
export function orderIdTime(orderId: string): number {
  return decodeTime(orderId.slice(4));
}

/**
 * The order ids of orders created within [fromMs, toMs] (inclusive, ms): for a key
 * condition `order_id BETWEEN :low AND :high`.
 */
export function orderIdRange(fromMs: number, toMs: number): { low: string; high: string } {
  return {
    low: `ORD-${encodeTime(fromMs, 10)}${"0".repeat(16)}`,
    high: `ORD-${encodeTime(toMs, 10)}${"Z".repeat(16)}`,
  };
}

/**
 * Orders: the state machine, the shapes the store returns, and exact totals. No I/O.
 * Statuses are kept as their names without the proto prefix ("PENDING"), which is also
 * what the Orders table and its StatusIndex hold.
 */
import { fromNanos, MAX_UNITS, type Money, NANOS_PER_UNIT, toNanos } from "./money.js";

export const ORDER_STATUSES = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** API.md: PENDING→CONFIRMED|CANCELLED, CONFIRMED→SHIPPED|CANCELLED, SHIPPED→DELIVERED. */
const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ["CONFIRMED", "CANCELLED"],
  CONFIRMED: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED"],
  DELIVERED: [],
  CANCELLED: [],
};

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses an order may be in for a move to `to` to be allowed (a write's condition). */
export function statusesBefore(to: OrderStatus): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => canTransition(from, to));
}

/**
 * An order id made by us (or exported from us): "ORD-" + a ULID in Crockford base32 whose
 * first character keeps its 48-bit time in range (what the ulid package's isValid checks).
 */
const ORDER_ID = /^ORD-[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
export const ORDER_ID_RULE = 'must be "ORD-" followed by a 26-character ULID, as the server makes them';

export function isOrderId(id: string): boolean {
  return ORDER_ID.test(id);
}

/** Lines of one order, at most; with the order, a refund and an idempotency record that is ≤ 53 of a transaction's 100 actions. */
export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 10_000n;

export interface OrderLine {
  sku: string;
  quantity: bigint;
  /** Set by the server from Inventory when the line is ordered. */
  unitPrice: Money;
}

export interface Address {
  street: string;
  city: string;
  region: string;
  postalCode: string;
  countryCode: string;
}

export interface Order {
  customerId: string;
  orderId: string;
  lines: OrderLine[];
  total: Money;
  status: OrderStatus;
  shippingAddress: Address | undefined;
  version: bigint;
  /** ISO-8601 UTC with milliseconds, as stored (sortable). */
  createdAt: string;
  updatedAt: string;
}

/** An order read through a read mask: only the key is sure to be there. */
export type OrderView = Partial<Order> & Pick<Order, "customerId" | "orderId">;

export interface OrderKey {
  customerId: string;
  orderId: string;
}

export interface Refund {
  refundId: string;
  customerId: string;
  orderId: string;
  amount: Money;
  createdAt: string;
}

export interface NewOrder {
  customerId: string;
  /** Distinct skus; prices come from Inventory. */
  lines: { sku: string; quantity: bigint }[];
  shippingAddress: Address | undefined;
  /** "": not idempotent. */
  requestId: string;
}

/**
 * Σ quantity × unit price, exact (integer nanos). Every line must be in `currency`;
 * undefined when the total would not fit Money's units (MAX_UNITS).
 */
export function orderTotal(
  currency: string,
  lines: readonly Pick<OrderLine, "quantity" | "unitPrice">[],
): Money | undefined {
  let nanos = 0n;
  for (const line of lines) {
    if (line.unitPrice.currencyCode !== currency) throw new RangeError("order lines in more than one currency");
    nanos += line.quantity * toNanos(line.unitPrice);
  }
  if (nanos > MAX_UNITS * NANOS_PER_UNIT) return undefined;
  return fromNanos(currency, nanos);
}

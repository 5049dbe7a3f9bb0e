/**
 * Orders and refunds as stored. Table `Orders` (customer_id, order_id; GSI StatusIndex on
 * status, created_at): status (the name, e.g. "PENDING"), total (exact decimal N) and
 * currency, lines (a list of {sku, quantity, price}; every line in the order's currency),
 * shipping_address (a map, absent when none), version, created_at, updated_at.
 * Table `Refunds` (refund_id): customer_id, order_id, amount (N), currency, created_at.
 */
import { NumberValue } from "@aws-sdk/lib-dynamodb";
import { type Money, moneyToDecimal } from "../domain/money.js";
import {
  type Address,
  ORDER_STATUSES,
  type Order,
  type OrderLine,
  type OrderStatus,
  type OrderView,
  type Refund,
} from "../domain/orders.js";
import { readBigInt, readMoney, readString, type Stored } from "./attributes.js";
import type { ProjectionAllowList } from "./projection.js";

/** 9999-12-31T23:59:59.999Z: the last instant an ISO-8601 string with a 4-digit year (sortable) holds. */
export const MAX_STORED_TIME_MS = 253_402_300_799_999;

/** Order proto field → the attributes holding it (read_mask). */
export const ORDER_PROJECTION: ProjectionAllowList = {
  customer_id: ["customer_id"],
  order_id: ["order_id"],
  lines: ["lines", "currency"],
  total: ["total", "currency"],
  status: ["status"],
  shipping_address: ["shipping_address"],
  version: ["version"],
  created_at: ["created_at"],
  updated_at: ["updated_at"],
};

/** The attributes every masked read also fetches: the key. */
export const ORDER_KEY_ATTRIBUTES = ["customer_id", "order_id"] as const;

export const decimal = (m: Money) => NumberValue.from(moneyToDecimal(m));

export function linesToStored(lines: readonly OrderLine[]): Stored[] {
  return lines.map((l) => ({ sku: l.sku, quantity: l.quantity, price: decimal(l.unitPrice) }));
}

function addressToStored(a: Address): Stored {
  return {
    street: a.street,
    city: a.city,
    region: a.region,
    postal_code: a.postalCode,
    country_code: a.countryCode,
  };
}

export function orderToStored(o: Order): Stored {
  return {
    customer_id: o.customerId,
    order_id: o.orderId,
    status: o.status,
    total: decimal(o.total),
    currency: o.total.currencyCode,
    lines: linesToStored(o.lines),
    ...(o.shippingAddress ? { shipping_address: addressToStored(o.shippingAddress) } : {}),
    version: o.version,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
  };
}

export function readStatus(s: Stored): OrderStatus {
  const status = readString(s, "status");
  if (!(ORDER_STATUSES as readonly string[]).includes(status)) throw new RangeError(`stored status ${status}`);
  return status as OrderStatus;
}

function readLines(s: Stored): OrderLine[] {
  const currency = readString(s, "currency");
  return ((s["lines"] as Stored[] | undefined) ?? []).map((l) => ({
    sku: readString(l, "sku"),
    quantity: readBigInt(l, "quantity"),
    unitPrice: readMoney({ ...l, currency }, "price", "currency"),
  }));
}

function readAddress(s: Stored): Address | undefined {
  const a = s["shipping_address"] as Stored | undefined;
  if (a === undefined) return undefined;
  return {
    street: readString(a, "street"),
    city: readString(a, "city"),
    region: readString(a, "region"),
    postalCode: readString(a, "postal_code"),
    countryCode: readString(a, "country_code"),
  };
}

export function orderFromStored(s: Stored): Order {
  return {
    customerId: readString(s, "customer_id"),
    orderId: readString(s, "order_id"),
    lines: readLines(s),
    total: readMoney(s, "total", "currency"),
    status: readStatus(s),
    shippingAddress: readAddress(s),
    version: readBigInt(s, "version"),
    createdAt: readString(s, "created_at"),
    updatedAt: readString(s, "updated_at"),
  };
}

/** An order read through a read mask: only what was read is set. */
export function orderViewFromStored(s: Stored): OrderView {
  const view: OrderView = { customerId: readString(s, "customer_id"), orderId: readString(s, "order_id") };
  if (s["lines"] !== undefined) view.lines = readLines(s);
  if (s["total"] !== undefined) view.total = readMoney(s, "total", "currency");
  if (s["status"] !== undefined) view.status = readStatus(s);
  if (s["shipping_address"] !== undefined) view.shippingAddress = readAddress(s);
  if (s["version"] !== undefined) view.version = readBigInt(s, "version");
  if (s["created_at"] !== undefined) view.createdAt = readString(s, "created_at");
  if (s["updated_at"] !== undefined) view.updatedAt = readString(s, "updated_at");
  return view;
}

export function refundToStored(r: Refund): Stored {
  return {
    refund_id: r.refundId,
    customer_id: r.customerId,
    order_id: r.orderId,
    amount: decimal(r.amount),
    currency: r.amount.currencyCode,
    created_at: r.createdAt,
  };
}

export function refundFromStored(s: Stored): Refund {
  return {
    refundId: readString(s, "refund_id"),
    customerId: readString(s, "customer_id"),
    orderId: readString(s, "order_id"),
    amount: readMoney(s, "amount", "currency"),
    createdAt: readString(s, "created_at"),
  };
}

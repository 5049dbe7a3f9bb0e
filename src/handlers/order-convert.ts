/** Order messages ↔ order domain values, shared by the OrderService handlers. */
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import type { Address, OrderStatus, OrderView, Refund } from "../domain/orders.js";
import {
  type Address as AddressMessage,
  type Order as OrderMessage,
  OrderSchema,
  OrderStatus as OrderStatusEnum,
  type Refund as RefundMessage,
  RefundSchema,
} from "../gen/commerce/v1/order_service_pb.js";
import { moneyToProto, timestampToProto } from "./convert.js";

const TO_PROTO: Readonly<Record<OrderStatus, OrderStatusEnum>> = {
  PENDING: OrderStatusEnum.PENDING,
  CONFIRMED: OrderStatusEnum.CONFIRMED,
  SHIPPED: OrderStatusEnum.SHIPPED,
  DELIVERED: OrderStatusEnum.DELIVERED,
  CANCELLED: OrderStatusEnum.CANCELLED,
};

/** undefined for UNSPECIFIED and for numbers the enum does not have (proto3 enums are open). */
export function statusFromProto(status: OrderStatusEnum): OrderStatus | undefined {
  return (Object.keys(TO_PROTO) as OrderStatus[]).find((s) => TO_PROTO[s] === status);
}

export function statusToProto(status: OrderStatus): OrderStatusEnum {
  return TO_PROTO[status];
}

/** The enum's own name ("ORDER_STATUS_PENDING"): CountOrdersByStatus's map keys. */
export function statusEnumName(status: OrderStatus): string {
  return `ORDER_STATUS_${status}`;
}

export function addressFromProto(a: AddressMessage | undefined): Address | undefined {
  if (a === undefined) return undefined;
  return { street: a.street, city: a.city, region: a.region, postalCode: a.postalCode, countryCode: a.countryCode };
}

export function orderToProto(o: OrderView): OrderMessage {
  return create(OrderSchema, {
    customerId: o.customerId,
    orderId: o.orderId,
    lines: (o.lines ?? []).map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: moneyToProto(l.unitPrice) })),
    total: moneyToProto(o.total),
    status: o.status === undefined ? OrderStatusEnum.UNSPECIFIED : statusToProto(o.status),
    shippingAddress: o.shippingAddress,
    version: o.version ?? 0n,
    createdAt: timestampToProto(o.createdAt),
    updatedAt: timestampToProto(o.updatedAt),
  });
}

export function refundToProto(r: Refund): RefundMessage {
  return create(RefundSchema, {
    refundId: r.refundId,
    customerId: r.customerId,
    orderId: r.orderId,
    amount: moneyToProto(r.amount),
    createdAt: timestampToProto(r.createdAt),
  });
}

/** A Timestamp as epoch ms, rounded up; undefined when unset. */
export function timestampCeilMs(t: Timestamp | undefined): number | undefined {
  const floor = timestampFloorMs(t);
  return floor === undefined ? undefined : floor + (t!.nanos % 1_000_000 === 0 ? 0 : 1);
}

/** A Timestamp as epoch ms, rounded down; undefined when unset. */
export function timestampFloorMs(t: Timestamp | undefined): number | undefined {
  if (t === undefined) return undefined;
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
}

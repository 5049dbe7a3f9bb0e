/**
 * What the bench stores: items, orders and accounts in the service's stored shape (built
 * with its own mappers), written fast — BatchWriteItem straight to DynamoDB Local, many
 * requests in flight — so seeding 100k items takes seconds, not an RPC each.
 */
import { BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { Order, OrderStatus } from "../src/domain/orders.js";
import type { Stored } from "../src/store/attributes.js";
import { orderIdTime, timeOrderedId } from "../src/store/ids.js";
import { putNewItemRequest } from "../src/store/inventory-store.js";
import { orderToStored } from "../src/store/order-mapping.js";
import type { DirectClient } from "./direct.js";

const WRITERS = 8;

/** Puts every item with WRITERS BatchWriteItem requests in flight; unprocessed items are sent again. */
export async function seed(doc: DirectClient, table: string, items: readonly Stored[]): Promise<void> {
  let next = 0;
  const writer = async () => {
    while (next < items.length) {
      const start = next;
      next += 25;
      let pending = items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (out.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

/** An inventory item as CreateItem stores it. */
export function item(sku: string, quantity: bigint, units = 12n): Stored {
  return putNewItemRequest(
    "unused",
    { sku, name: `Item ${sku}`, unitPrice: { currencyCode: "EUR", units, nanos: 0 }, quantity },
    new Date().toISOString(),
  ).Item;
}

export const ADDRESS = { street: "1 Bench Street", city: "Ghent", region: "", postalCode: "9000", countryCode: "BE" };

const STATUSES: readonly OrderStatus[] = ["PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"];

/** A two-line order of `customerId`, created at `at` (its id carries the time). */
export function order(customerId: string, i: number, at = new Date()): Order {
  const orderId = timeOrderedId("ORD", at);
  const createdAt = new Date(orderIdTime(orderId)).toISOString();
  const lines = [
    { sku: `line-a-${i % 97}`, quantity: 2n, unitPrice: { currencyCode: "EUR", units: 3n, nanos: 250_000_000 } },
    { sku: `line-b-${i % 89}`, quantity: 1n, unitPrice: { currencyCode: "EUR", units: 10n, nanos: 0 } },
  ];
  return {
    customerId,
    orderId,
    lines,
    total: { currencyCode: "EUR", units: 16n, nanos: 500_000_000 },
    status: STATUSES[i % STATUSES.length]!,
    shippingAddress: ADDRESS,
    version: 1n,
    createdAt,
    updatedAt: createdAt,
  };
}

/** Orders as stored, spread over `customers` customers. */
export function storedOrders(count: number, customers: number, prefix: string): Stored[] {
  return Array.from({ length: count }, (_, i) => orderToStored(order(`${prefix}-${i % customers}`, i)));
}

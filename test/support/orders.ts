/**
 * Order fixtures for the OrderService integration tests: unique keys, items made through
 * InventoryService, orders placed through CreateOrder, stock read back with GetItem, the
 * tables read back with the SDK (invariant checks), and a caller that retries what the API
 * says is retryable.
 */
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import { toNanos } from "../../src/domain/money.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import type { MoneySchema } from "../../src/gen/commerce/v1/money_pb.js";
import { type Order, OrderService, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import type { StoreClient } from "../../src/store/dynamo.js";
import { eur } from "./money.js";
import type { RpcClient, RpcFailure } from "./rpc-client.js";

export const O = OrderService.method;
export const I = InventoryService.method;

let seq = 0;
/** A key no other test (or run against the same tables) uses: [A-Za-z0-9._-]. */
export const uid = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

export const ADDRESS = { street: "1 Rue de la Paix", city: "Lyon", region: "", postalCode: "69001", countryCode: "FR" };

type MoneyInit = MessageInitShape<typeof MoneySchema>;

/** Creates one item per spec (default price 12.50 EUR); returns their skus in order. */
export async function createItems(
  client: RpcClient,
  prefix: string,
  specs: Array<{ quantity: bigint; unitPrice?: MoneyInit }>,
): Promise<string[]> {
  const skus = specs.map(() => uid(prefix));
  await Promise.all(
    specs.map((s, i) =>
      client.unary(I.createItem, {
        item: {
          sku: skus[i]!,
          name: `Item ${skus[i]}`,
          unitPrice: s.unitPrice ?? eur(12n, 500_000_000),
          quantity: s.quantity,
        },
      }),
    ),
  );
  return skus;
}

export async function stockOf(client: RpcClient, sku: string): Promise<bigint> {
  return (await client.unary(I.getItem, { sku })).item!.quantity;
}

export const stocksOf = (client: RpcClient, skus: string[]) => Promise.all(skus.map((s) => stockOf(client, s)));

/** CreateOrder of [sku, quantity] lines shipped to ADDRESS. */
export async function createOrder(
  client: RpcClient,
  customerId: string,
  lines: Array<[string, bigint]>,
  requestId = "",
): Promise<Order> {
  const res = await client.unary(O.createOrder, {
    customerId,
    lines: lines.map(([sku, quantity]) => ({ sku, quantity })),
    shippingAddress: ADDRESS,
    requestId,
  });
  return res.order!;
}

/** Moves a fresh order forward to `status` (CANCELLED through CancelOrder). */
export async function orderIn(client: RpcClient, status: OrderStatus, customerId: string, sku: string) {
  const order = await createOrder(client, customerId, [[sku, 1n]]);
  const key = { customerId, orderId: order.orderId };
  if (status === OrderStatus.CANCELLED) return (await client.unary(O.cancelOrder, key)).order!;
  let current = order;
  for (const next of [OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]) {
    if (current.status === status) break;
    current = (await client.unary(O.updateOrderStatus, { ...key, status: next })).order!;
  }
  expect(current.status).toBe(status);
  return current;
}

/** Σ quantity × unit_price of the order's own lines, in nanos (exact). */
export const linesTotalNanos = (o: Pick<Order, "lines">) =>
  o.lines.reduce((sum, l) => sum + l.quantity * toNanos(l.unitPrice!), 0n);

/** Asserts the failure's code, ErrorInfo reason and domain. */
export function expectFailure(f: RpcFailure, code: Code, reason: string, label = "") {
  expect(f.code, `${label} ${f.message}`).toBe(code);
  expect(f.errorInfo?.reason, `${label} ${f.message}`).toBe(reason);
  expect(f.errorInfo?.domain, label).toBe("commerce.v1");
}

/** The ErrorInfo metadata and BadRequest of a failure, as text: "does it name this sku?". */
export const failureText = (f: RpcFailure) =>
  JSON.stringify([f.errorInfo?.metadata ?? {}, f.badRequest?.fieldViolations.map((v) => [v.field, v.description])]);

/** Every item of a table, read back with the SDK (numbers as strings: exact). */
export async function scanTable(store: StoreClient, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

/** A stored number (number, bigint or NumberValue) as a bigint. */
export const storedInt = (v: unknown) => BigInt(String(v));

/** Polls `check` (assertions) until it passes or `ms` pass: for what a GSI shows eventually. */
export async function eventually<T>(check: () => Promise<T>, ms = 3_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

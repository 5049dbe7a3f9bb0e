/**
 * OrderService under concurrency: no oversell, one order per request_id however often it
 * races, all-or-nothing multi-line orders, and one refund per cancellation. Answers that
 * the contract calls retryable (ABORTED / TRANSACTION_CONFLICT, with RetryInfo) are retried
 * with the same request, as a caller would.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { useHarness } from "../support/harness.js";
import { eur, money } from "../support/money.js";
import {
  createItems,
  createOrder,
  expectFailure,
  failureText,
  O,
  scanTable,
  stockOf,
  stocksOf,
  uid,
} from "../support/orders.js";
import { withRetries } from "../support/retry.js";
import { failure, isRpcFailure, type RpcFailure } from "../support/rpc-client.js";

const h = useHarness();

/** Orders stored for a customer, read back from the table (not through the API). */
async function storedOrdersOf(customerIds: Set<string>) {
  return (await scanTable(h().store, h().tables.orders)).filter((o) => customerIds.has(o["customer_id"] as string));
}

describe("CreateOrder under concurrency", () => {
  it("100 concurrent orders of 1 unit on stock 20: exactly 20 orders, 80 OUT_OF_STOCK naming the sku", async () => {
    const [sku] = await createItems(h().grpc, "oversell", [{ quantity: 20n }]);
    const customers = Array.from({ length: 100 }, () => uid("buyer"));
    const results = await Promise.allSettled(
      customers.map((c, i) => withRetries(() => createOrder(h().clients[i % 2]!, c, [[sku!, 1n]], `oversell-${c}`))),
    );
    const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as RpcFailure] : []));
    expect(ok).toHaveLength(20);
    expect(refused).toHaveLength(80);
    for (const f of refused) {
      expectFailure(f, Code.FailedPrecondition, "OUT_OF_STOCK");
      expect(f.errorInfo?.metadata["sku"]).toBe(sku);
    }
    expect(new Set(ok.map((o) => o.orderId)).size).toBe(20);
    expect(await stockOf(h().grpc, sku!)).toBe(0n);
    const stored = await storedOrdersOf(new Set(customers));
    expect(stored.map((o) => o["order_id"]).sort()).toEqual(ok.map((o) => o.orderId).sort());
  });

  it("one request sent 10 times at once makes one order, and its stock is taken once", async () => {
    const [a, b] = await createItems(h().grpc, "dupe", [{ quantity: 100n }, { quantity: 100n }]);
    const customerId = uid("cust");
    const rid = uid("rid");
    const lines: Array<[string, bigint]> = [
      [a!, 3n],
      [b!, 5n],
    ];
    const send = (i: number) => createOrder(h().clients[i % 2]!, customerId, lines, rid);
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => send(i)));
    const ids = new Set<string>();
    for (const [i, r] of results.entries()) {
      if (r.status === "fulfilled") {
        ids.add(r.value.orderId);
        continue;
      }
      // A racing duplicate may be told to retry; the retry gets the same order.
      const f = r.reason as RpcFailure;
      expectFailure(f, Code.Aborted, "TRANSACTION_CONFLICT");
      expect(f.retryInfo).toBeDefined();
      ids.add((await withRetries(() => send(i))).orderId);
    }
    expect(ids.size).toBe(1);
    const again = await send(0);
    expect(ids).toEqual(new Set([again.orderId]));
    expect(await stocksOf(h().grpc, [a!, b!])).toEqual([97n, 95n]);
    expect(await storedOrdersOf(new Set([customerId]))).toHaveLength(1);

    // The same request_id for another request: refused, nothing written.
    const others: Array<Array<[string, bigint]>> = [[[a!, 4n]], [lines[1]!, lines[0]!]];
    for (const [i, other] of others.entries()) {
      const f = await failure(() => createOrder(h().clients[i]!, customerId, other, rid));
      expectFailure(f, Code.InvalidArgument, "REQUEST_ID_REUSED");
    }
    const elsewhere = await failure(() => createOrder(h().grpc, uid("cust"), lines, rid));
    expectFailure(elsewhere, Code.InvalidArgument, "REQUEST_ID_REUSED");
    expect(await stocksOf(h().grpc, [a!, b!])).toEqual([97n, 95n]);
    expect(await storedOrdersOf(new Set([customerId]))).toHaveLength(1);
  });
});

describe("multi-line orders are all or nothing", () => {
  it("an order whose third line is out of stock changes no stock at all", async () => {
    const skus = await createItems(h().grpc, "atom", [{ quantity: 10n }, { quantity: 10n }, { quantity: 1n }]);
    const customerId = uid("cust");
    for (const client of h().clients) {
      const f = await failure(() =>
        createOrder(client, customerId, [
          [skus[0]!, 2n],
          [skus[1]!, 2n],
          [skus[2]!, 5n],
        ]),
      );
      expectFailure(f, Code.FailedPrecondition, "OUT_OF_STOCK", client.name);
      expect(f.errorInfo?.metadata).toMatchObject({ sku: skus[2], requested: "5" });
      expect(failureText(f)).not.toContain(skus[0]);
    }
    expect(await stocksOf(h().grpc, skus)).toEqual([10n, 10n, 1n]);
    expect(await storedOrdersOf(new Set([customerId]))).toEqual([]);
  });

  it("with two lines out of stock, both skus and both lines are named", async () => {
    const skus = await createItems(h().grpc, "atom2", [{ quantity: 10n }, { quantity: 3n }, { quantity: 1n }]);
    const customerId = uid("cust");
    for (const client of h().clients) {
      const f = await failure(() =>
        createOrder(client, customerId, [
          [skus[0]!, 2n],
          [skus[1]!, 4n],
          [skus[2]!, 2n],
        ]),
      );
      expectFailure(f, Code.FailedPrecondition, "OUT_OF_STOCK", client.name);
      const metadata = Object.values(f.errorInfo?.metadata ?? {}).join(" ");
      expect(metadata).toContain(skus[1]);
      expect(metadata).toContain(skus[2]);
      expect(metadata).not.toContain(skus[0]);
      const fields = f.badRequest?.fieldViolations.map((v) => v.field) ?? [];
      expect(
        fields.some((v) => v.startsWith("lines[1]")),
        `${fields}`,
      ).toBe(true);
      expect(
        fields.some((v) => v.startsWith("lines[2]")),
        `${fields}`,
      ).toBe(true);
      expect(
        fields.some((v) => v.startsWith("lines[0]")),
        `${fields}`,
      ).toBe(false);
    }
    expect(await stocksOf(h().grpc, skus)).toEqual([10n, 3n, 1n]);
    expect(await storedOrdersOf(new Set([customerId]))).toEqual([]);
  });

  it("a missing sku is ITEM_NOT_FOUND naming it; mixed currencies are CURRENCY_MISMATCH; nothing changes", async () => {
    const [eurSku, usdSku] = await createItems(h().grpc, "cur", [
      { quantity: 10n, unitPrice: eur(1n) },
      { quantity: 10n, unitPrice: money("USD", 1n) },
    ]);
    const ghost = uid("ghost");
    const customerId = uid("cust");
    for (const client of h().clients) {
      const missing = await failure(() =>
        createOrder(client, customerId, [
          [eurSku!, 1n],
          [ghost, 1n],
        ]),
      );
      expectFailure(missing, Code.NotFound, "ITEM_NOT_FOUND", client.name);
      expect(missing.errorInfo?.metadata["sku"]).toBe(ghost);
      const mixed = await failure(() =>
        createOrder(client, customerId, [
          [eurSku!, 1n],
          [usdSku!, 1n],
        ]),
      );
      expectFailure(mixed, Code.FailedPrecondition, "CURRENCY_MISMATCH", client.name);
    }
    expect(await stocksOf(h().grpc, [eurSku!, usdSku!])).toEqual([10n, 10n]);
    expect(await storedOrdersOf(new Set([customerId]))).toEqual([]);
  });

  it("AddOrderLine racing for the last 5 units: exactly 5 orders get the line", async () => {
    const [base, scarce] = await createItems(h().grpc, "addrace", [{ quantity: 100n }, { quantity: 5n }]);
    const orders = await Promise.all(
      Array.from({ length: 12 }, () => createOrder(h().grpc, uid("cust"), [[base!, 1n]])),
    );
    const results = await Promise.allSettled(
      orders.map((o, i) =>
        withRetries(() =>
          h().clients[i % 2]!.unary(O.addOrderLine, {
            customerId: o.customerId,
            orderId: o.orderId,
            line: { sku: scarce!, quantity: 1n },
            expectedVersion: 1n,
          }),
        ),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    for (const r of results) {
      if (r.status === "rejected") expectFailure(r.reason as RpcFailure, Code.FailedPrecondition, "OUT_OF_STOCK");
    }
    expect(await stockOf(h().grpc, scarce!)).toBe(0n);
  });
});

describe("CancelOrder under concurrency", () => {
  for (const withRequestId of [false, true]) {
    it(`cancelled 6 times at once (${withRequestId ? "one" : "no"} request_id): one refund, stock restored once`, async () => {
      const [a, b] = await createItems(h().grpc, "cxl", [{ quantity: 30n }, { quantity: 30n, unitPrice: eur(0n, 7) }]);
      const customerId = uid("cust");
      const order = await createOrder(h().grpc, customerId, [
        [a!, 4n],
        [b!, 11n],
      ]);
      const request = {
        customerId,
        orderId: order.orderId,
        reason: "race",
        requestId: withRequestId ? uid("rid") : "",
      };
      const answers = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => withRetries(() => h().clients[i % 2]!.unary(O.cancelOrder, request))),
      );
      const refundIds = new Set<string>();
      for (const r of answers) {
        if (r.status === "rejected")
          throw isRpcFailure(r.reason) ? new Error(`${r.reason.code} ${r.reason.message}`) : r.reason;
        expect(r.value.order).toMatchObject({ status: OrderStatus.CANCELLED, version: 2n });
        expect(r.value.refund).toMatchObject({ customerId, orderId: order.orderId, amount: order.total });
        refundIds.add(r.value.refund!.refundId);
      }
      expect(refundIds.size).toBe(1);
      expect(await stocksOf(h().grpc, [a!, b!])).toEqual([30n, 30n]);
      const later = await h().connect.unary(O.cancelOrder, request);
      expect(new Set([...refundIds, later.refund!.refundId]).size).toBe(1);
      expect(await stocksOf(h().grpc, [a!, b!])).toEqual([30n, 30n]);
      const refunds = (await scanTable(h().store, h().tables.refunds)).filter((r) => r["order_id"] === order.orderId);
      expect(refunds.map((r) => r["refund_id"])).toEqual([...refundIds]);
    });
  }

  it("CancelOrder racing UpdateOrderStatus(SHIPPED) and AddOrderLine: one wins per order, stock matches what stands", async () => {
    const [a, b] = await createItems(h().grpc, "mix", [{ quantity: 500n }, { quantity: 500n }]);
    const orders = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const o = await createOrder(h().grpc, uid("cust"), [[a!, BigInt(1 + (i % 4))]]);
        const key = { customerId: o.customerId, orderId: o.orderId };
        // Even orders race a ship (from CONFIRMED), odd ones an added line (PENDING).
        if (i % 2 === 0) await h().grpc.unary(O.updateOrderStatus, { ...key, status: OrderStatus.CONFIRMED });
        return key;
      }),
    );
    const settled = await Promise.allSettled(
      orders.flatMap((key, i) => [
        withRetries<unknown>(() => h().clients[i % 2]!.unary(O.cancelOrder, key)),
        withRetries<unknown>(() =>
          i % 2 === 0
            ? h().clients[(i + 1) % 2]!.unary(O.updateOrderStatus, { ...key, status: OrderStatus.SHIPPED })
            : h().clients[(i + 1) % 2]!.unary(O.addOrderLine, { ...key, line: { sku: b!, quantity: 2n } }),
        ),
      ]),
    );
    for (const r of settled) {
      if (r.status === "rejected") expectFailure(r.reason as RpcFailure, Code.FailedPrecondition, "INVALID_TRANSITION");
    }
    const final = (await h().grpc.unary(O.batchGetOrders, { keys: orders })).orders;
    expect(final).toHaveLength(orders.length);
    const held = { [a!]: 0n, [b!]: 0n };
    for (const [i, o] of final.entries()) {
      // A ship and a cancel cannot both win; an added line either went in before the cancel or not at all.
      const cancelOk = settled[2 * i]!.status === "fulfilled";
      expect(o.status === OrderStatus.CANCELLED, o.orderId).toBe(cancelOk);
      if (i % 2 === 0) expect(o.status === OrderStatus.SHIPPED, o.orderId).toBe(!cancelOk);
      if (o.status === OrderStatus.CANCELLED) continue;
      for (const l of o.lines) held[l.sku] = held[l.sku]! + l.quantity;
    }
    expect(await stocksOf(h().grpc, [a!, b!])).toEqual([500n - held[a!]!, 500n - held[b!]!]);
    const refunds = await scanTable(h().store, h().tables.refunds);
    const cancelled = new Set(final.filter((o) => o.status === OrderStatus.CANCELLED).map((o) => o.orderId));
    expect(refunds.filter((r) => cancelled.has(r["order_id"] as string))).toHaveLength(cancelled.size);
    const standing = final.filter((o) => o.status !== OrderStatus.CANCELLED).map((o) => o.orderId);
    expect(refunds.filter((r) => standing.includes(r["order_id"] as string))).toEqual([]);
  });
});

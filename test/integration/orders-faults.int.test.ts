/**
 * Orders under injected store faults (test/support/fault-proxy.ts): throttling, and
 * transactions applied whose answer is lost. Callers retry with their request_ids until
 * success or a definite failure; afterwards the tables, read back with the SDK, must show
 * stock conserved, one order per request_id and one refund per cancelled order.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { type Order, OrderStatus, type Refund } from "../../src/gen/commerce/v1/order_service_pb.js";
import { useFaultyHarness } from "../support/harness.js";
import { eur } from "../support/money.js";
import { createItems, createOrder, expectFailure, O, scanTable, stocksOf, storedInt } from "../support/orders.js";
import { withRetries } from "../support/retry.js";
import type { RpcFailure } from "../support/rpc-client.js";

const { proxy, h } = useFaultyHarness();

const CALLERS = 80;
const INITIAL = [300n, 300n, 300n, 12n];

interface Outcome {
  requestId: string;
  customerId: string;
  order?: Order;
  refused?: RpcFailure;
  cancelRequestId?: string;
  refund?: Refund;
}

describe("orders under injected faults", () => {
  it("create and cancel with retries: stock conserved, one order per request_id, one refund per cancel", async () => {
    proxy().rules = [];
    const skus = await createItems(
      h().grpc,
      "fault",
      INITIAL.map((quantity, i) => ({ quantity, unitPrice: eur(BigInt(i + 1), 250_000_000) })),
    );
    // Every caller: 1-3 distinct skus (the scarce last one often), then every third cancels.
    const plan = Array.from({ length: CALLERS }, (_, i) => ({
      requestId: `fo-${i}`,
      customerId: `fc-${i}`,
      lines: skus
        .filter((_, s) => (i + s) % 3 !== 0 || s === i % 4)
        .slice(0, 1 + (i % 3))
        .map((sku, s): [string, bigint] => [sku, BigInt(1 + ((i + s) % 5))]),
      cancel: i % 3 === 0,
    }));
    proxy().rules = [
      { operation: "TransactWriteItems", kind: "ambiguous", rate: 0.1 },
      { kind: "throttle", rate: 0.1 },
    ];
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(
        plan.map(async (p, i): Promise<Outcome> => {
          const client = h().clients[i % 2]!;
          const out: Outcome = { requestId: p.requestId, customerId: p.customerId };
          try {
            out.order = await withRetries(() => createOrder(client, p.customerId, p.lines, p.requestId));
          } catch (e) {
            out.refused = e as RpcFailure;
            return out;
          }
          if (p.cancel) {
            out.cancelRequestId = `fx-${i}`;
            const key = { customerId: p.customerId, orderId: out.order.orderId };
            out.refund = (
              await withRetries(() => client.unary(O.cancelOrder, { ...key, requestId: out.cancelRequestId! }))
            ).refund!;
          }
          return out;
        }),
      );
    } finally {
      proxy().rules = [];
    }
    // ~10% of 100+ transactions and of every call: a handful of each at the least.
    expect(proxy().injected.ambiguous).toBeGreaterThanOrEqual(3);
    expect(proxy().injected.throttle).toBeGreaterThanOrEqual(5);
    // The only definite failure this workload can meet: not enough stock of the scarce sku.
    for (const o of outcomes.filter((x) => x.refused))
      expectFailure(o.refused!, Code.FailedPrecondition, "OUT_OF_STOCK");
    expect(outcomes.filter((o) => o.order).length).toBeGreaterThan(CALLERS / 2);

    // Re-sent now, every request gets its first answer back.
    for (const [i, o] of outcomes.entries()) {
      const p = plan[i]!;
      if (o.order)
        expect((await createOrder(h().grpc, p.customerId, p.lines, p.requestId)).orderId).toBe(o.order.orderId);
      if (o.refund) {
        const again = await h().connect.unary(O.cancelOrder, {
          customerId: o.customerId,
          orderId: o.order!.orderId,
          requestId: o.cancelRequestId!,
        });
        expect(again.refund?.refundId).toBe(o.refund.refundId);
      }
    }

    // The tables, read back directly.
    const stored = await scanTable(h().store, h().tables.orders);
    const byCustomer = new Map<string, Record<string, unknown>[]>();
    for (const s of stored)
      byCustomer.set(s["customer_id"] as string, [...(byCustomer.get(s["customer_id"] as string) ?? []), s]);
    for (const o of outcomes) {
      // One customer per request_id: its orders are that request's orders.
      const mine = byCustomer.get(o.customerId) ?? [];
      expect(
        mine.map((s) => s["order_id"]),
        o.requestId,
      ).toEqual(o.order ? [o.order.orderId] : []);
    }
    expect(stored).toHaveLength(outcomes.filter((o) => o.order).length);

    const held = new Map<string, bigint>(skus.map((s) => [s, 0n]));
    for (const s of stored) {
      if (s["status"] === "CANCELLED") continue;
      for (const line of s["lines"] as Record<string, unknown>[])
        held.set(line["sku"] as string, held.get(line["sku"] as string)! + storedInt(line["quantity"]));
    }
    const current = await stocksOf(h().grpc, skus);
    skus.forEach((sku, i) => {
      expect(current[i]! + held.get(sku)!, sku).toBe(INITIAL[i]);
    });

    const refunds = await scanTable(h().store, h().tables.refunds);
    const cancelled = stored.filter((s) => s["status"] === "CANCELLED");
    expect(cancelled.map((s) => s["order_id"]).sort()).toEqual(
      outcomes.flatMap((o) => (o.refund ? [o.order!.orderId] : [])).sort(),
    );
    expect(refunds.map((r) => r["order_id"]).sort()).toEqual(cancelled.map((s) => s["order_id"]).sort());
    for (const r of refunds) {
      const order = cancelled.find((s) => s["order_id"] === r["order_id"])!;
      expect(String(r["amount"]), r["order_id"] as string).toBe(String(order["total"]));
      const answered = outcomes.find((o) => o.order?.orderId === r["order_id"])!.refund!;
      expect(r["refund_id"]).toBe(answered.refundId);
    }
  });

  it("lost answers without request_ids: stock always matches the orders that exist; a cancel re-sent refunds once", async () => {
    proxy().rules = [];
    const [sku] = await createItems(h().grpc, "lost", [{ quantity: 100n }]);
    const customerId = "lost-customer";
    proxy().rules = [{ operation: "TransactWriteItems", kind: "ambiguous", rate: 0.5 }];
    let results: PromiseSettledResult<Order>[];
    try {
      results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => createOrder(h().clients[i % 2]!, customerId, [[sku!, 2n]])),
      );
    } finally {
      proxy().rules = [];
    }
    const answered = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.orderId] : []));
    // Without a request_id a lost answer is unknown to the caller, and said so.
    for (const r of results) {
      if (r.status === "rejected")
        expect((r.reason as RpcFailure).code, (r.reason as RpcFailure).message).toBe(Code.Unavailable);
    }
    const stored = (await scanTable(h().store, h().tables.orders)).filter((o) => o["customer_id"] === customerId);
    const storedIds = stored.map((o) => o["order_id"] as string);
    expect(storedIds).toEqual(expect.arrayContaining(answered));
    expect(storedIds.length).toBeLessThanOrEqual(20);
    expect(new Set(storedIds).size).toBe(storedIds.length);
    expect((await stocksOf(h().grpc, [sku!]))[0]).toBe(100n - 2n * BigInt(stored.length));

    // A cancel whose answer is lost, re-sent without a request_id: one refund, stock restored once.
    const key = { customerId, orderId: storedIds[0]! };
    proxy().rules = [{ operation: "TransactWriteItems", kind: "ambiguous", rate: 1 }];
    try {
      await h()
        .grpc.unary(O.cancelOrder, key)
        .catch(() => undefined);
    } finally {
      proxy().rules = [];
    }
    const after = await h().grpc.unary(O.cancelOrder, key);
    expect(after.order?.status).toBe(OrderStatus.CANCELLED);
    expect((await stocksOf(h().grpc, [sku!]))[0]).toBe(100n - 2n * BigInt(stored.length - 1));
    const refunds = (await scanTable(h().store, h().tables.refunds)).filter((r) => r["order_id"] === key.orderId);
    expect(refunds.map((r) => r["refund_id"])).toEqual([after.refund?.refundId]);
  });
});

/**
 * OrderService single-order RPCs from the contract (API.md, order_service.proto), over both
 * transports alike: create, read (masks, consistent reads, batch), status transitions,
 * adding lines, cancelling with its refund, deleting, and bad input.
 */
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toNanos } from "../../src/domain/money.js";
import { OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { useHarness } from "../support/harness.js";
import { eur, eurFromNanos, money } from "../support/money.js";
import {
  ADDRESS,
  createItems,
  createOrder,
  eventually,
  expectFailure,
  I,
  linesTotalNanos,
  O,
  orderIn,
  scanTable,
  stockOf,
  stocksOf,
  uid,
} from "../support/orders.js";
import { failure, isRpcFailure, type RpcFailure } from "../support/rpc-client.js";

const h = useHarness();
const S = OrderStatus;
const FORWARD: Array<[OrderStatus, OrderStatus]> = [
  [S.PENDING, S.CONFIRMED],
  [S.CONFIRMED, S.SHIPPED],
  [S.SHIPPED, S.DELIVERED],
];
const ALL = [S.PENDING, S.CONFIRMED, S.SHIPPED, S.DELIVERED, S.CANCELLED];

describe.each(["grpc", "connect"] as const)("OrderService over %s", (transport) => {
  const client = () => (transport === "grpc" ? h().grpc : h().connect);

  it("creates a PENDING order at inventory prices, with an exact total, and takes it out of stock", async () => {
    const prices = [eur(12n, 500_000_000), eur(0n, 1), eur(3n, 999_999_999)];
    const skus = await createItems(
      client(),
      "create",
      prices.map((unitPrice) => ({ quantity: 20_000n, unitPrice })),
    );
    const quantities = [2n, 7n, 10_000n];
    const customerId = uid("cust");
    const before = Date.now();
    const res = await client().unary(O.createOrder, {
      customerId,
      lines: skus.map((sku, i) => ({ sku, quantity: quantities[i]! })),
      shippingAddress: ADDRESS,
    });
    const order = res.order!;
    expect(order).toMatchObject({ customerId, status: S.PENDING, version: 1n, shippingAddress: ADDRESS });
    expect(order.orderId).toMatch(/^ORD-[0-9A-Za-z]{26}$/);
    expect(order.lines.map((l) => [l.sku, l.quantity])).toEqual(skus.map((s, i) => [s, quantities[i]]));
    expect(order.lines.map((l) => toNanos(l.unitPrice!))).toEqual(prices.map(toNanos));
    const expected = quantities.reduce((sum, q, i) => sum + q * toNanos(prices[i]!), 0n);
    expect(toNanos(order.total!)).toBe(expected);
    expect(order.total).toMatchObject(eurFromNanos(expected));
    const created = Number(order.createdAt!.seconds) * 1000;
    expect(created).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await stocksOf(client(), skus)).toEqual(quantities.map((q) => 20_000n - q));
    const got = await client().unary(O.getOrder, { customerId, orderId: order.orderId, consistentRead: true });
    expect(got.order).toEqual(order);
    // Eventually consistent reads see it too (at once on DynamoDB Local; polled, not assumed).
    const loose = await eventually(() => client().unary(O.getOrder, { customerId, orderId: order.orderId }));
    expect(loose.order).toEqual(order);
  });

  it("ignores a unit_price sent by the caller: the server prices lines from inventory", async () => {
    // order_service.proto, CreateOrderRequest.lines: "unit_price is ignored (the server sets it)";
    // OrderLine.unit_price: "Output only".
    const [a, b] = await createItems(client(), "ignored", [{ quantity: 10n }, { quantity: 10n, unitPrice: eur(2n) }]);
    const customerId = uid("cust");
    const res = await client().unary(O.createOrder, {
      customerId,
      lines: [{ sku: a!, quantity: 2n, unitPrice: eur(0n, 1) }],
      shippingAddress: ADDRESS,
    });
    expect(res.order!.total).toMatchObject(eur(25n));
    const key = { customerId, orderId: res.order!.orderId };
    const added = await client().unary(O.addOrderLine, {
      ...key,
      line: { sku: b!, quantity: 1n, unitPrice: eur(99n) },
    });
    expect(added.order!.lines[1]!.unitPrice).toMatchObject(eur(2n));
    expect(added.order!.total).toMatchObject(eur(27n));
  });

  it("answers a CreateOrder re-sent with its request_id with the first result, and writes nothing more", async () => {
    const [sku] = await createItems(client(), "replay", [{ quantity: 10n }]);
    const customerId = uid("cust");
    const rid = uid("rid");
    const first = await createOrder(client(), customerId, [[sku!, 4n]], rid);
    const key = { customerId, orderId: first.orderId };
    const confirmed = (await client().unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED })).order!;
    const again = await createOrder(client(), customerId, [[sku!, 4n]], rid);
    expect(again.orderId).toBe(first.orderId);
    expect(again).toEqual(first);
    expect(await stockOf(client(), sku!)).toBe(6n);
    expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(confirmed);
    const reused = await failure(() => createOrder(client(), customerId, [[sku!, 5n]], rid));
    expectFailure(reused, Code.InvalidArgument, "REQUEST_ID_REUSED");
    // A CancelOrder request_id is bound to its order too.
    const other = await createOrder(client(), customerId, [[sku!, 1n]]);
    const cancelRid = uid("rid");
    await client().unary(O.cancelOrder, { ...key, requestId: cancelRid });
    const wrongOrder = await failure(() =>
      client().unary(O.cancelOrder, { customerId, orderId: other.orderId, requestId: cancelRid }),
    );
    expectFailure(wrongOrder, Code.InvalidArgument, "REQUEST_ID_REUSED");
    expect((await client().unary(O.getOrder, { customerId, orderId: other.orderId })).order?.status).toBe(S.PENDING);
    expect(await stockOf(client(), sku!)).toBe(9n);
  });

  it("keeps the price an order was made at when the item's price changes", async () => {
    const [sku] = await createItems(client(), "reprice", [{ quantity: 10n, unitPrice: eur(5n) }]);
    const customerId = uid("cust");
    const before = await createOrder(client(), customerId, [[sku!, 2n]]);
    await client().unary(I.updatePrice, { sku: sku!, unitPrice: eur(7n, 500_000_000) });
    const after = await createOrder(client(), customerId, [[sku!, 2n]]);
    expect(after.total).toMatchObject(eur(15n));
    const reread = await client().unary(O.getOrder, { customerId, orderId: before.orderId, consistentRead: true });
    expect(reread.order).toEqual(before);
    expect(before.total).toMatchObject(eur(10n));
  });

  it("takes 50 lines in one order, and refuses a 51st added later", async () => {
    const skus = await createItems(
      client(),
      "fifty",
      Array.from({ length: 51 }, () => ({ quantity: 5n })),
    );
    const customerId = uid("cust");
    const order = await createOrder(
      client(),
      customerId,
      skus.slice(0, 50).map((s, i): [string, bigint] => [s, BigInt(1 + (i % 5))]),
    );
    expect(order.lines).toHaveLength(50);
    expect(toNanos(order.total!)).toBe(linesTotalNanos(order));
    expect(await stocksOf(client(), skus)).toEqual(skus.map((_, i) => (i < 50 ? 5n - BigInt(1 + (i % 5)) : 5n)));
    const f = await failure(() =>
      client().unary(O.addOrderLine, { customerId, orderId: order.orderId, line: { sku: skus[50]!, quantity: 1n } }),
    );
    expectFailure(f, Code.InvalidArgument, "INVALID_FIELD");
    expect(await stockOf(client(), skus[50]!)).toBe(5n);
    expect((await client().unary(O.getOrder, { customerId, orderId: order.orderId })).order).toEqual(order);
  });

  it("reads only the masked fields, and refuses an unknown path", async () => {
    const [sku] = await createItems(client(), "mask", [{ quantity: 10n }]);
    const customerId = uid("cust");
    const order = await createOrder(client(), customerId, [[sku!, 3n]]);
    const key = { customerId, orderId: order.orderId };
    const status = (await client().unary(O.getOrder, { ...key, readMask: { paths: ["status"] }, consistentRead: true }))
      .order!;
    expect(status).toMatchObject({ ...key, status: S.PENDING, version: 0n, lines: [] });
    expect(status.total).toBeUndefined();
    const rest = (
      await client().unary(O.getOrder, { ...key, readMask: { paths: ["lines", "shipping_address", "created_at"] } })
    ).order!;
    expect(rest).toMatchObject({
      lines: order.lines,
      shippingAddress: order.shippingAddress,
      createdAt: order.createdAt,
    });
    expect(rest).toMatchObject({ status: S.UNSPECIFIED, version: 0n });
    expect(rest.total).toBeUndefined();
    expect(rest.updatedAt).toBeUndefined();
    const total = (await client().unary(O.getOrder, { ...key, readMask: { paths: ["total", "version"] } })).order!;
    expect(total).toMatchObject({ ...key, total: order.total, version: 1n, status: S.UNSPECIFIED });
    expect(total.shippingAddress).toBeUndefined();
    // (Not [""]: FieldMask's JSON form cannot carry it, Connect would send no mask at all.)
    for (const paths of [["secret"], ["status", "total.units"], ["customer_id", "lines.sku"]]) {
      const bad = await failure(() => client().unary(O.getOrder, { ...key, readMask: { paths } }));
      expectFailure(bad, Code.InvalidArgument, "INVALID_FIELD", paths.join());
      expect(bad.badRequest?.fieldViolations.some((v) => v.field.startsWith("read_mask"))).toBe(true);
    }
  });

  it("answers ORDER_NOT_FOUND for an absent order, and for another customer's", async () => {
    const [sku] = await createItems(client(), "nf", [{ quantity: 10n }]);
    const customerId = uid("cust");
    const order = await createOrder(client(), customerId, [[sku!, 1n]]);
    const ghost = { customerId, orderId: "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV" };
    const foreign = { customerId: uid("other"), orderId: order.orderId };
    for (const key of [ghost, foreign]) {
      for (const call of [
        () => client().unary(O.getOrder, key),
        () => client().unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED }),
        () => client().unary(O.addOrderLine, { ...key, line: { sku: sku!, quantity: 1n } }),
        () => client().unary(O.cancelOrder, key),
        () => client().unary(O.deleteOrder, key),
      ]) {
        expectFailure(await failure(call), Code.NotFound, "ORDER_NOT_FOUND", key.customerId);
      }
    }
    expect(await stockOf(client(), sku!)).toBe(9n);
  });

  it("batch-gets orders in request order and lists the missing keys", async () => {
    const [sku] = await createItems(client(), "batch", [{ quantity: 10n }]);
    const a = uid("cust");
    const b = uid("cust");
    const o1 = await createOrder(client(), a, [[sku!, 1n]]);
    const o2 = await createOrder(client(), b, [[sku!, 2n]]);
    const o3 = await createOrder(client(), a, [[sku!, 3n]]);
    const missing1 = { customerId: b, orderId: o1.orderId };
    const missing2 = { customerId: a, orderId: "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV" };
    const keyOf = (o: typeof o1) => ({ customerId: o.customerId, orderId: o.orderId });
    const res = await client().unary(O.batchGetOrders, {
      keys: [keyOf(o3), missing1, keyOf(o1), missing2, keyOf(o2)],
    });
    expect(res.orders).toEqual([o3, o1, o2]);
    expect(res.missing.map((k) => [k.customerId, k.orderId])).toEqual([
      [missing1.customerId, missing1.orderId],
      [missing2.customerId, missing2.orderId],
    ]);
    const hundred = Array.from({ length: 100 }, (_, i) =>
      i === 50 ? keyOf(o2) : { customerId: a, orderId: `ORD-01ARZ3NDEKTSV4RRFFQ69G${String(i).padStart(4, "0")}` },
    );
    const big = await client().unary(O.batchGetOrders, { keys: hundred });
    expect(big.orders).toEqual([o2]);
    expect(big.missing).toHaveLength(99);
  });

  it("moves orders forward one step at a time and refuses every other status change", async () => {
    const [sku] = await createItems(client(), "trans", [{ quantity: 100n }]);
    for (const from of ALL) {
      const customerId = uid("cust");
      const order = await orderIn(client(), from, customerId, sku!);
      const key = { customerId, orderId: order.orderId };
      const allowed = FORWARD.find(([f]) => f === from)?.[1];
      for (const to of ALL.filter((t) => t !== allowed)) {
        const f = await failure(() => client().unary(O.updateOrderStatus, { ...key, status: to }));
        expectFailure(f, Code.FailedPrecondition, "INVALID_TRANSITION", `${S[from]}→${S[to]}`);
      }
      const unchanged = (await client().unary(O.getOrder, { ...key, consistentRead: true })).order!;
      expect(unchanged).toEqual(order);
      if (allowed === undefined) continue;
      const moved = (
        await client().unary(O.updateOrderStatus, { ...key, status: allowed, expectedVersion: order.version })
      ).order!;
      expect(moved).toMatchObject({ status: allowed, version: order.version + 1n, total: order.total });
      expect(moved.lines).toEqual(order.lines);
      expect(moved.createdAt).toEqual(order.createdAt);
    }
  });

  it("refuses a stale expected_version with VERSION_MISMATCH and writes nothing; versions count writes", async () => {
    const [sku] = await createItems(client(), "ver", [{ quantity: 10n }]);
    const customerId = uid("cust");
    const order = await createOrder(client(), customerId, [[sku!, 1n]]);
    const key = { customerId, orderId: order.orderId };
    const stale = await failure(() =>
      client().unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED, expectedVersion: 2n }),
    );
    expectFailure(stale, Code.Aborted, "VERSION_MISMATCH");
    expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(order);
    let version = 1n;
    for (const status of [S.CONFIRMED, S.SHIPPED, S.DELIVERED]) {
      const next = (await client().unary(O.updateOrderStatus, { ...key, status, expectedVersion: version })).order!;
      expect(next.version).toBe(++version);
      expect(next.updatedAt!.seconds).toBeGreaterThanOrEqual(order.updatedAt!.seconds);
    }
    const old = await failure(() =>
      client().unary(O.updateOrderStatus, { ...key, status: S.DELIVERED, expectedVersion: 1n }),
    );
    expect(old.code).toBe(Code.Aborted);
  });

  it("adds a line to a PENDING order: stock, lines, total and version change together", async () => {
    const [a, b, c, usd] = await createItems(client(), "add", [
      { quantity: 10n },
      { quantity: 10n, unitPrice: eur(0n, 333_333_333) },
      { quantity: 2n },
      { quantity: 10n, unitPrice: money("USD", 1n) },
    ]);
    const customerId = uid("cust");
    const order = await createOrder(client(), customerId, [[a!, 2n]]);
    const key = { customerId, orderId: order.orderId };
    const added = (
      await client().unary(O.addOrderLine, {
        ...key,
        line: { sku: b!, quantity: 3n },
        expectedVersion: 1n,
      })
    ).order!;
    expect(added).toMatchObject({ status: S.PENDING, version: 2n });
    expect(added.lines.map((l) => [l.sku, l.quantity])).toEqual([
      [a, 2n],
      [b, 3n],
    ]);
    expect(toNanos(added.lines[1]!.unitPrice!)).toBe(333_333_333n);
    expect(toNanos(added.total!)).toBe(linesTotalNanos(added));
    expect(toNanos(added.total!)).toBe(toNanos(order.total!) + 999_999_999n);
    expect(await stocksOf(client(), [a!, b!])).toEqual([8n, 7n]);

    const refusals: Array<[() => Promise<unknown>, Code, string]> = [
      [
        () => client().unary(O.addOrderLine, { ...key, line: { sku: c!, quantity: 3n } }),
        Code.FailedPrecondition,
        "OUT_OF_STOCK",
      ],
      [
        () => client().unary(O.addOrderLine, { ...key, line: { sku: c!, quantity: 1n }, expectedVersion: 1n }),
        Code.Aborted,
        "VERSION_MISMATCH",
      ],
      [
        () => client().unary(O.addOrderLine, { ...key, line: { sku: uid("ghost"), quantity: 1n } }),
        Code.NotFound,
        "ITEM_NOT_FOUND",
      ],
      [
        () => client().unary(O.addOrderLine, { ...key, line: { sku: usd!, quantity: 1n } }),
        Code.FailedPrecondition,
        "CURRENCY_MISMATCH",
      ],
      [
        () => client().unary(O.addOrderLine, { ...key, line: { sku: a!, quantity: 1n } }),
        Code.InvalidArgument,
        "INVALID_FIELD",
      ],
    ];
    for (const [call, code, reason] of refusals) expectFailure(await failure(call), code, reason);
    const oos = await failure(refusals[0]![0]);
    expect(oos.errorInfo?.metadata).toMatchObject({ sku: c, requested: "3" });
    expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(added);
    expect(await stocksOf(client(), [a!, b!, c!, usd!])).toEqual([8n, 7n, 2n, 10n]);

    // Not PENDING: refused, stock untouched.
    await client().unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED });
    const late = await failure(() => client().unary(O.addOrderLine, { ...key, line: { sku: c!, quantity: 1n } }));
    expectFailure(late, Code.FailedPrecondition, "INVALID_TRANSITION");
    for (const status of [S.SHIPPED, S.DELIVERED, S.CANCELLED]) {
      const other = await orderIn(client(), status, uid("cust"), a!);
      const f = await failure(() =>
        client().unary(O.addOrderLine, {
          customerId: other.customerId,
          orderId: other.orderId,
          line: { sku: c!, quantity: 1n },
        }),
      );
      expectFailure(f, Code.FailedPrecondition, "INVALID_TRANSITION", S[status]);
    }
    expect(await stockOf(client(), c!)).toBe(2n);
  });

  it("cancels PENDING and CONFIRMED orders: stock restored exactly, one refund of the total, repeatable", async () => {
    const [a, b, c] = await createItems(client(), "cancel", [
      { quantity: 50n },
      { quantity: 50n, unitPrice: eur(0n, 10) },
      { quantity: 50n },
    ]);
    for (const from of [S.PENDING, S.CONFIRMED]) {
      const customerId = uid("cust");
      const created = await createOrder(client(), customerId, [
        [a!, 4n],
        [b!, 9n],
      ]);
      const key = { customerId, orderId: created.orderId };
      // A line added later is restored too.
      let order = (await client().unary(O.addOrderLine, { ...key, line: { sku: c!, quantity: 6n } })).order!;
      if (from === S.CONFIRMED) order = (await client().unary(O.updateOrderStatus, { ...key, status: from })).order!;
      const stockBefore = await stocksOf(client(), [a!, b!, c!]);
      const res = await client().unary(O.cancelOrder, { ...key, reason: "changed my mind" });
      expect(res.order).toMatchObject({ ...key, status: S.CANCELLED, version: order.version + 1n, total: order.total });
      expect(res.order!.lines).toEqual(order.lines);
      const refund = res.refund!;
      expect(refund.refundId).not.toBe("");
      expect(refund).toMatchObject({ customerId, orderId: order.orderId, amount: order.total });
      expect(refund.createdAt).toBeDefined();
      const restored = [stockBefore[0]! + 4n, stockBefore[1]! + 9n, stockBefore[2]! + 6n];
      expect(await stocksOf(client(), [a!, b!, c!])).toEqual(restored);
      // Again later: the same cancellation and refund, nothing restored twice.
      const again = await client().unary(O.cancelOrder, { ...key, reason: "changed my mind" });
      expect(again.refund?.refundId).toBe(refund.refundId);
      expect(again.order).toMatchObject({ status: S.CANCELLED, version: res.order!.version });
      expect(await stocksOf(client(), [a!, b!, c!])).toEqual(restored);
      const refunds = (await scanTable(h().store, h().tables.refunds)).filter((r) => r["order_id"] === order.orderId);
      expect(refunds.map((r) => r["refund_id"])).toEqual([refund.refundId]);
    }
  });

  it("refuses to cancel SHIPPED and DELIVERED orders, and writes no refund", async () => {
    const [sku] = await createItems(client(), "nocancel", [{ quantity: 10n }]);
    for (const status of [S.SHIPPED, S.DELIVERED]) {
      const order = await orderIn(client(), status, uid("cust"), sku!);
      const key = { customerId: order.customerId, orderId: order.orderId };
      expectFailure(
        await failure(() => client().unary(O.cancelOrder, key)),
        Code.FailedPrecondition,
        "INVALID_TRANSITION",
      );
      expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(order);
      const refunds = (await scanTable(h().store, h().tables.refunds)).filter((r) => r["order_id"] === order.orderId);
      expect(refunds).toEqual([]);
    }
    expect(await stockOf(client(), sku!)).toBe(8n);
  });

  it("deletes only CANCELLED orders and returns what it deleted", async () => {
    const [sku] = await createItems(client(), "del", [{ quantity: 10n }]);
    for (const status of [S.PENDING, S.CONFIRMED, S.SHIPPED, S.DELIVERED]) {
      const order = await orderIn(client(), status, uid("cust"), sku!);
      const key = { customerId: order.customerId, orderId: order.orderId };
      const f = await failure(() => client().unary(O.deleteOrder, key));
      expect(f.code, S[status]).toBe(Code.FailedPrecondition);
      expect(f.errorInfo?.reason, S[status]).toBe("INVALID_TRANSITION");
      expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(order);
    }
    const cancelled = await orderIn(client(), S.CANCELLED, uid("cust"), sku!);
    const key = { customerId: cancelled.customerId, orderId: cancelled.orderId };
    const deleted = await client().unary(O.deleteOrder, key);
    expect(deleted.order).toEqual(cancelled);
    expectFailure(
      await failure(() => client().unary(O.getOrder, { ...key, consistentRead: true })),
      Code.NotFound,
      "ORDER_NOT_FOUND",
    );
    expectFailure(await failure(() => client().unary(O.deleteOrder, key)), Code.NotFound, "ORDER_NOT_FOUND");
  });

  it("rejects bad input naming the field, writes nothing, and keeps serving", async () => {
    const [sku, other] = await createItems(client(), "bad", [{ quantity: 100n }, { quantity: 100n }]);
    const customerId = uid("cust");
    const order = await createOrder(client(), customerId, [[sku!, 1n]]);
    const key = { customerId, orderId: order.orderId };
    const line = { sku: sku!, quantity: 1n };
    const create = (r: object) =>
      client().unary(O.createOrder, { customerId, lines: [line], shippingAddress: ADDRESS, ...r });
    const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ sku: `s${i}`, quantity: 1n }));
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => create({ customerId: "" }), "customer_id"],
      [() => create({ customerId: "a b" }), "customer_id"],
      [() => create({ customerId: "x".repeat(65) }), "customer_id"],
      [() => create({ lines: [] }), "lines"],
      [() => create({ lines: lines(51) }), "lines"],
      [() => create({ lines: [line, { sku: other!, quantity: 1n }, line] }), "lines[2]"],
      [() => create({ lines: [{ sku: "", quantity: 1n }] }), "lines[0].sku"],
      [() => create({ lines: [{ sku: "bad sku", quantity: 1n }] }), "lines[0].sku"],
      [() => create({ lines: [{ sku: sku!, quantity: 0n }] }), "lines[0].quantity"],
      [() => create({ lines: [line, { sku: other!, quantity: 10_001n }] }), "lines[1].quantity"],
      [() => create({ lines: [{ sku: sku!, quantity: -1n }] }), "lines[0].quantity"],
      [() => create({ shippingAddress: undefined }), "shipping_address"],
      [() => create({ shippingAddress: { ...ADDRESS, street: "" } }), "shipping_address.street"],
      [() => create({ shippingAddress: { ...ADDRESS, countryCode: "fra" } }), "shipping_address.country_code"],
      [() => create({ requestId: "r".repeat(129) }), "request_id"],
      [() => client().unary(O.getOrder, { ...key, customerId: "" }), "customer_id"],
      [() => client().unary(O.getOrder, { ...key, orderId: "" }), "order_id"],
      [() => client().unary(O.getOrder, { ...key, orderId: "ORD-nope" }), "order_id"],
      [() => client().unary(O.getOrder, { ...key, orderId: "x/../y" }), "order_id"],
      [() => client().unary(O.getOrder, { ...key, readMask: { paths: ["nope"] } }), "read_mask"],
      [() => client().unary(O.updateOrderStatus, { ...key, status: S.UNSPECIFIED }), "status"],
      [() => client().unary(O.updateOrderStatus, { ...key, status: 99 as OrderStatus }), "status"],
      [
        () => client().unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED, expectedVersion: -1n }),
        "expected_version",
      ],
      [() => client().unary(O.addOrderLine, key), "line"],
      [() => client().unary(O.addOrderLine, { ...key, line: { sku: other!, quantity: 0n } }), "line.quantity"],
      [() => client().unary(O.addOrderLine, { ...key, line: { sku: other!, quantity: 10_001n } }), "line.quantity"],
      [() => client().unary(O.addOrderLine, { ...key, line: { sku: "", quantity: 1n } }), "line.sku"],
      [() => client().unary(O.cancelOrder, { ...key, reason: "r".repeat(501) }), "reason"],
      [() => client().unary(O.cancelOrder, { ...key, requestId: "r".repeat(129) }), "request_id"],
      [() => client().unary(O.cancelOrder, { ...key, orderId: "" }), "order_id"],
      [() => client().unary(O.deleteOrder, { ...key, customerId: "" }), "customer_id"],
      [() => client().unary(O.deleteOrder, { ...key, orderId: "ORD-" }), "order_id"],
      [() => client().unary(O.batchGetOrders, { keys: [] }), "keys"],
      [() => client().unary(O.batchGetOrders, { keys: Array.from({ length: 101 }, () => key) }), "keys"],
      [() => client().unary(O.batchGetOrders, { keys: [key, key] }), "keys[1]"],
      [
        () => client().unary(O.batchGetOrders, { keys: [{ customerId: "", orderId: order.orderId }] }),
        "keys[0].customer_id",
      ],
    ];
    // Soft: one wrong answer must not hide the others.
    for (const [call, field] of cases) {
      let f: RpcFailure;
      try {
        f = await failure(call);
      } catch (e) {
        expect.soft((e as Error).message, field).toBe("an INVALID_ARGUMENT failure");
        continue;
      }
      expect.soft(f.code, `${field}: ${f.message}`).toBe(Code.InvalidArgument);
      expect.soft(f.errorInfo?.reason, field).toBe("INVALID_FIELD");
      const fields = f.badRequest?.fieldViolations.map((v) => v.field) ?? [];
      expect
        .soft(
          fields.some((v) => v === field || v.startsWith(`${field}.`) || v.startsWith(`${field}[`)),
          `${field} in ${fields}`,
        )
        .toBe(true);
    }
    // Nothing written: one order, one unit out of stock, and never the other sku.
    expect(await stocksOf(client(), [sku!, other!])).toEqual([99n, 100n]);
    expect((await client().unary(O.getOrder, { ...key, consistentRead: true })).order).toEqual(order);
    expect((await client().unary(O.listOrders, { customerId })).orders.map((o) => o.orderId)).toEqual([order.orderId]);
    // Still serving.
    expect((await create({ lines: [{ sku: other!, quantity: 2n }] })).order?.status).toBe(S.PENDING);
  });
});

describe("random input to the single-order and list RPCs", () => {
  it("never gets INTERNAL or UNKNOWN; INVALID_FIELD always names a field; the server keeps serving", async () => {
    const [sku] = await createItems(h().grpc, "fuzz", [{ quantity: 1_000_000n }]);
    const text = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.constantFrom("", sku!, "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV", "a b", "\u0000", "ünï", "x".repeat(65)),
    );
    const int64 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.constantFrom(0n, 1n, -1n, 10_001n),
    );
    const status = fc.oneof(fc.integer({ min: -3, max: 8 }), fc.constant(2 ** 31 - 1));
    const key = fc.record({ customerId: text, orderId: text });
    const int32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, -1, 1000, 1001));
    // Any Timestamp, valid or not (nanos ≥ 1e9, seconds past year 9999).
    const timestamp = fc.option(
      fc.record({
        seconds: fc.oneof(int64, fc.bigInt({ min: 0n, max: 4_000_000_000n })),
        nanos: fc.oneof(int32, fc.integer({ min: 0, max: 999_999_999 })),
      }),
      { nil: undefined },
    );
    const line = fc.record({ sku: text, quantity: int64 });
    const address = fc.option(
      fc.record({ street: text, city: text, region: text, postalCode: text, countryCode: text }),
      { nil: undefined },
    );
    const mask = fc.option(fc.record({ paths: fc.array(fc.stringMatching(/^[a-z]+(_[a-z]+)*$/), { maxLength: 3 }) }), {
      nil: undefined,
    });
    const requests = fc.oneof(
      fc.record({
        m: fc.constant(O.createOrder),
        r: fc.record({
          customerId: text,
          lines: fc.array(line, { maxLength: 55 }),
          shippingAddress: address,
          requestId: text,
        }),
      }),
      fc.record({
        m: fc.constant(O.getOrder),
        r: fc.record({ customerId: text, orderId: text, readMask: mask, consistentRead: fc.boolean() }),
      }),
      fc.record({
        m: fc.constant(O.updateOrderStatus),
        r: fc.record({ customerId: text, orderId: text, status, expectedVersion: int64 }),
      }),
      fc.record({
        m: fc.constant(O.addOrderLine),
        r: fc.record({ customerId: text, orderId: text, line, expectedVersion: int64 }),
      }),
      fc.record({
        m: fc.constant(O.cancelOrder),
        r: fc.record({ customerId: text, orderId: text, reason: text, requestId: text }),
      }),
      fc.record({ m: fc.constant(O.deleteOrder), r: key }),
      fc.record({ m: fc.constant(O.batchGetOrders), r: fc.record({ keys: fc.array(key, { maxLength: 105 }) }) }),
      fc.record({
        m: fc.constant(O.listOrders),
        r: fc.record({
          customerId: text,
          pageSize: int32,
          pageToken: text,
          status,
          createdAfter: timestamp,
          createdBefore: timestamp,
          newestFirst: fc.boolean(),
        }),
      }),
      fc.record({
        m: fc.constant(O.listOrdersByStatus),
        r: fc.record({
          status,
          pageSize: int32,
          pageToken: text,
          createdAfter: timestamp,
          createdBefore: timestamp,
          newestFirst: fc.boolean(),
        }),
      }),
    );
    const deliberate = new Set([Code.InvalidArgument, Code.NotFound, Code.FailedPrecondition, Code.Aborted]);
    await fc.assert(
      fc.asyncProperty(requests, fc.boolean(), async ({ m, r }, overGrpc) => {
        try {
          // Connect's JSON client cannot encode an invalid Timestamp: list requests go over gRPC.
          const grpcOnly = m === O.listOrders || m === O.listOrdersByStatus;
          await (overGrpc || grpcOnly ? h().grpc : h().connect).unary(m as never, r as never);
        } catch (e) {
          if (!isRpcFailure(e)) throw e;
          expect(deliberate.has(e.code), `${m.name} ${Code[e.code]}: ${e.message}`).toBe(true);
          expect(e.errorInfo?.domain).toBe("commerce.v1");
          if (e.errorInfo?.reason === "INVALID_FIELD") expect(e.badRequest?.fieldViolations.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
    const after = await createOrder(h().connect, uid("cust"), [[sku!, 1n]]);
    expect(after.status).toBe(S.PENDING);
  });
});

/**
 * ListOrders and ListOrdersByStatus: every order exactly once in creation order, both
 * directions, time bounds (order_service.proto: created_after "at or after", created_before
 * "before"), the status filter, page sizes, and page tokens bound to their query. The file
 * has its own tables (its harness), so the StatusIndex holds only the orders made here.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { type Order, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { useHarness } from "../support/harness.js";
import { createItems, createOrder, eventually, expectFailure, O, uid } from "../support/orders.js";
import { failure, type RpcClient, type RpcFailure } from "../support/rpc-client.js";

const h = useHarness();
const S = OrderStatus;
const ORDERS = 137;

let customer: string;
let other: string;
/** Every order of `customer`, as it is after setup, in creation order. */
let orders: Order[];
let othersOrders: Order[];

const ms = (t: Timestamp | undefined) => Number(t!.seconds) * 1000 + t!.nanos / 1e6;
/** A Timestamp at `at` ms plus `extraNanos`. */
const ts = (at: number, extraNanos = 0): MessageInitShape<typeof TimestampSchema> => ({
  seconds: BigInt(Math.floor(at / 1000)),
  nanos: (at % 1000) * 1_000_000 + extraNanos,
});

const label = (after: unknown, before: unknown, newestFirst: boolean) =>
  JSON.stringify({ after, before, newestFirst }, (_, v) => (typeof v === "bigint" ? String(v) : v));

/** Connect's JSON cannot carry an invalid Timestamp (the client refuses it): gRPC only. */
const sendable = (transport: string, field: string) => transport === "grpc" || !field.startsWith("created_");

type Bound = MessageInitShape<typeof TimestampSchema> | undefined;

/** Bounds around two stored creation times; `keep` says which created_at (ms) are inside. */
function boundCases(low: number, high: number): Array<[string, Bound, Bound, (t: number) => boolean]> {
  return [
    // Half a millisecond off any stored time: no boundary question.
    ["both, off stored times", ts(low, 500_000), ts(high, 500_000), (t) => t > low && t <= high],
    ["after only", ts(low, 500_000), undefined, (t) => t > low],
    ["before only", undefined, ts(high, 500_000), (t) => t <= high],
    ["before on a stored time: excluded", ts(low, 500_000), ts(high), (t) => t > low && t < high],
    // order_service.proto: "Only orders created at or after this time".
    ["after on a stored time: included", ts(low), ts(high, 500_000), (t) => t >= low && t <= high],
  ];
}

type Page = { orders: Order[]; nextPageToken: string };

/** Follows next_page_token to the end; checks the page size on the way. */
async function allPages(pageSize: number, fetch: (pageToken: string) => Promise<Page>): Promise<Order[]> {
  const out: Order[] = [];
  let token = "";
  for (let pages = 0; ; pages++) {
    const page = await fetch(token);
    expect(page.orders.length).toBeLessThanOrEqual(pageSize);
    out.push(...page.orders);
    token = page.nextPageToken;
    if (token === "") return out;
    expect(pages, "runaway paging").toBeLessThan(1000);
  }
}

const ids = (os: Order[]) => os.map((o) => o.orderId);
const byId = (a: Order, b: Order) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0);

beforeAll(async () => {
  const [sku] = await createItems(h().grpc, "list", [{ quantity: 1_000_000n }]);
  customer = uid("lister");
  other = uid("other");
  // Batches of 8 at once: creation times spread over many milliseconds, some shared.
  const made: Order[] = [];
  for (let i = 0; i < ORDERS; i += 8) {
    const batch = Array.from({ length: Math.min(8, ORDERS - i) }, (_, j) => i + j);
    made.push(...(await Promise.all(batch.map((n) => createOrder(h().grpc, customer, [[sku!, BigInt(1 + (n % 4))]])))));
  }
  // Statuses: every 3rd CONFIRMED, every 5th (of the rest) CANCELLED, others PENDING.
  orders = await Promise.all(
    made.map(async (o, n) => {
      const key = { customerId: customer, orderId: o.orderId };
      if (n % 3 === 1) return (await h().grpc.unary(O.updateOrderStatus, { ...key, status: S.CONFIRMED })).order!;
      if (n % 5 === 2) return (await h().grpc.unary(O.cancelOrder, key)).order!;
      return o;
    }),
  );
  orders.sort(byId);
  othersOrders = [];
  for (let i = 0; i < 9; i++) othersOrders.push(await createOrder(h().grpc, other, [[sku!, 1n]]));
}, 120_000);

describe.each(["grpc", "connect"] as const)("ListOrders over %s", (transport) => {
  const client = (): RpcClient => (transport === "grpc" ? h().grpc : h().connect);
  const list = (r: MessageInitShape<typeof O.listOrders.input>) => client().unary(O.listOrders, r);

  it(`pages through ${ORDERS} orders once each, oldest first and newest first`, async () => {
    for (const newestFirst of [false, true]) {
      const seen = await allPages(10, (pageToken) =>
        list({ customerId: customer, pageSize: 10, pageToken, newestFirst }),
      );
      const expected = newestFirst ? [...orders].reverse() : orders;
      expect(ids(seen)).toEqual(ids(expected));
      expect(seen).toEqual(expected);
    }
    const first = await list({ customerId: customer, pageSize: 10 });
    expect(first.orders).toHaveLength(10);
    expect(first.nextPageToken).not.toBe("");
    // 0 → 50; over 1000 → capped (all 137 fit).
    expect((await list({ customerId: customer })).orders).toHaveLength(50);
    const all = await list({ customerId: customer, pageSize: 5000 });
    expect(ids(all.orders)).toEqual(ids(orders));
    expect(all.nextPageToken).toBe("");
    expect(ids((await list({ customerId: other, pageSize: 100 })).orders)).toEqual(ids(othersOrders));
    expect((await list({ customerId: uid("nobody") })).orders).toEqual([]);
  });

  it("keeps to the time bounds: created_after at or after, created_before strictly before", async () => {
    const low = ms(orders[30]!.createdAt);
    const high = ms(orders[100]!.createdAt);
    // Soft per case: one wrong bound must not hide the others.
    for (const [name, createdAfter, createdBefore, keep] of boundCases(low, high)) {
      const expected = orders.filter((o) => keep(ms(o.createdAt)));
      expect(expected.length).toBeGreaterThan(0);
      for (const newestFirst of [false, true]) {
        const seen = await allPages(10, (pageToken) =>
          list({ customerId: customer, pageSize: 10, pageToken, createdAfter, createdBefore, newestFirst }),
        );
        const want = newestFirst ? [...expected].reverse() : expected;
        expect.soft(ids(seen), `${name}: ${label(createdAfter, createdBefore, newestFirst)}`).toEqual(ids(want));
      }
    }
    // An inverted range: nothing in it. The contract is silent on whether that is an empty
    // page or INVALID_ARGUMENT on a bound; either is fine, anything else is not.
    const inverted = await list({ customerId: customer, createdAfter: ts(high), createdBefore: ts(low) }).catch(
      (e: RpcFailure) => e,
    );
    if ("orders" in inverted) expect(inverted.orders).toEqual([]);
    else {
      expectFailure(inverted, Code.InvalidArgument, "INVALID_FIELD");
      expect(inverted.badRequest?.fieldViolations[0]?.field).toMatch(/^created_(after|before)$/);
    }
  });

  it("filters by status: pages may be short, paging reaches every match", async () => {
    for (const status of [S.PENDING, S.CONFIRMED, S.CANCELLED, S.DELIVERED]) {
      const expected = orders.filter((o) => o.status === status);
      for (const newestFirst of [false, true]) {
        const seen = await allPages(10, (pageToken) =>
          list({ customerId: customer, pageSize: 10, pageToken, status, newestFirst }),
        );
        expect(ids(seen), S[status]).toEqual(ids(newestFirst ? [...expected].reverse() : expected));
      }
    }
  });

  it("refuses a token replayed against another query, tampered or malformed", async () => {
    const query = { customerId: customer, pageSize: 10 };
    const token = (await list(query)).nextPageToken;
    const byStatus = (await client().unary(O.listOrdersByStatus, { status: S.PENDING, pageSize: 5 })).nextPageToken;
    const flipped = token.slice(0, 12) + (token[12] === "A" ? "B" : "A") + token.slice(13);
    const replays: Array<[string, MessageInitShape<typeof O.listOrders.input>]> = [
      ["other customer", { ...query, customerId: other, pageToken: token }],
      ["other status", { ...query, status: S.CONFIRMED, pageToken: token }],
      ["other direction", { ...query, newestFirst: true, pageToken: token }],
      ["other after bound", { ...query, createdAfter: ts(ms(orders[5]!.createdAt)), pageToken: token }],
      ["other before bound", { ...query, createdBefore: ts(ms(orders[130]!.createdAt)), pageToken: token }],
      ["ListOrdersByStatus token", { ...query, pageToken: byStatus }],
      ["tampered", { ...query, pageToken: flipped }],
      ["appended", { ...query, pageToken: `${token}x` }],
      ["garbage", { ...query, pageToken: "not-a-token" }],
    ];
    for (const [what, request] of replays) {
      const f = await failure(() => list(request)).catch((e: Error) => ({ what, error: e.message }));
      expect.soft(f, what).toMatchObject({ code: Code.InvalidArgument, errorInfo: { reason: "INVALID_PAGE_TOKEN" } });
    }
    // The real token still works for its own query.
    expect((await list({ ...query, pageToken: token })).orders[0]?.orderId).toBe(orders[10]!.orderId);
  });

  it("rejects bad list arguments naming the field", async () => {
    const cases: Array<[MessageInitShape<typeof O.listOrders.input>, string]> = [
      [{ customerId: "" }, "customer_id"],
      [{ customerId: "a b" }, "customer_id"],
      [{ customerId: customer, pageSize: -1 }, "page_size"],
      [{ customerId: customer, status: 99 as OrderStatus }, "status"],
      [{ customerId: customer, createdAfter: { seconds: 1n, nanos: 1_000_000_000 } }, "created_after"],
      [{ customerId: customer, createdBefore: { seconds: 1n, nanos: -1 } }, "created_before"],
      [{ customerId: customer, createdBefore: { seconds: 253_402_300_800n } }, "created_before"],
      [{ customerId: customer, createdAfter: { seconds: -62_135_596_801n } }, "created_after"],
    ];
    for (const [request, field] of cases) {
      if (!sendable(transport, field)) continue;
      const f = await failure(() => list(request));
      expectFailure(f, Code.InvalidArgument, "INVALID_FIELD", field);
      expect(
        f.badRequest?.fieldViolations.some((v) => v.field.startsWith(field)),
        field,
      ).toBe(true);
    }
  });
});

describe.each(["grpc", "connect"] as const)("ListOrdersByStatus over %s", (transport) => {
  const client = (): RpcClient => (transport === "grpc" ? h().grpc : h().connect);
  const byStatus = (r: MessageInitShape<typeof O.listOrdersByStatus.input>) => client().unary(O.listOrdersByStatus, r);
  const everyone = () => [...orders, ...othersOrders];

  /** Each once, sorted by created_at in the asked direction (ties in a millisecond: any order). */
  function expectListed(seen: Order[], expected: Order[], newestFirst: boolean, label: string) {
    expect(ids(seen).sort(), label).toEqual(ids(expected).sort());
    const times = seen.map((o) => ms(o.createdAt));
    const sorted = [...times].sort((a, b) => (newestFirst ? b - a : a - b));
    expect(times, label).toEqual(sorted);
  }

  it("pages through every order of a status across customers, both directions", async () => {
    for (const status of [S.PENDING, S.CONFIRMED, S.CANCELLED]) {
      const expected = everyone().filter((o) => o.status === status);
      for (const newestFirst of [false, true]) {
        // A GSI is eventually consistent: poll until it shows what was written.
        await eventually(async () => {
          const seen = await allPages(10, (pageToken) => byStatus({ status, pageSize: 10, pageToken, newestFirst }));
          expectListed(seen, expected, newestFirst, `${S[status]} newestFirst=${newestFirst}`);
        });
      }
    }
    expect((await byStatus({ status: S.DELIVERED })).orders).toEqual([]);
  });

  it("keeps to the time bounds", async () => {
    const low = ms(orders[20]!.createdAt);
    const high = ms(orders[120]!.createdAt);
    const pending = everyone().filter((o) => o.status === S.PENDING);
    for (const [name, createdAfter, createdBefore, keep] of boundCases(low, high)) {
      const expected = pending.filter((o) => keep(ms(o.createdAt)));
      for (const newestFirst of [false, true]) {
        const what = `${name}: ${label(createdAfter, createdBefore, newestFirst)}`;
        const wrong = await eventually(async () => {
          const seen = await allPages(7, (pageToken) =>
            byStatus({ status: S.PENDING, pageSize: 7, pageToken, createdAfter, createdBefore, newestFirst }),
          );
          expectListed(seen, expected, newestFirst, what);
        }, 1_500).catch((e: Error) => e.message);
        expect.soft(wrong, what).toBeUndefined();
      }
    }
  });

  it("refuses foreign, tampered and malformed tokens, and bad arguments", async () => {
    const query = { status: S.PENDING, pageSize: 5 };
    const token = (await byStatus(query)).nextPageToken;
    expect(token).not.toBe("");
    const listToken = (await client().unary(O.listOrders, { customerId: customer, pageSize: 5 })).nextPageToken;
    for (const [what, request] of [
      ["other status", { ...query, status: S.CONFIRMED, pageToken: token }],
      ["other direction", { ...query, newestFirst: true, pageToken: token }],
      ["other bounds", { ...query, createdBefore: ts(Date.now() + 60_000), pageToken: token }],
      ["ListOrders token", { ...query, pageToken: listToken }],
      ["garbage", { ...query, pageToken: "%%%" }],
      ["appended", { ...query, pageToken: `${token}A` }],
    ] as const) {
      expectFailure(await failure(() => byStatus(request)), Code.InvalidArgument, "INVALID_PAGE_TOKEN", what);
    }
    for (const [request, field] of [
      [{ status: S.UNSPECIFIED }, "status"],
      [{ status: 42 as OrderStatus }, "status"],
      [{ status: S.PENDING, pageSize: -5 }, "page_size"],
      [{ status: S.PENDING, createdAfter: { seconds: 0n, nanos: 1_000_000_000 } }, "created_after"],
      [{ status: S.PENDING, createdBefore: { seconds: 300_000_000_000n } }, "created_before"],
    ] as const) {
      if (!sendable(transport, field)) continue;
      const f = await failure(() => byStatus(request));
      expectFailure(f, Code.InvalidArgument, "INVALID_FIELD", field);
      expect(
        f.badRequest?.fieldViolations.some((v) => v.field.startsWith(field)),
        field,
      ).toBe(true);
    }
  });
});

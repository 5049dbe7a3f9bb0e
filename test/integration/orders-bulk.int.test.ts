/**
 * OrderService's bulk RPCs against the real server and DynamoDB Local: ImportOrders,
 * ScanOrders, CountOrdersByStatus, PurgeOrders. Each describe block has its own tables.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { type Order, OrderService, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { orderIdTime } from "../../src/store/ids.js";
import { useHarness } from "../support/harness.js";
import { failure, type RpcClient } from "../support/rpc-client.js";

const O = OrderService.method;
interface MoneyInit {
  currencyCode: string;
  units: bigint;
  nanos?: number;
}
/** An order as the tests build it: plain fields, spreadable, accepted as an Order init. */
interface OrderInit {
  customerId: string;
  orderId: string;
  lines: { sku: string; quantity: bigint; unitPrice: MoneyInit }[];
  total: MoneyInit;
  status: OrderStatus;
  version: bigint;
  createdAt?: { seconds: bigint; nanos: number };
  updatedAt?: { seconds: bigint; nanos: number };
  shippingAddress?: { street: string; city: string; region?: string; postalCode?: string; countryCode: string };
}

const STATUSES = [
  OrderStatus.PENDING,
  OrderStatus.CONFIRMED,
  OrderStatus.SHIPPED,
  OrderStatus.DELIVERED,
  OrderStatus.CANCELLED,
];
const NANOS = 1_000_000_000n;
const BASE_MS = Date.UTC(2024, 0, 1);

/** Order number `i`: its lines, total and status derive from i; every 10th is in USD. */
function makeOrder(i: number, over: Partial<OrderInit> & { atMs?: number } = {}): OrderInit {
  const currencyCode = i % 10 === 9 ? "USD" : "EUR";
  const lines = [1, 2].map((k) => ({
    sku: `SKU-${(i + k) % 13}`,
    quantity: BigInt(1 + ((i + k) % 4)),
    unitPrice: { currencyCode, units: BigInt((i * k) % 50), nanos: (i % 2) * 250_000_000 },
  }));
  const nanos = lines.reduce((s, l) => s + l.quantity * (l.unitPrice.units * NANOS + BigInt(l.unitPrice.nanos)), 0n);
  const { atMs, ...fields } = over;
  return {
    customerId: `cust-${i % 40}`,
    // Not the server's monotonic factory: that would move an earlier time up to the latest seen.
    orderId: `ORD-${ulid(atMs ?? BASE_MS + i * 1000)}`,
    lines,
    total: { currencyCode, units: nanos / NANOS, nanos: Number(nanos % NANOS) },
    status: STATUSES[i % STATUSES.length]!,
    version: 1n,
    ...fields,
  };
}

const totalNanos = (o: OrderInit) => o.total.units * NANOS + BigInt(o.total.nanos ?? 0);

function messages(orders: readonly OrderInit[], size = 100) {
  const out: { orders: OrderInit[] }[] = [];
  for (let i = 0; i < orders.length; i += size) out.push({ orders: orders.slice(i, i + size) });
  return out;
}

async function scanAll(client: RpcClient, request: MessageInitShape<typeof O.scanOrders.input> = {}) {
  const orders: Order[] = [];
  for await (const batch of client.serverStream(O.scanOrders, request)) {
    expect(batch.orders.length).toBeGreaterThan(0);
    expect(batch.orders.length).toBeLessThanOrEqual(100);
    orders.push(...batch.orders);
  }
  return orders;
}

/** Each key seen exactly once: the ids, sorted. */
function exactlyOnce(orders: readonly { customerId: string; orderId: string }[]): string[] {
  const keys = orders.map((o) => `${o.customerId}/${o.orderId}`);
  expect(new Set(keys).size).toBe(keys.length);
  return keys.sort();
}

const keysOf = (orders: readonly { customerId: string; orderId: string }[]) =>
  orders.map((o) => `${o.customerId}/${o.orderId}`).sort();

async function countAll(client: RpcClient, totalSegments = 0) {
  const { counts } = await client.unary(O.countOrdersByStatus, { totalSegments });
  return counts;
}

const sumCounts = (counts: Record<string, bigint>) => Object.values(counts).reduce((a, b) => a + b, 0n);

async function drain(stream: AsyncIterable<unknown>) {
  for await (const _ of stream);
}

describe("ImportOrders", () => {
  const h = useHarness();
  const orders = Array.from({ length: 3000 }, (_, i) => makeOrder(i));

  it("writes 3,000 orders sent as 30 messages, each readable as sent", async () => {
    const { written } = await h().grpc.clientStream(O.importOrders, messages(orders));
    expect(written).toBe(3000n);
    const scanned = await scanAll(h().grpc, { totalSegments: 4 });
    expect(exactlyOnce(scanned)).toEqual(keysOf(orders));
    const sent = orders[1234]!;
    const got = scanned.find((o) => o.orderId === sent.orderId)!;
    expect(got).toMatchObject({
      customerId: sent.customerId,
      lines: sent.lines,
      total: sent.total,
      status: sent.status,
      version: 1n,
      // Unset created_at is the id's time; unset updated_at is created_at.
      createdAt: timestampFromMs(orderIdTime(sent.orderId)),
      updatedAt: timestampFromMs(orderIdTime(sent.orderId)),
    });
  });

  it("re-importing the same orders overwrites them: no duplicates", async () => {
    const { written } = await h().connect.clientStream(O.importOrders, messages(orders));
    expect(written).toBe(3000n);
    expect(sumCounts(await countAll(h().grpc))).toBe(3000n);
  });

  it("an invalid order at position 1,234 fails the call naming it; the messages before it are written", async () => {
    const fresh = Array.from({ length: 3000 }, (_, i) => makeOrder(i, { customerId: `other-${i % 7}` }));
    fresh[1234] = { ...fresh[1234]!, lines: [{ ...fresh[1234]!.lines[0]!, quantity: 0n }, fresh[1234]!.lines[1]!] };
    const f = await failure(() => h().grpc.clientStream(O.importOrders, messages(fresh)));
    expect(f.code).toBe(Code.InvalidArgument);
    expect(f.badRequest?.fieldViolations.map((v) => v.field)).toContain("orders[1234].lines[0].quantity");
    // Order 1234 is in message 12 (orders 1200-1299), validated whole before any of it is
    // written: the 12 messages before it are stored, nothing after.
    expect(f.errorInfo?.metadata["written"]).toBe("1200");
    expect(sumCounts(await countAll(h().grpc))).toBe(3000n + 1200n);
  });

  it("writes a key repeated in one message once, the later copy winning", async () => {
    const first = makeOrder(5000, { status: OrderStatus.PENDING });
    const again = { ...first, status: OrderStatus.SHIPPED, version: 2n };
    const between = Array.from({ length: 30 }, (_, i) => makeOrder(5001 + i));
    // The repeat falls inside the first group of 25: that group is cut before it.
    const message = [first, ...between.slice(0, 5), again, ...between.slice(5)];
    const { written } = await h().grpc.clientStream(O.importOrders, [{ orders: message }]);
    expect(written).toBe(32n);
    const got = (await scanAll(h().grpc, { status: OrderStatus.SHIPPED })).filter((o) => o.orderId === first.orderId);
    expect(got).toHaveLength(1);
    expect(got[0]!.version).toBe(2n);
  });

  it("keeps explicit times and version; version 0 is stored as 1", async () => {
    const at = BASE_MS + 77_777_000;
    const explicit = makeOrder(6000, {
      atMs: at,
      createdAt: timestampFromMs(at),
      updatedAt: timestampFromMs(at + 5_000),
      version: 7n,
      shippingAddress: { street: "1 Main St", city: "Springfield", region: "", postalCode: "", countryCode: "US" },
    });
    const zero = makeOrder(6001, { version: 0n });
    await h().connect.clientStream(O.importOrders, [{ orders: [explicit, zero] }]);
    const got = await scanAll(h().grpc);
    expect(got.find((o) => o.orderId === explicit.orderId)).toMatchObject({
      createdAt: timestampFromMs(at),
      updatedAt: timestampFromMs(at + 5_000),
      version: 7n,
      shippingAddress: { street: "1 Main St", countryCode: "US" },
    });
    expect(got.find((o) => o.orderId === zero.orderId)?.version).toBe(1n);
  });
});

describe("ScanOrders and CountOrdersByStatus", () => {
  const h = useHarness();
  const orders = Array.from({ length: 5000 }, (_, i) => makeOrder(i));

  beforeAll(async () => {
    const { written } = await h().grpc.clientStream(O.importOrders, messages(orders));
    expect(written).toBe(5000n);
  }, 120_000);

  const minTotal = { currencyCode: "EUR", units: 40n, nanos: 500_000_000 };
  const cases = [
    { name: "no filter", request: {}, expected: orders },
    {
      name: "status SHIPPED",
      request: { status: OrderStatus.SHIPPED },
      expected: orders.filter((o) => o.status === OrderStatus.SHIPPED),
    },
    {
      name: "min_total 40.50 EUR",
      request: { minTotal },
      expected: orders.filter((o) => o.total.currencyCode === "EUR" && totalNanos(o) >= 40_500_000_000n),
    },
    {
      name: "status and min_total",
      request: { status: OrderStatus.PENDING, minTotal },
      expected: orders.filter(
        (o) => o.status === OrderStatus.PENDING && o.total.currencyCode === "EUR" && totalNanos(o) >= 40_500_000_000n,
      ),
    },
  ];

  for (const totalSegments of [1, 3, 8]) {
    for (const c of cases) {
      it(`returns each matching order exactly once: ${c.name}, total_segments ${totalSegments}`, async () => {
        // Both filters must select some but not all, or they would prove nothing.
        expect(c.expected.length).toBeGreaterThan(0);
        const scanned = await scanAll(h().grpc, { totalSegments, ...c.request });
        expect(exactlyOnce(scanned)).toEqual(keysOf(c.expected));
      });
    }
  }

  it("streams the same over Connect", async () => {
    const scanned = await scanAll(h().connect, { totalSegments: 3, minTotal });
    expect(exactlyOnce(scanned)).toEqual(keysOf(cases[2]!.expected));
  });

  it("reads only the read_mask's fields (and the key)", async () => {
    const scanned = await scanAll(h().grpc, { status: OrderStatus.CANCELLED, readMask: { paths: ["total"] } });
    expect(scanned.length).toBe(1000);
    for (const o of scanned) {
      expect(o.total?.currencyCode).toMatch(/^(EUR|USD)$/);
      expect(o.customerId).not.toBe("");
      expect(o.lines).toEqual([]);
      expect(o.status).toBe(OrderStatus.UNSPECIFIED);
      expect(o.createdAt).toBeUndefined();
    }
  });

  it("counts every status, agreeing with the scan, over both transports", async () => {
    const expected: Record<string, bigint> = {};
    for (const s of STATUSES) expected[`ORDER_STATUS_${OrderStatus[s]}`] = 1000n;
    for (const client of h().clients) {
      for (const totalSegments of [1, 8]) expect(await countAll(client, totalSegments), client.name).toEqual(expected);
    }
    const shipped = await scanAll(h().grpc, { status: OrderStatus.SHIPPED });
    expect(BigInt(shipped.length)).toBe(expected["ORDER_STATUS_SHIPPED"]);
  });
});

describe("PurgeOrders", () => {
  const h = useHarness();
  const BOUND_MS = BASE_MS + 50_000;
  // Customer P: orders 0-99, one a second from BASE_MS; statuses cycle. Q: the same times.
  const mine = Array.from({ length: 100 }, (_, i) => makeOrder(i, { customerId: "P" }));
  const theirs = Array.from({ length: 100 }, (_, i) => makeOrder(i, { customerId: "Q" }));
  const createdMs = (o: OrderInit) => orderIdTime(o.orderId);

  beforeAll(async () => {
    await h().grpc.clientStream(O.importOrders, messages([...mine, ...theirs]));
  });

  const remaining = async () => keysOf(await scanAll(h().grpc));

  it("deletes exactly the customer's DELIVERED and CANCELLED orders created before the bound", async () => {
    const doomed = mine.filter(
      (o) => createdMs(o) < BOUND_MS && (o.status === OrderStatus.DELIVERED || o.status === OrderStatus.CANCELLED),
    );
    // An order created exactly at the bound stays: the bound is exclusive.
    expect(mine.some((o) => createdMs(o) === BOUND_MS)).toBe(true);
    const { deleted } = await h().grpc.unary(O.purgeOrders, {
      customerId: "P",
      createdBefore: timestampFromMs(BOUND_MS),
    });
    expect(deleted).toBe(BigInt(doomed.length));
    const gone = new Set(keysOf(doomed));
    expect(await remaining()).toEqual(keysOf([...mine, ...theirs]).filter((k) => !gone.has(k)));

    const again = await h().connect.unary(O.purgeOrders, {
      customerId: "P",
      createdBefore: timestampFromMs(BOUND_MS),
    });
    expect(again.deleted).toBe(0n);
  });

  it("deletes only the statuses named", async () => {
    const before = await remaining();
    const doomed = mine.filter((o) => createdMs(o) < BOUND_MS + 10_000 && o.status === OrderStatus.PENDING);
    const { deleted } = await h().connect.unary(O.purgeOrders, {
      customerId: "P",
      createdBefore: timestampFromMs(BOUND_MS + 10_000),
      statuses: [OrderStatus.PENDING, OrderStatus.PENDING],
    });
    expect(deleted).toBe(BigInt(doomed.length));
    const gone = new Set(keysOf(doomed));
    expect(await remaining()).toEqual(before.filter((k) => !gone.has(k)));
  });
});

describe("bad input", () => {
  const h = useHarness();
  const good = makeOrder(1);
  const ts = (seconds: bigint, nanos = 0) => ({ seconds, nanos });

  // The JSON of a Timestamp out of range cannot be written: such cases go over gRPC alone.
  const jsonCannotSay = new Set([4, 5]);
  const badOrders: [string, OrderInit][] = [
    ["orders[0].customer_id", { ...good, customerId: "" }],
    ["orders[0].order_id", { ...good, orderId: "" }],
    ["orders[0].order_id", { ...good, orderId: "ORD-not-a-ulid" }],
    ["orders[0].created_at", { ...good, createdAt: timestampFromMs(orderIdTime(good.orderId) + 1) }],
    ["orders[0].created_at", { ...good, createdAt: ts(-70_000_000_000n) }],
    ["orders[0].updated_at", { ...good, updatedAt: ts(1n, 1_000_000_000) }],
    ["orders[0].updated_at", { ...good, updatedAt: timestampFromMs(orderIdTime(good.orderId) - 1) }],
    ["orders[0].status", { ...good, status: OrderStatus.UNSPECIFIED }],
    ["orders[0].status", { ...good, status: 99 as OrderStatus }],
    ["orders[0].lines", { ...good, lines: [] }],
    ["orders[0].lines[1]", { ...good, lines: [good.lines[0]!, good.lines[0]!] }],
    ["orders[0].lines[0].quantity", { ...good, lines: [{ ...good.lines[0]!, quantity: 10_001n }, good.lines[1]!] }],
    [
      "orders[0].lines[0].unit_price.nanos",
      { ...good, lines: [{ ...good.lines[0]!, unitPrice: { currencyCode: "EUR", units: 1n, nanos: -5 } }] },
    ],
    [
      "orders[0].lines[1].unit_price.currency_code",
      { ...good, lines: [good.lines[0]!, { ...good.lines[1]!, unitPrice: { currencyCode: "GBP", units: 1n } }] },
    ],
    ["orders[0].total", { ...good, total: { ...good.total, units: good.total.units! + 1n } }],
    ["orders[0].total.currency_code", { ...good, total: { ...good.total, currencyCode: "eu" } }],
    ["orders[0].version", { ...good, version: -1n }],
    [
      "orders[0].shipping_address.country_code",
      { ...good, shippingAddress: { street: "x", city: "y", countryCode: "usa" } },
    ],
  ];

  for (const [i, [field, order]] of badOrders.entries()) {
    it(`ImportOrders refuses a bad ${field} (case ${i}), writing nothing`, async () => {
      for (const client of jsonCannotSay.has(i) ? [h().grpc] : h().clients) {
        const f = await failure(() => client.clientStream(O.importOrders, [{ orders: [good, order] }]));
        expect(f.code, client.name).toBe(Code.InvalidArgument);
        expect(f.errorInfo?.reason).toBe("INVALID_FIELD");
        expect(f.errorInfo?.metadata["written"]).toBe("0");
        expect(f.badRequest?.fieldViolations.map((v) => v.field)).toContain(field.replace("orders[0]", "orders[1]"));
      }
      expect(sumCounts(await countAll(h().grpc))).toBe(0n);
    });
  }

  it("ImportOrders refuses a message of more than 100 orders", async () => {
    for (const client of h().clients) {
      const many = Array.from({ length: 101 }, (_, i) => makeOrder(i));
      const f = await failure(() => client.clientStream(O.importOrders, [{ orders: many }]));
      expect(f.code, client.name).toBe(Code.InvalidArgument);
      expect(f.badRequest?.fieldViolations[0]?.field).toBe("orders");
    }
    expect(sumCounts(await countAll(h().grpc))).toBe(0n);
  });

  const scans: [string, MessageInitShape<typeof O.scanOrders.input>][] = [
    ["total_segments", { totalSegments: 65 }],
    ["total_segments", { totalSegments: -1 }],
    ["status", { status: 99 as OrderStatus }],
    ["min_total.currency_code", { minTotal: { currencyCode: "euro", units: 1n } }],
    ["min_total.nanos", { minTotal: { currencyCode: "EUR", units: 1n, nanos: -1 } }],
    ["read_mask.paths", { readMask: { paths: ["secret"] } }],
  ];
  for (const [field, request] of scans) {
    it(`ScanOrders refuses a bad ${field} on both transports`, async () => {
      for (const client of h().clients) {
        const f = await failure(() => drain(client.serverStream(O.scanOrders, request)));
        expect(f.code, client.name).toBe(Code.InvalidArgument);
        expect(f.badRequest?.fieldViolations.map((v) => v.field)).toContain(field);
      }
    });
  }

  it("CountOrdersByStatus refuses total_segments out of range on both transports", async () => {
    for (const client of h().clients) {
      for (const totalSegments of [65, -3]) {
        const f = await failure(() => client.unary(O.countOrdersByStatus, { totalSegments }));
        expect(f.code, client.name).toBe(Code.InvalidArgument);
        expect(f.badRequest?.fieldViolations[0]?.field).toBe("total_segments");
      }
    }
  });

  const purges: [string, MessageInitShape<typeof O.purgeOrders.input>, "grpc only"?][] = [
    ["customer_id", { createdBefore: timestampFromMs(BASE_MS) }],
    ["customer_id", { customerId: "a b", createdBefore: timestampFromMs(BASE_MS) }],
    ["created_before", { customerId: "P" }],
    ["created_before", { customerId: "P", createdBefore: ts(0n, -1) }, "grpc only"],
    ["created_before", { customerId: "P", createdBefore: ts(300_000_000_000n) }, "grpc only"],
    ["statuses[0]", { customerId: "P", createdBefore: timestampFromMs(BASE_MS), statuses: [OrderStatus.UNSPECIFIED] }],
    [
      "statuses[1]",
      {
        customerId: "P",
        createdBefore: timestampFromMs(BASE_MS),
        statuses: [OrderStatus.DELIVERED, 99 as OrderStatus],
      },
    ],
  ];
  for (const [field, request, only] of purges) {
    it(`PurgeOrders refuses a bad ${field}${only ? " (gRPC)" : ""}, deleting nothing`, async () => {
      const kept = makeOrder(3, { customerId: "P", status: OrderStatus.DELIVERED, atMs: BASE_MS - 60_000 });
      await h().grpc.clientStream(O.importOrders, [{ orders: [kept] }]);
      for (const client of only ? [h().grpc] : h().clients) {
        const f = await failure(() => client.unary(O.purgeOrders, request));
        expect(f.code, client.name).toBe(Code.InvalidArgument);
        expect(f.badRequest?.fieldViolations.map((v) => v.field)).toContain(field);
      }
      expect(sumCounts(await countAll(h().grpc))).toBeGreaterThan(0n);
      const { deleted } = await h().grpc.unary(O.purgeOrders, {
        customerId: "P",
        createdBefore: timestampFromMs(BASE_MS),
      });
      expect(deleted).toBe(1n);
    });
  }
});

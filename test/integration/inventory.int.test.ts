import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { startHarness, useHarness } from "../support/harness.js";
import { eur } from "../support/money.js";
import { failure, type RpcClient } from "../support/rpc-client.js";

const M = InventoryService.method;
const h = useHarness();
let seq = 0;
const sku = (prefix: string) => `${prefix}-${process.pid}-${seq++}`;

async function createItem(client: RpcClient, s: string, quantity = 10n) {
  const res = await client.unary(M.createItem, {
    item: { sku: s, name: `Item ${s}`, unitPrice: eur(12n, 500_000_000), quantity },
  });
  return res.item!;
}

describe.each(["grpc", "connect"] as const)("InventoryService over %s", (transport) => {
  const client = () => (transport === "grpc" ? h().grpc : h().connect);

  it("creates, reads and refuses a duplicate", async () => {
    const s = sku("create");
    const item = await createItem(client(), s);
    expect(item).toMatchObject({
      sku: s,
      quantity: 10n,
      version: 1n,
      unitPrice: { currencyCode: "EUR", units: 12n, nanos: 500_000_000 },
    });
    expect(item.createdAt).toBeDefined();
    const got = await client().unary(M.getItem, { sku: s });
    expect(got.item).toEqual(item);
    const dup = await failure(() => createItem(client(), s, 99n));
    expect(dup.code).toBe(Code.AlreadyExists);
    expect(dup.errorInfo).toMatchObject({ reason: "ITEM_EXISTS", domain: "commerce.v1", metadata: { sku: s } });
    expect((await client().unary(M.getItem, { sku: s })).item?.quantity).toBe(10n);
  });

  it("reads only the masked fields and rejects unknown paths", async () => {
    const s = sku("mask");
    await createItem(client(), s);
    const got = await client().unary(M.getItem, { sku: s, readMask: { paths: ["name"] } });
    expect(got.item).toMatchObject({ sku: s, name: `Item ${s}`, quantity: 0n, version: 0n });
    expect(got.item?.unitPrice).toBeUndefined();
    const bad = await failure(() => client().unary(M.getItem, { sku: s, readMask: { paths: ["name", "secret"] } }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.errorInfo?.reason).toBe("INVALID_FIELD");
    expect(bad.badRequest?.fieldViolations[0]?.field).toBe("read_mask.paths");
  });

  it("answers NOT_FOUND naming the sku", async () => {
    const s = sku("missing");
    for (const call of [
      () => client().unary(M.getItem, { sku: s }),
      () => client().unary(M.adjustStock, { sku: s, delta: 1n }),
      () => client().unary(M.adjustStock, { sku: s, delta: 1n, requestId: `rid-${s}` }),
      () => client().unary(M.updatePrice, { sku: s, unitPrice: eur(1n) }),
      () => client().unary(M.deleteItem, { sku: s }),
    ]) {
      const f = await failure(call);
      expect(f.code).toBe(Code.NotFound);
      expect(f.errorInfo).toMatchObject({ reason: "ITEM_NOT_FOUND", metadata: { sku: s } });
    }
  });

  it("rejects bad input with the field and rule, and writes nothing", async () => {
    const s = sku("bad");
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => client().unary(M.createItem, {}), "item"],
      [() => client().unary(M.createItem, { item: { sku: "has space", name: "x", unitPrice: eur(1n) } }), "item.sku"],
      [
        () => client().unary(M.createItem, { item: { sku: "x".repeat(65), name: "x", unitPrice: eur(1n) } }),
        "item.sku",
      ],
      [() => client().unary(M.createItem, { item: { sku: s, name: "", unitPrice: eur(1n) } }), "item.name"],
      [() => client().unary(M.createItem, { item: { sku: s, name: "x" } }), "item.unit_price"],
      [
        () =>
          client().unary(M.createItem, { item: { sku: s, name: "x", unitPrice: { currencyCode: "eu", units: 1n } } }),
        "item.unit_price.currency_code",
      ],
      [() => client().unary(M.createItem, { item: { sku: s, name: "x", unitPrice: eur(-1n) } }), "item.unit_price"],
      [
        () => client().unary(M.createItem, { item: { sku: s, name: "x", unitPrice: eur(1n, -5) } }),
        "item.unit_price.nanos",
      ],
      [
        () => client().unary(M.createItem, { item: { sku: s, name: "x", unitPrice: eur(1n), quantity: -1n } }),
        "item.quantity",
      ],
      [() => client().unary(M.getItem, { sku: "" }), "sku"],
      [() => client().unary(M.adjustStock, { sku: s, delta: 0n }), "delta"],
      [() => client().unary(M.adjustStock, { sku: s, delta: 1n, expectedVersion: -1n }), "expected_version"],
      [() => client().unary(M.adjustStock, { sku: s, delta: 1n, requestId: "r".repeat(129) }), "request_id"],
      [() => client().unary(M.updatePrice, { sku: s }), "unit_price"],
      [() => client().unary(M.batchGetItems, { skus: [] }), "skus"],
      [() => client().unary(M.batchGetItems, { skus: Array.from({ length: 101 }, (_, i) => `s${i}`) }), "skus"],
      [() => client().unary(M.batchGetItems, { skus: ["a", "a"] }), "skus[1]"],
      [() => client().unary(M.listItems, { pageSize: -1 }), "page_size"],
    ];
    for (const [call, field] of cases) {
      const f = await failure(call);
      expect(f.code, field).toBe(Code.InvalidArgument);
      expect(f.errorInfo?.reason, field).toBe("INVALID_FIELD");
      expect(
        f.badRequest?.fieldViolations.map((v) => v.field),
        field,
      ).toContain(field);
      expect(f.message, field).toContain(field);
    }
    expect((await failure(() => client().unary(M.getItem, { sku: s }))).code).toBe(Code.NotFound);
    const scan = await failure(async () => {
      for await (const _ of client().serverStream(M.scanItems, { totalSegments: 65 })) void _;
    });
    expect(scan.code).toBe(Code.InvalidArgument);
    // The server is unharmed.
    await createItem(client(), s);
  });

  it("adjusts stock atomically with OUT_OF_STOCK and VERSION_MISMATCH details", async () => {
    const s = sku("adjust");
    await createItem(client(), s, 5n);
    const up = await client().unary(M.adjustStock, { sku: s, delta: 7n });
    expect(up.item).toMatchObject({ quantity: 12n, version: 2n });
    const down = await client().unary(M.adjustStock, { sku: s, delta: -2n, expectedVersion: 2n });
    expect(down.item).toMatchObject({ quantity: 10n, version: 3n });
    const short = await failure(() => client().unary(M.adjustStock, { sku: s, delta: -11n }));
    expect(short.code).toBe(Code.FailedPrecondition);
    expect(short.errorInfo).toMatchObject({
      reason: "OUT_OF_STOCK",
      metadata: { sku: s, requested: "11", available: "10" },
    });
    const stale = await failure(() => client().unary(M.adjustStock, { sku: s, delta: 1n, expectedVersion: 2n }));
    expect(stale.code).toBe(Code.Aborted);
    expect(stale.errorInfo).toMatchObject({
      reason: "VERSION_MISMATCH",
      metadata: { sku: s, expected_version: "2", actual_version: "3" },
    });
    const staleIdem = await failure(() =>
      client().unary(M.adjustStock, { sku: s, delta: 1n, expectedVersion: 2n, requestId: `v-${s}` }),
    );
    expect(staleIdem.errorInfo?.reason).toBe("VERSION_MISMATCH");
    expect((await client().unary(M.getItem, { sku: s })).item).toMatchObject({ quantity: 10n, version: 3n });
  });

  it("applies a request_id once and refuses its reuse for another request", async () => {
    const s = sku("idem");
    await createItem(client(), s, 10n);
    const rid = `rid-${s}`;
    const first = await client().unary(M.adjustStock, { sku: s, delta: -3n, requestId: rid });
    expect(first.item).toMatchObject({ quantity: 7n, version: 2n });
    await client().unary(M.adjustStock, { sku: s, delta: 1n });
    const again = await client().unary(M.adjustStock, { sku: s, delta: -3n, requestId: rid });
    expect(again.item).toEqual(first.item);
    const reused = await failure(() => client().unary(M.adjustStock, { sku: s, delta: -4n, requestId: rid }));
    expect(reused.code).toBe(Code.InvalidArgument);
    expect(reused.errorInfo?.reason).toBe("REQUEST_ID_REUSED");
    expect((await client().unary(M.getItem, { sku: s })).item).toMatchObject({ quantity: 8n, version: 3n });
  });

  it("updates prices and deletes under version checks", async () => {
    const s = sku("price");
    await createItem(client(), s);
    const priced = await client().unary(M.updatePrice, { sku: s, unitPrice: eur(0n, 1), expectedVersion: 1n });
    expect(priced.item).toMatchObject({ version: 2n, unitPrice: { units: 0n, nanos: 1 } });
    const stale = await failure(() =>
      client().unary(M.updatePrice, { sku: s, unitPrice: eur(3n), expectedVersion: 1n }),
    );
    expect(stale.errorInfo?.reason).toBe("VERSION_MISMATCH");
    const staleDelete = await failure(() => client().unary(M.deleteItem, { sku: s, expectedVersion: 1n }));
    expect(staleDelete.code).toBe(Code.Aborted);
    const deleted = await client().unary(M.deleteItem, { sku: s, expectedVersion: 2n });
    expect(deleted.item).toEqual(priced.item);
    expect((await failure(() => client().unary(M.getItem, { sku: s }))).code).toBe(Code.NotFound);
  });

  it("batch-gets found and missing skus in request order", async () => {
    const a = sku("batch");
    const b = sku("batch");
    await createItem(client(), a);
    await createItem(client(), b);
    const missing = sku("batch-missing");
    const res = await client().unary(M.batchGetItems, { skus: [b, missing, a] });
    expect(res.items.map((i) => i.sku)).toEqual([b, a]);
    expect(res.missingSkus).toEqual([missing]);
  });
});

describe("ListItems pagination", () => {
  it("pages through every item once and rejects a tampered or foreign token", async () => {
    const own = await startHarness();
    try {
      const skus = Array.from({ length: 23 }, () => sku("list"));
      await Promise.all(skus.map((s) => createItem(own.grpc, s)));
      const seen: string[] = [];
      let token = "";
      let pages = 0;
      do {
        const page = await own.grpc.unary(M.listItems, { pageSize: 5, pageToken: token });
        expect(page.items.length).toBeLessThanOrEqual(5);
        seen.push(...page.items.map((i) => i.sku));
        token = page.nextPageToken;
        pages++;
      } while (token !== "");
      expect(seen.sort()).toEqual([...skus].sort());
      // 23 items in pages of 5: the fifth page (3 items) is the last, with no token.
      expect(pages).toBe(5);
      const whole = await own.grpc.unary(M.listItems, { pageSize: 23 });
      expect(whole.items).toHaveLength(23);
      expect(whole.nextPageToken).toBe("");

      const first = await own.connect.unary(M.listItems, { pageSize: 5 });
      const t = first.nextPageToken;
      const tampered = t.slice(0, 10) + (t[10] === "A" ? "B" : "A") + t.slice(11);
      for (const bad of [tampered, "not-a-token", `${t}x`]) {
        for (const c of own.clients) {
          const f = await failure(() => c.unary(M.listItems, { pageSize: 5, pageToken: bad }));
          expect(f.code).toBe(Code.InvalidArgument);
          expect(f.errorInfo?.reason).toBe("INVALID_PAGE_TOKEN");
        }
      }
      // A token from another server (another signing key) is foreign.
      const foreign = await failure(() => h().grpc.unary(M.listItems, { pageSize: 5, pageToken: t }));
      expect(foreign.errorInfo?.reason).toBe("INVALID_PAGE_TOKEN");
    } finally {
      await own.stop();
    }
  });
});

describe("stock under concurrency", () => {
  for (const withRequestIds of [false, true]) {
    const mode = withRequestIds ? "with" : "without";
    it(`200 concurrent AdjustStock(-1) on stock 50 sell exactly 50 (${mode} request_ids)`, async () => {
      const s = sku("race");
      await createItem(h().grpc, s, 50n);
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          h().clients[i % 2]!.unary(M.adjustStock, {
            sku: s,
            delta: -1n,
            ...(withRequestIds ? { requestId: `race-${s}-${i}` } : {}),
          }),
        ),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      const rejected = results.flatMap((r) =>
        r.status === "rejected" ? [r.reason as { errorInfo?: { reason: string } }] : [],
      );
      expect(ok).toHaveLength(50);
      expect(rejected).toHaveLength(150);
      expect(new Set(rejected.map((r) => r.errorInfo?.reason))).toEqual(new Set(["OUT_OF_STOCK"]));
      expect((await h().grpc.unary(M.getItem, { sku: s })).item).toMatchObject({ quantity: 0n, version: 51n });
    });
  }

  it("the same request_id sent 20 times at once applies once, and every answer is the first result", async () => {
    const s = sku("dupes");
    await createItem(h().grpc, s, 100n);
    const rid = `dup-${s}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h().clients[i % 2]!.unary(M.adjustStock, { sku: s, delta: -7n, requestId: rid }),
      ),
    );
    for (const a of answers) expect(a.item).toEqual(answers[0]!.item);
    expect((await h().grpc.unary(M.getItem, { sku: s })).item).toMatchObject({ quantity: 93n, version: 2n });
  });
});

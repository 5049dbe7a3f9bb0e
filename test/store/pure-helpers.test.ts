import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { createKeyLock } from "../../src/store/key-lock.js";
import { createPageTokenCodec } from "../../src/store/page-token.js";
import { parallelScan } from "../../src/store/parallel-scan.js";
import { buildProjection } from "../../src/store/projection.js";
import { canonicalJson, decodeSnapshot, encodeSnapshot } from "../../src/store/snapshot.js";

const codec = createPageTokenCodec(Buffer.alloc(32, 7));
const query = { op: "ListTransfers", account: "A1", newestFirst: true };

describe("page tokens", () => {
  it("round-trip the key for the same query", () => {
    const token = codec.encode(query, { account_id: "A1", entry_key: "2026#x" });
    expect(codec.decode(query, token)).toEqual({ account_id: "A1", entry_key: "2026#x" });
    expect(codec.encode(query, undefined)).toBe("");
    expect(codec.decode(query, "")).toBeUndefined();
  });

  it("reject tampered, foreign-query, foreign-key and malformed tokens", () => {
    const token = codec.encode(query, { account_id: "A1", entry_key: "k" });
    const [payload, mac] = token.split(".") as [string, string];
    const flipped = payload.slice(0, -2) + (payload.at(-2) === "A" ? "B" : "A") + payload.at(-1);
    const bad = [
      `${flipped}.${mac}`,
      `${payload}.${mac.slice(1)}`,
      "garbage",
      "a.b.c",
      createPageTokenCodec(Buffer.alloc(32, 8)).encode(query, { account_id: "A1", entry_key: "k" }),
    ];
    for (const t of bad)
      expect(() => codec.decode(query, t)).toThrow(expect.objectContaining({ reason: "INVALID_PAGE_TOKEN" }));
    expect(() => codec.decode({ ...query, account: "A2" }, token)).toThrow(/different query/);
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          codec.decode(query, s === "" ? "x" : s);
        } catch (e) {
          return DomainError.match(e, "INVALID_PAGE_TOKEN");
        }
        return false;
      }),
    );
  });
});

describe("projection", () => {
  const allow = { sku: ["sku"], unit_price: ["price", "currency"], name: ["name"] };
  it("maps paths to attribute placeholders only", () => {
    expect(buildProjection(["unit_price"], allow, ["sku"])).toEqual({
      ProjectionExpression: "#p0, #p1, #p2",
      ExpressionAttributeNames: { "#p0": "sku", "#p1": "price", "#p2": "currency" },
    });
    expect(buildProjection([], allow, ["sku"])).toBeUndefined();
  });
  it("rejects unknown and prototype paths", () => {
    for (const p of ["nope", "__proto__", "constructor", "name, price"]) {
      expect(() => buildProjection([p], allow, [])).toThrow(expect.objectContaining({ reason: "INVALID_FIELD" }));
    }
  });
});

describe("parallelScan", () => {
  it("yields every page of every segment once and reads ahead at most one page per segment", async () => {
    const pagesPerSegment = 5;
    let requested = 0;
    let consumed = 0;
    let maxAhead = 0;
    const scan = parallelScan<number>(3, async (segment, startKey) => {
      requested++;
      maxAhead = Math.max(maxAhead, requested - consumed);
      const page = startKey === undefined ? 0 : Number(startKey["page"]);
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      return {
        items: [segment * 100 + page],
        lastEvaluatedKey: page + 1 < pagesPerSegment ? { page: page + 1 } : undefined,
      };
    });
    const seen: number[] = [];
    for await (const items of scan) {
      consumed++;
      seen.push(...items);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 100, 101, 102, 103, 104, 200, 201, 202, 203, 204]);
    expect(maxAhead).toBeLessThanOrEqual(3 + 1);
  });

  it("propagates a segment's failure", async () => {
    const scan = parallelScan<number>(2, async (segment) => {
      if (segment === 1) throw new Error("boom");
      return { items: [1], lastEvaluatedKey: undefined };
    });
    await expect(async () => {
      for await (const _ of scan) void _;
    }).rejects.toThrow("boom");
  });
});

describe("snapshot and key lock", () => {
  it("keeps bigints exact and canonicalises key order", () => {
    const v = { a: 2n ** 70n, b: [1n, "x"], c: { z: 1, y: 2 } };
    expect(decodeSnapshot(encodeSnapshot(v))).toEqual(v);
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it("runs work on one key one at a time, and other keys in parallel", async () => {
    const lock = createKeyLock();
    let active = 0;
    let maxActive = 0;
    const work = () =>
      lock("k", async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 1));
        active--;
      });
    await Promise.all([work(), work(), work(), lock("other", async () => undefined)]);
    expect(maxActive).toBe(1);
    await expect(
      lock("k", async () => {
        throw new Error("x");
      }),
    ).rejects.toThrow("x");
    await expect(lock("k", async () => 5)).resolves.toBe(5);
  });
});

/**
 * Throttling and ambiguous store failures, injected by a proxy in front of DynamoDB Local.
 * Writes with a request_id are applied exactly once even when the store applied one and
 * the answer was lost; throttling is retried inside, and what cannot be retried away is
 * UNAVAILABLE / THROTTLED with RetryInfo, so callers retry with the same request_id.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toNanos } from "../../src/domain/money.js";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { useFaultyHarness } from "../support/harness.js";
import { eur } from "../support/money.js";
import { withRetries } from "../support/retry.js";
import { failure, type RpcClient, type RpcFailure } from "../support/rpc-client.js";

const A = AccountService.method;
const I = InventoryService.method;
const { proxy, h } = useFaultyHarness();

describe("under injected faults", () => {
  it("moves money exactly once when transactions are throttled or their answers lost", async () => {
    proxy().rules = [];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++)
      ids.push(
        (
          await h().grpc.unary(A.openAccount, {
            accountId: `f-${i}`,
            owner: "f",
            currencyCode: "EUR",
            initialBalance: eur(1000n),
          })
        ).account!.accountId,
      );
    proxy().rules = [
      { operation: "TransactWriteItems", kind: "ambiguous", rate: 0.25 },
      { kind: "throttle", rate: 0.2 },
    ];
    const sent = Array.from({ length: 120 }, (_, i) => ({
      from: ids[i % 4]!,
      to: ids[(i + 1 + (i % 3)) % 4]!,
      units: BigInt(1 + (i % 7)),
      requestId: `f-t-${i}`,
    }));
    const clients: RpcClient[] = h().clients;
    const results = await Promise.all(
      sent.map((t, i) =>
        withRetries(() =>
          clients[i % 2]!.unary(A.transfer, {
            fromAccountId: t.from,
            toAccountId: t.to,
            amount: eur(t.units),
            requestId: t.requestId,
          }),
        ),
      ),
    );
    // Every caller got its transfer once, a retry re-sent it with the same request_id.
    const replays = await Promise.all(
      sent.map((t) =>
        withRetries(() =>
          h().grpc.unary(A.transfer, {
            fromAccountId: t.from,
            toAccountId: t.to,
            amount: eur(t.units),
            requestId: t.requestId,
          }),
        ),
      ),
    );
    expect(replays.map((r) => r.transfer?.transferId)).toEqual(results.map((r) => r.transfer?.transferId));
    expect(proxy().injected.ambiguous).toBeGreaterThan(5);
    expect(proxy().injected.throttle).toBeGreaterThan(5);
    proxy().rules = [];

    const expected = new Map(ids.map((id) => [id, 1000n * 1_000_000_000n]));
    for (const t of sent) {
      expected.set(t.from, expected.get(t.from)! - t.units * 1_000_000_000n);
      expected.set(t.to, expected.get(t.to)! + t.units * 1_000_000_000n);
    }
    const snapshot = await h().grpc.unary(A.getBalances, { accountIds: ids });
    for (const a of snapshot.accounts) expect(toNanos(a.balance!), a.accountId).toBe(expected.get(a.accountId));
    const ledger = new Set<string>();
    for (const id of ids) {
      for (const t of (await h().grpc.unary(A.listTransfers, { accountId: id, pageSize: 1000 })).transfers)
        ledger.add(t.transferId);
    }
    expect(ledger.size).toBe(sent.length);
  });

  it("adjusts stock once per request_id when writes are throttled or their answers lost", async () => {
    proxy().rules = [];
    await h().grpc.unary(I.createItem, { item: { sku: "fault-stock", name: "f", unitPrice: eur(1n), quantity: 100n } });
    proxy().rules = [
      { operation: "TransactWriteItems", kind: "ambiguous", rate: 0.3 },
      { kind: "throttle", rate: 0.15 },
    ];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        withRetries(() =>
          h().clients[i % 2]!.unary(I.adjustStock, { sku: "fault-stock", delta: -1n, requestId: `fs-${i % 40}` }),
        ),
      ),
    );
    proxy().rules = [];
    expect((await h().grpc.unary(I.getItem, { sku: "fault-stock" })).item?.quantity).toBe(60n);
  });

  it("never repeats a write without request_id on its own: a lost answer is reported as unknown", async () => {
    proxy().rules = [];
    await h().grpc.unary(I.createItem, { item: { sku: "fault-once", name: "f", unitPrice: eur(1n), quantity: 10n } });
    proxy().rules = [{ operation: "UpdateItem", kind: "ambiguous", rate: 1 }];
    let lost: RpcFailure;
    try {
      lost = await failure(() => h().grpc.unary(I.adjustStock, { sku: "fault-once", delta: -1n }));
    } finally {
      proxy().rules = [];
    }
    expect(lost.code).toBe(Code.Unavailable);
    expect(lost.errorInfo).toMatchObject({ reason: "STORE_UNAVAILABLE", metadata: { write_outcome: "unknown" } });
    expect(lost.message).toMatch(/may or may not have been applied/);
    // Applied exactly once by the store, not again by an SDK retry.
    expect((await h().grpc.unary(I.getItem, { sku: "fault-once" })).item).toMatchObject({ quantity: 9n, version: 2n });
    // Throttling alone is retried inside (it is never applied), so the call succeeds.
    proxy().rules = [{ operation: "UpdateItem", kind: "throttle", rate: 0.5 }];
    try {
      for (let i = 0; i < 5; i++)
        await withRetries(() => h().grpc.unary(I.adjustStock, { sku: "fault-once", delta: -1n }));
    } finally {
      proxy().rules = [];
    }
    expect((await h().grpc.unary(I.getItem, { sku: "fault-once" })).item?.quantity).toBe(4n);
  });

  it("answers DEADLINE_EXCEEDED on time when the store is slow, and is fine once it is fast again", async () => {
    proxy().rules = [{ kind: "latency", rate: 1, delayMs: 3_000 }];
    try {
      for (const client of h().clients) {
        const started = Date.now();
        const f = await failure(() => client.unary(I.getItem, { sku: "fault-stock" }, { timeoutMs: 300 }));
        expect(f.code, client.name).toBe(Code.DeadlineExceeded);
        expect(Date.now() - started, client.name).toBeLessThan(2_000);
      }
    } finally {
      proxy().rules = [];
    }
    expect((await h().grpc.unary(I.getItem, { sku: "fault-stock" })).item?.sku).toBe("fault-stock");
  });

  it("answers UNAVAILABLE / THROTTLED with RetryInfo when throttling outlasts the retries", async () => {
    proxy().rules = [{ kind: "throttle", rate: 1 }];
    try {
      const f = await failure(() => h().grpc.unary(I.getItem, { sku: "fault-stock" }));
      expect(f.code).toBe(Code.Unavailable);
      expect(f.errorInfo?.reason).toBe("THROTTLED");
      expect(f.retryInfo?.retryDelay).toBeDefined();
    } finally {
      proxy().rules = [];
    }
    expect((await h().grpc.unary(I.getItem, { sku: "fault-stock" })).item?.sku).toBe("fault-stock");
  });
});

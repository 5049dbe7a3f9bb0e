/**
 * The bank test: money is conserved and every transfer applies once, whatever the
 * concurrency and however often callers retry. Its own tables (own harness), so
 * AuditBalances sees exactly these accounts.
 */
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toNanos } from "../../src/domain/money.js";
import { AccountService, type Transfer } from "../../src/gen/commerce/v1/account_service_pb.js";
import { startHarness, useHarness } from "../support/harness.js";
import { eurFromNanos } from "../support/money.js";
import { failure, grpcClient, isRpcFailure, type RpcClient } from "../support/rpc-client.js";

const A = AccountService.method;
const ACCOUNTS = 10;
const TRANSFERS = 1000;
const CLIENTS = 16;
const RESENT_SHARE = 0.2;

const h = useHarness();

async function allLedger(client: RpcClient, accountId: string): Promise<Transfer[]> {
  const out: Transfer[] = [];
  let pageToken = "";
  do {
    const page = await client.unary(A.listTransfers, { accountId, pageSize: 1000, pageToken });
    out.push(...page.transfers);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return out;
}

describe("bank", () => {
  const title = `${TRANSFERS} random transfers from ${CLIENTS} clients, ${RESENT_SHARE * 100}% re-sent`;
  it(`${title}: money conserved, each applied once`, async () => {
    // Opening balances with nano parts; the workload below comes from a fixed seed.
    const openings = Array.from(
      { length: ACCOUNTS },
      (_, i) => BigInt(1000 + i * 137) * 1_000_000_000n + BigInt(i * 100_000_001),
    );
    const ids: string[] = [];
    for (const [i, opening] of openings.entries()) {
      const res = await h().grpc.unary(A.openAccount, {
        accountId: `bank-${i}`,
        owner: `owner ${i}`,
        currencyCode: "EUR",
        initialBalance: eurFromNanos(opening),
        requestId: `bank-open-${i}`,
      });
      ids.push(res.account!.accountId);
    }
    const openingTotal = openings.reduce((a, b) => a + b, 0n);

    // The workload: random pairs and amounts, some larger than any balance (overdrafts).
    const plan = fc.sample(
      fc.record({
        from: fc.nat(ACCOUNTS - 1),
        shift: fc.integer({ min: 1, max: ACCOUNTS - 1 }),
        nanos: fc.oneof(
          fc.bigInt({ min: 1n, max: 300n * 1_000_000_000n }),
          fc.bigInt({ min: 5_000n * 1_000_000_000n, max: 9_000n * 1_000_000_000n }),
        ),
        resend: fc.double({ min: 0, max: 1, noNaN: true }),
        concurrentResend: fc.boolean(),
      }),
      { numRuns: TRANSFERS, seed: 42 },
    );
    type Outcome = { requestId: string; transfer?: Transfer; reason?: string };
    const outcomes: Outcome[] = [];
    const clients = Array.from({ length: CLIENTS }, () => grpcClient(h().grpcAddress));
    const send = async (client: RpcClient, p: (typeof plan)[number], requestId: string): Promise<Outcome> => {
      const from = ids[p.from]!;
      const to = ids[(p.from + p.shift) % ACCOUNTS]!;
      try {
        const res = await client.unary(A.transfer, {
          fromAccountId: from,
          toAccountId: to,
          amount: eurFromNanos(p.nanos),
          requestId,
        });
        return { requestId, transfer: res.transfer! };
      } catch (e) {
        if (!isRpcFailure(e)) throw e;
        // Aborted (conflict) is retryable: callers retry with the same request_id.
        if (e.code === Code.Aborted) return send(client, p, requestId);
        return { requestId, reason: e.errorInfo?.reason ?? String(e.code) };
      }
    };
    let next = 0;
    // While money moves, snapshots keep being taken: each must add up to the opening total
    // (GetBalances reads all accounts at one instant).
    let workloadDone = false;
    const snapshotTotals: bigint[] = [];
    const snapshots = (async () => {
      while (!workloadDone) {
        try {
          const snap = await h().connect.unary(A.getBalances, { accountIds: ids });
          snapshotTotals.push(snap.accounts.reduce((sum, a) => sum + toNanos(a.balance!), 0n));
        } catch (e) {
          // A snapshot that collides with a transfer is ABORTED (retryable), never torn.
          if (!isRpcFailure(e) || e.code !== Code.Aborted) throw e;
        }
      }
    })();
    try {
      await Promise.all(
        clients.map(async (client, c) => {
          for (let i = next++; i < plan.length; i = next++) {
            const p = plan[i]!;
            const requestId = `bank-t-${i}`;
            const resend = p.resend < RESENT_SHARE;
            if (resend && p.concurrentResend) {
              // The retry races the original, from another client.
              const [x, y] = await Promise.all([
                send(client, p, requestId),
                send(clients[(c + 1) % CLIENTS]!, p, requestId),
              ]);
              outcomes.push(x, y);
            } else {
              outcomes.push(await send(client, p, requestId));
              if (resend) outcomes.push(await send(clients[(c + 3) % CLIENTS]!, p, requestId));
            }
          }
        }),
      );
    } finally {
      workloadDone = true;
      for (const c of clients) c.close();
    }
    await snapshots;
    expect(snapshotTotals.length).toBeGreaterThan(5);
    for (const total of snapshotTotals) expect(total).toBe(openingTotal);

    // Only the two expected refusals; every other call succeeded.
    const reasons = new Set(outcomes.flatMap((o) => (o.reason ? [o.reason] : [])));
    for (const r of reasons) expect(["INSUFFICIENT_FUNDS"]).toContain(r);
    expect(reasons.has("INSUFFICIENT_FUNDS")).toBe(true);

    // Every answer for one request_id is the same transfer.
    const byRequest = new Map<string, string>();
    for (const o of outcomes) {
      if (!o.transfer) continue;
      const seen = byRequest.get(o.requestId);
      if (seen !== undefined) expect(o.transfer.transferId).toBe(seen);
      byRequest.set(o.requestId, o.transfer.transferId);
    }

    // AuditBalances equals the opening total exactly.
    const audit = await h().grpc.unary(A.auditBalances, { totalSegments: 3 });
    expect(audit.accountsScanned).toBe(BigInt(ACCOUNTS));
    expect(audit.totals).toHaveLength(1);
    expect(toNanos(audit.totals[0]!)).toBe(openingTotal);

    // No balance negative; each balance = opening + credits − debits of its ledger.
    const snapshot = await h().grpc.unary(A.getBalances, { accountIds: ids });
    const ledgerIds = new Set<string>();
    for (const [i, account] of snapshot.accounts.entries()) {
      const balance = toNanos(account.balance!);
      expect(balance).toBeGreaterThanOrEqual(0n);
      const ledger = await allLedger(h().grpc, account.accountId);
      let net = 0n;
      for (const t of ledger) {
        ledgerIds.add(t.transferId);
        if (t.toAccountId === account.accountId) net += toNanos(t.amount!);
        if (t.fromAccountId === account.accountId) net -= toNanos(t.amount!);
      }
      expect(balance, account.accountId).toBe(openings[i]! + net);
    }
    // Ledger entries = distinct request_ids that succeeded, one transfer each.
    expect(ledgerIds.size).toBe(byRequest.size);
    expect(new Set(byRequest.values())).toEqual(ledgerIds);
    const sum = [...snapshot.accounts].reduce((s, a) => s + toNanos(a.balance!), 0n);
    expect(sum).toBe(openingTotal);

    // ScanAccounts streams each account exactly once, whatever the segmentation.
    for (const totalSegments of [1, 3, 7]) {
      const seen: string[] = [];
      for await (const batch of h().grpc.serverStream(A.scanAccounts, { totalSegments }))
        seen.push(...batch.accounts.map((a) => a.accountId));
      expect(seen.sort()).toEqual([...ids].sort());
    }
  });

  it("keeps nano amounts and units near 1e15 exact through transfers and audits", async () => {
    const own = await startHarness();
    try {
      const big = 999_999_999_999_999n;
      const a = (
        await own.grpc.unary(A.openAccount, {
          owner: "a",
          currencyCode: "JPY",
          initialBalance: { currencyCode: "JPY", units: big, nanos: 999_999_999 },
        })
      ).account!;
      const b = (
        await own.grpc.unary(A.openAccount, {
          owner: "b",
          currencyCode: "JPY",
          initialBalance: { currencyCode: "JPY", units: 0n, nanos: 100_000_000 },
        })
      ).account!;
      const c = (
        await own.grpc.unary(A.openAccount, {
          owner: "c",
          currencyCode: "CHF",
          initialBalance: { currencyCode: "CHF", units: 0n, nanos: 100_000_000 },
        })
      ).account!;
      await own.grpc.unary(A.deposit, {
        accountId: c.accountId,
        amount: { currencyCode: "CHF", units: 0n, nanos: 200_000_000 },
      });
      expect((await own.grpc.unary(A.getAccount, { accountId: c.accountId })).account!.balance).toEqual({
        $typeName: "commerce.v1.Money",
        currencyCode: "CHF",
        units: 0n,
        nanos: 300_000_000,
      });
      await own.grpc.unary(A.transfer, {
        fromAccountId: a.accountId,
        toAccountId: b.accountId,
        amount: { currencyCode: "JPY", units: big - 1n, nanos: 999_999_999 },
        requestId: "big-1",
      });
      await own.grpc.unary(A.transfer, {
        fromAccountId: b.accountId,
        toAccountId: a.accountId,
        amount: { currencyCode: "JPY", units: 0n, nanos: 1 },
        requestId: "big-2",
      });
      const [ga, gb] = (await own.grpc.unary(A.getBalances, { accountIds: [a.accountId, b.accountId] })).accounts;
      expect(ga!.balance).toMatchObject({ units: 1n, nanos: 1 });
      // b: 0.1 + (big - 1 + 0.999999999) - 0.000000001 = big + 0.099999998
      expect(gb!.balance).toMatchObject({ units: big, nanos: 99_999_998 });
      const audit = await own.grpc.unary(A.auditBalances, { totalSegments: 2 });
      expect(audit.totals.map((m) => [m.currencyCode, m.units, m.nanos])).toEqual([
        ["CHF", 0n, 300_000_000],
        ["JPY", big + 1n, 99_999_999],
      ]);
      expect(audit.accountsScanned).toBe(3n);

      // Ten accounts near the balance ceiling: their sum outgrows int64 units.
      for (let i = 0; i < 10; i++) {
        await own.grpc.unary(A.openAccount, {
          owner: "max",
          currencyCode: "XAU",
          initialBalance: { currencyCode: "XAU", units: 999_999_999_999_999_999n },
        });
      }
      for (const c of own.clients) {
        const f = await failure(() => c.unary(A.auditBalances, {}));
        expect(f.code).toBe(Code.OutOfRange);
        expect(f.errorInfo).toMatchObject({ reason: "AMOUNT_OUT_OF_RANGE", metadata: { currency_code: "XAU" } });
      }
    } finally {
      await own.stop();
    }
  });
});

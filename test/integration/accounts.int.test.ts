import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { useHarness } from "../support/harness.js";
import { money } from "../support/money.js";
import { failure, type RpcClient } from "../support/rpc-client.js";

const A = AccountService.method;
const h = useHarness();
let seq = 0;
const id = (p: string) => `${p}-${process.pid}-${seq++}`;

async function open(client: RpcClient, units: bigint, currency = "EUR", nanos = 0) {
  const accountId = id("acc");
  const res = await client.unary(A.openAccount, {
    accountId,
    owner: "Ada",
    currencyCode: currency,
    initialBalance: money(currency, units, nanos),
  });
  return res.account!;
}

async function balanceOf(accountId: string) {
  return (await h().grpc.unary(A.getAccount, { accountId })).account!.balance!;
}

async function ledgerOf(accountId: string, { pageSize = 7, newestFirst = false } = {}) {
  const all = [];
  let pageToken = "";
  do {
    const page = await h().grpc.unary(A.listTransfers, { accountId, pageSize, pageToken, newestFirst });
    all.push(...page.transfers);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

describe.each(["grpc", "connect"] as const)("AccountService over %s", (transport) => {
  const client = () => (transport === "grpc" ? h().grpc : h().connect);

  it("opens, reads, deposits and withdraws exactly", async () => {
    const acc = await open(client(), 10n, "EUR", 100_000_000);
    expect(acc).toMatchObject({ owner: "Ada", version: 1n, balance: money("EUR", 10n, 100_000_000) });
    expect((await client().unary(A.getAccount, { accountId: acc.accountId })).account).toEqual(acc);
    const d = await client().unary(A.deposit, { accountId: acc.accountId, amount: money("EUR", 0n, 200_000_000) });
    expect(d.account).toMatchObject({ version: 2n, balance: money("EUR", 10n, 300_000_000) });
    const w = await client().unary(A.withdraw, {
      accountId: acc.accountId,
      amount: money("EUR", 10n, 300_000_000),
      requestId: id("w"),
    });
    expect(w.account).toMatchObject({ version: 3n, balance: money("EUR", 0n, 0) });
    const over = await failure(() =>
      client().unary(A.withdraw, { accountId: acc.accountId, amount: money("EUR", 0n, 1) }),
    );
    expect(over.code).toBe(Code.FailedPrecondition);
    expect(over.errorInfo).toMatchObject({ reason: "INSUFFICIENT_FUNDS", metadata: { account_id: acc.accountId } });
    const overIdem = await failure(() =>
      client().unary(A.withdraw, { accountId: acc.accountId, amount: money("EUR", 0n, 1), requestId: id("w") }),
    );
    expect(overIdem.errorInfo?.reason).toBe("INSUFFICIENT_FUNDS");
    const fx = await failure(() => client().unary(A.deposit, { accountId: acc.accountId, amount: money("USD", 1n) }));
    expect(fx.errorInfo?.reason).toBe("CURRENCY_MISMATCH");
    expect(await balanceOf(acc.accountId)).toMatchObject(money("EUR", 0n, 0));
  });

  it("generates ids, refuses an existing one, and opens once per request_id", async () => {
    const rid = id("open");
    const first = await client().unary(A.openAccount, { owner: "Bo", currencyCode: "USD", requestId: rid });
    expect(first.account?.accountId).toMatch(/^ACC-/);
    expect(first.account?.balance).toMatchObject(money("USD", 0n, 0));
    const again = await client().unary(A.openAccount, { owner: "Bo", currencyCode: "USD", requestId: rid });
    expect(again.account).toEqual(first.account);
    const reused = await failure(() =>
      client().unary(A.openAccount, { owner: "Other", currencyCode: "USD", requestId: rid }),
    );
    expect(reused.errorInfo?.reason).toBe("REQUEST_ID_REUSED");
    const exists = await failure(() =>
      client().unary(A.openAccount, { accountId: first.account!.accountId, owner: "X", currencyCode: "USD" }),
    );
    expect(exists.code).toBe(Code.AlreadyExists);
    expect(exists.errorInfo).toMatchObject({
      reason: "ACCOUNT_EXISTS",
      metadata: { account_id: first.account!.accountId },
    });
  });

  it("transfers once per request_id and records it in both ledgers", async () => {
    const a = await open(client(), 100n);
    const b = await open(client(), 0n);
    const rid = id("t");
    const t = await client().unary(A.transfer, {
      fromAccountId: a.accountId,
      toAccountId: b.accountId,
      amount: money("EUR", 30n, 5),
      requestId: rid,
    });
    expect(t.transfer).toMatchObject({
      fromAccountId: a.accountId,
      toAccountId: b.accountId,
      requestId: rid,
      amount: money("EUR", 30n, 5),
    });
    expect(t.transfer?.transferId).toMatch(/^TRF-/);
    const again = await client().unary(A.transfer, {
      fromAccountId: a.accountId,
      toAccountId: b.accountId,
      amount: money("EUR", 30n, 5),
      requestId: rid,
    });
    expect(again.transfer).toEqual(t.transfer);
    const reused = await failure(() =>
      client().unary(A.transfer, {
        fromAccountId: a.accountId,
        toAccountId: b.accountId,
        amount: money("EUR", 1n),
        requestId: rid,
      }),
    );
    expect(reused.errorInfo?.reason).toBe("REQUEST_ID_REUSED");
    expect(await balanceOf(a.accountId)).toMatchObject(money("EUR", 69n, 999_999_995));
    expect(await balanceOf(b.accountId)).toMatchObject(money("EUR", 30n, 5));
    expect((await client().unary(A.getTransfer, { transferId: t.transfer!.transferId })).transfer).toEqual(t.transfer);
    expect((await ledgerOf(a.accountId)).map((x) => x.transferId)).toEqual([t.transfer!.transferId]);
    expect((await ledgerOf(b.accountId)).map((x) => x.transferId)).toEqual([t.transfer!.transferId]);
  });

  it("answers every transfer error row with its reason and writes nothing", async () => {
    const a = await open(client(), 10n);
    const b = await open(client(), 10n);
    const usd = await open(client(), 10n, "USD");
    const ghost = id("ghost");
    const transfer = (from: string, to: string, amount: ReturnType<typeof money> | undefined, requestId = id("e")) =>
      client().unary(A.transfer, { fromAccountId: from, toAccountId: to, ...(amount ? { amount } : {}), requestId });
    const rows: Array<[() => Promise<unknown>, Code, string, Record<string, string>]> = [
      [
        () => transfer(a.accountId, b.accountId, money("EUR", 10n, 1)),
        Code.FailedPrecondition,
        "INSUFFICIENT_FUNDS",
        { account_id: a.accountId },
      ],
      [
        () => transfer(ghost, b.accountId, money("EUR", 1n)),
        Code.NotFound,
        "ACCOUNT_NOT_FOUND",
        { account_id: ghost, side: "from" },
      ],
      [
        () => transfer(a.accountId, ghost, money("EUR", 1n)),
        Code.NotFound,
        "ACCOUNT_NOT_FOUND",
        { account_id: ghost, side: "to" },
      ],
      [
        () => transfer(a.accountId, usd.accountId, money("EUR", 1n)),
        Code.FailedPrecondition,
        "CURRENCY_MISMATCH",
        { account_id: usd.accountId },
      ],
      [
        () => transfer(usd.accountId, a.accountId, money("USD", 1n)),
        Code.FailedPrecondition,
        "CURRENCY_MISMATCH",
        { account_id: a.accountId },
      ],
      [
        () => transfer(a.accountId, a.accountId, money("EUR", 1n)),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "to_account_id" },
      ],
      [
        () => transfer(a.accountId, b.accountId, money("EUR", 0n)),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "amount" },
      ],
      [
        () => transfer(a.accountId, b.accountId, money("EUR", -1n)),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "amount" },
      ],
      [() => transfer(a.accountId, b.accountId, undefined), Code.InvalidArgument, "INVALID_FIELD", { field: "amount" }],
      [
        () => transfer(a.accountId, b.accountId, money("EUR", 1n), ""),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "request_id" },
      ],
      [
        () => transfer(a.accountId, b.accountId, money("EUR", 1n), "x".repeat(129)),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "request_id" },
      ],
      [
        () => transfer("", b.accountId, money("EUR", 1n)),
        Code.InvalidArgument,
        "INVALID_FIELD",
        { field: "from_account_id" },
      ],
    ];
    for (const [call, code, reason, metadata] of rows) {
      const f = await failure(call);
      expect(f.code, reason).toBe(code);
      expect(f.errorInfo?.reason, JSON.stringify(metadata)).toBe(reason);
      expect(f.errorInfo?.domain).toBe("commerce.v1");
      expect(f.errorInfo?.metadata).toMatchObject(metadata);
    }
    for (const acc of [a, b, usd]) {
      expect(await balanceOf(acc.accountId)).toEqual(acc.balance);
      expect(await ledgerOf(acc.accountId)).toEqual([]);
    }
  });

  it("rejects bad input on every RPC and leaves the server unharmed", async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => client().unary(A.openAccount, { owner: "", currencyCode: "EUR" }), "owner"],
      [() => client().unary(A.openAccount, { owner: "x", currencyCode: "euro" }), "currency_code"],
      [() => client().unary(A.openAccount, { accountId: "bad id", owner: "x", currencyCode: "EUR" }), "account_id"],
      [
        () => client().unary(A.openAccount, { owner: "x", currencyCode: "EUR", initialBalance: money("EUR", -5n) }),
        "initial_balance",
      ],
      [
        () => client().unary(A.openAccount, { owner: "x", currencyCode: "EUR", initialBalance: money("USD", 5n) }),
        "initial_balance.currency_code",
      ],
      [() => client().unary(A.getAccount, { accountId: "" }), "account_id"],
      [() => client().unary(A.deposit, { accountId: "a", amount: money("EUR", 0n) }), "amount"],
      [() => client().unary(A.withdraw, { accountId: "a", amount: money("EUR", 1n, 1_000_000_000) }), "amount.nanos"],
      [() => client().unary(A.getTransfer, { transferId: "" }), "transfer_id"],
      [() => client().unary(A.listTransfers, { accountId: "a", pageSize: -5 }), "page_size"],
      [() => client().unary(A.getBalances, { accountIds: [] }), "account_ids"],
      [() => client().unary(A.getBalances, { accountIds: ["a", "a"] }), "account_ids[1]"],
      [
        () => client().unary(A.getBalances, { accountIds: Array.from({ length: 101 }, (_, i) => `a${i}`) }),
        "account_ids",
      ],
      [() => client().unary(A.auditBalances, { totalSegments: 65 }), "total_segments"],
      [() => client().unary(A.auditBalances, { totalSegments: -1 }), "total_segments"],
    ];
    for (const [call, field] of cases) {
      const f = await failure(call);
      expect(f.code, field).toBe(Code.InvalidArgument);
      expect(
        f.badRequest?.fieldViolations.map((v) => v.field),
        field,
      ).toContain(field);
    }
    const notFound = await failure(() => client().unary(A.getTransfer, { transferId: "TRF-nope" }));
    expect(notFound.errorInfo?.reason).toBe("TRANSFER_NOT_FOUND");
    const token = await failure(() => client().unary(A.listTransfers, { accountId: "a", pageToken: "forged.token" }));
    expect(token.errorInfo?.reason).toBe("INVALID_PAGE_TOKEN");
    await open(client(), 1n);
  });

  it("reads balances as one snapshot and names a missing account", async () => {
    const a = await open(client(), 1n);
    const b = await open(client(), 2n);
    const res = await client().unary(A.getBalances, { accountIds: [b.accountId, a.accountId] });
    expect(res.accounts.map((x) => x.balance?.units)).toEqual([2n, 1n]);
    const ghost = id("ghost");
    const f = await failure(() => client().unary(A.getBalances, { accountIds: [a.accountId, ghost] }));
    expect(f.code).toBe(Code.NotFound);
    expect(f.errorInfo).toMatchObject({ reason: "ACCOUNT_NOT_FOUND", metadata: { account_id: ghost } });
  });
});

describe("ledger pagination", () => {
  it("lists both directions in time order, newest first on request, token bound to its query", async () => {
    const a = await open(h().grpc, 100n);
    const b = await open(h().grpc, 100n);
    const made: string[] = [];
    for (let i = 0; i < 9; i++) {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      const t = await h().grpc.unary(A.transfer, {
        fromAccountId: from.accountId,
        toAccountId: to.accountId,
        amount: money("EUR", 1n),
        requestId: id("p"),
      });
      made.push(t.transfer!.transferId);
    }
    expect((await ledgerOf(a.accountId)).map((t) => t.transferId)).toEqual(made);
    // A page that holds exactly what is left is the last page: no token to an empty one.
    const exact = await h().grpc.unary(A.listTransfers, { accountId: a.accountId, pageSize: 9 });
    expect(exact.transfers).toHaveLength(9);
    expect(exact.nextPageToken).toBe("");
    const newest = await h().grpc.unary(A.listTransfers, { accountId: a.accountId, pageSize: 4, newestFirst: true });
    expect(newest.transfers.map((t) => t.transferId)).toEqual([...made].reverse().slice(0, 4));
    // Every page either way, a page at a time and a transfer at a time.
    for (const pageSize of [1, 4]) {
      expect((await ledgerOf(a.accountId, { pageSize })).map((t) => t.transferId)).toEqual(made);
      expect((await ledgerOf(a.accountId, { pageSize, newestFirst: true })).map((t) => t.transferId)).toEqual(
        [...made].reverse(),
      );
    }
    const foreign = await failure(() =>
      h().grpc.unary(A.listTransfers, {
        accountId: b.accountId,
        pageSize: 4,
        pageToken: newest.nextPageToken,
        newestFirst: true,
      }),
    );
    expect(foreign.errorInfo?.reason).toBe("INVALID_PAGE_TOKEN");
    const flipped = await failure(() =>
      h().grpc.unary(A.listTransfers, { accountId: a.accountId, pageSize: 4, pageToken: newest.nextPageToken }),
    );
    expect(flipped.errorInfo?.reason).toBe("INVALID_PAGE_TOKEN");
  });
});

describe("balances under concurrency", () => {
  for (const withRequestIds of [false, true]) {
    const mode = withRequestIds ? "with" : "without";
    it(`60 concurrent Withdraw(1) on a balance of 20 take exactly 20 (${mode} request_ids)`, async () => {
      const acc = await open(h().grpc, 20n);
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          h().clients[i % 2]!.unary(A.withdraw, {
            accountId: acc.accountId,
            amount: money("EUR", 1n),
            ...(withRequestIds ? { requestId: `wd-${acc.accountId}-${i % 45}` } : {}),
          }),
        ),
      );
      const reasons = results.flatMap((r) =>
        r.status === "rejected" ? [(r.reason as { errorInfo?: { reason: string } }).errorInfo?.reason] : [],
      );
      expect(new Set(reasons)).toEqual(new Set(["INSUFFICIENT_FUNDS"]));
      if (withRequestIds) {
        // 45 distinct ids, 15 of them sent twice: 20 distinct ids take money, repeats answer alike.
        const okIds = new Set(results.flatMap((r, i) => (r.status === "fulfilled" ? [i % 45] : [])));
        expect(okIds.size).toBe(20);
      } else {
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(20);
      }
      expect(await balanceOf(acc.accountId)).toMatchObject(money("EUR", 0n, 0));
    });
  }

  it("two different requests racing under one request_id: one applies, the other is REQUEST_ID_REUSED", async () => {
    const acc = await open(h().grpc, 100n);
    const rid = id("race");
    const results = await Promise.allSettled([
      h().grpc.unary(A.deposit, { accountId: acc.accountId, amount: money("EUR", 5n), requestId: rid }),
      h().connect.unary(A.deposit, { accountId: acc.accountId, amount: money("EUR", 7n), requestId: rid }),
    ]);
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((rejected.reason as { errorInfo?: { reason: string } }).errorInfo?.reason).toBe("REQUEST_ID_REUSED");
    const applied = (ok[0] as PromiseFulfilledResult<{ account?: { balance?: { units: bigint } } }>).value.account!
      .balance!.units;
    expect([105n, 107n]).toContain(applied);
    expect((await balanceOf(acc.accountId)).units).toBe(applied);
  });
});

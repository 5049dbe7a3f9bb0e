/** AccountService: validate → store → map. No transport code, no DynamoDB details. */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Account, Transfer } from "../domain/accounts.js";
import { CURRENCY_RULE, isCurrencyCode, type Money } from "../domain/money.js";
import {
  type Account as AccountMessage,
  AccountSchema,
  type AccountService,
  type Transfer as TransferMessage,
  TransferSchema,
} from "../gen/commerce/v1/account_service_pb.js";
import type { AccountStore } from "../store/account-store.js";
import { moneyFromProto, moneyToProto, timestampToProto } from "./convert.js";
import { ID_PATTERN, totalSegmentsOf, Violations } from "./validate.js";

export const MAX_GET_BALANCES = 100;

export function accountToProto(a: Account): AccountMessage {
  return create(AccountSchema, {
    accountId: a.accountId,
    owner: a.owner,
    balance: moneyToProto(a.balance),
    version: a.version,
    createdAt: timestampToProto(a.createdAt),
    updatedAt: timestampToProto(a.updatedAt),
  });
}

export function transferToProto(t: Transfer): TransferMessage {
  return create(TransferSchema, {
    transferId: t.transferId,
    fromAccountId: t.fromAccountId,
    toAccountId: t.toAccountId,
    amount: moneyToProto(t.amount),
    requestId: t.requestId,
    createdAt: timestampToProto(t.createdAt),
  });
}

function balanceChange(req: { accountId: string; amount?: Parameters<typeof moneyFromProto>[0]; requestId: string }) {
  const amount = moneyFromProto(req.amount);
  new Violations()
    .id("account_id", req.accountId)
    .money("amount", amount, { positive: true })
    .requestId("request_id", req.requestId, false)
    .done();
  return { accountId: req.accountId, amount: amount!, requestId: req.requestId };
}

export function createAccountService(store: AccountStore): ServiceImpl<typeof AccountService> {
  return {
    async openAccount(req, ctx) {
      // An initial balance with no currency is read in the account's currency.
      const given = moneyFromProto(req.initialBalance);
      const initial: Money = given
        ? { ...given, currencyCode: given.currencyCode === "" ? req.currencyCode : given.currencyCode }
        : { currencyCode: req.currencyCode, units: 0n, nanos: 0 };
      const v = new Violations()
        .check(
          req.accountId === "" || ID_PATTERN.test(req.accountId),
          "account_id",
          "must be empty (generated) or 1-64 characters of [A-Za-z0-9._-]",
        )
        .text("owner", req.owner, 1, 200)
        .check(isCurrencyCode(req.currencyCode), "currency_code", CURRENCY_RULE)
        .money("initial_balance", initial, { nonNegative: true })
        .requestId("request_id", req.requestId, false);
      if (isCurrencyCode(req.currencyCode) && initial.currencyCode !== req.currencyCode) {
        v.add("initial_balance.currency_code", `must be ${req.currencyCode} (the account's currency) or empty`);
      }
      v.done();
      const account = await store.openAccount(
        { accountId: req.accountId, owner: req.owner, initialBalance: initial, requestId: req.requestId },
        ctx.signal,
      );
      return { account: accountToProto(account) };
    },

    async getAccount(req, ctx) {
      new Violations().id("account_id", req.accountId).done();
      return { account: accountToProto(await store.getAccount(req.accountId, ctx.signal)) };
    },

    async deposit(req, ctx) {
      return { account: accountToProto(await store.deposit(balanceChange(req), ctx.signal)) };
    },

    async withdraw(req, ctx) {
      return { account: accountToProto(await store.withdraw(balanceChange(req), ctx.signal)) };
    },

    async transfer(req, ctx) {
      const amount = moneyFromProto(req.amount);
      new Violations()
        .id("from_account_id", req.fromAccountId)
        .id("to_account_id", req.toAccountId)
        .check(
          req.fromAccountId === "" || req.fromAccountId !== req.toAccountId,
          "to_account_id",
          "must differ from from_account_id",
        )
        .money("amount", amount, { positive: true })
        .requestId("request_id", req.requestId, true)
        .done();
      const transfer = await store.transfer(
        { fromAccountId: req.fromAccountId, toAccountId: req.toAccountId, amount: amount!, requestId: req.requestId },
        ctx.signal,
      );
      return { transfer: transferToProto(transfer) };
    },

    async getTransfer(req, ctx) {
      new Violations().id("transfer_id", req.transferId).done();
      return { transfer: transferToProto(await store.getTransfer(req.transferId, ctx.signal)) };
    },

    async listTransfers(req, ctx) {
      const v = new Violations().id("account_id", req.accountId);
      const pageSize = v.pageSize("page_size", req.pageSize);
      v.done();
      const page = await store.listTransfers(req.accountId, pageSize, req.pageToken, req.newestFirst, ctx.signal);
      return { transfers: page.items.map(transferToProto), nextPageToken: page.nextPageToken };
    },

    async getBalances(req, ctx) {
      const v = new Violations().distinct("account_ids", req.accountIds, 1, MAX_GET_BALANCES);
      v.each(req.accountIds, MAX_GET_BALANCES, (id, i) => v.id(`account_ids[${i}]`, id)).done();
      return { accounts: (await store.getBalances(req.accountIds, ctx.signal)).map(accountToProto) };
    },

    async *scanAccounts(req, ctx) {
      const segments = totalSegmentsOf(req.totalSegments);
      for await (const accounts of store.scanAccounts(segments, ctx.signal)) {
        yield { accounts: accounts.map(accountToProto) };
      }
    },

    async auditBalances(req, ctx) {
      const segments = totalSegmentsOf(req.totalSegments);
      const audit = await store.auditBalances(segments, ctx.signal);
      return { accountsScanned: audit.accountsScanned, totals: audit.totals.map((m) => moneyToProto(m)!) };
    },
  };
}

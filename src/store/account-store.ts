/**
 * Accounts, transfers and the ledger.
 * - `Accounts` (key account_id): owner, balance (exact decimal N), currency, version, times.
 * - `Transfers` (key transfer_id): one record per transfer, for GetTransfer.
 * - `Ledger` (hash account_id, range entry_key = created_at#transfer_id): two entries per
 *   transfer, one under each account, written in the transfer's own transaction, so
 *   ListTransfers is one Query per page in either time order, both directions included.
 * Money moves only inside DynamoDB conditions (`balance >= :amount`, same currency), so a
 * balance can never go negative whatever the concurrency.
 */
import { NumberValue, TransactGetCommand } from "@aws-sdk/lib-dynamodb";
import type { Account, BalanceChange, NewAccount, Transfer, TransferCommand } from "../domain/accounts.js";
import {
  accountExists,
  accountNotFound,
  balanceAboveCeiling,
  currencyMismatch,
  type DomainError,
  insufficientFunds,
  transferNotFound,
} from "../domain/errors.js";
import { fromNanos, MAX_UNITS, type Money, moneyToDecimal, NANOS_PER_UNIT, toNanos } from "../domain/money.js";
import { readBigInt, readMoney, readString, type Stored } from "./attributes.js";
import { type StoreClient, withSignal } from "./dynamo.js";
import { getItem } from "./get-item.js";
import type { Idempotency } from "./idempotency.js";
import { timeOrderedId } from "./ids.js";
import type { PageTokenCodec } from "./page-token.js";
import { type Page, queryPage } from "./query-page.js";
import { createReadModifyWrite } from "./read-modify-write.js";
import { scanSegments } from "./scan-segments.js";
import { type GuardedWrite, interpretCancellation, type TransactItem, transactWrite } from "./transact.js";
import { writeOnce } from "./write-once.js";

export interface AccountStoreOptions {
  client: StoreClient;
  tables: { accounts: string; transfers: string; ledger: string };
  idempotency: Idempotency;
  pageTokens: PageTokenCodec;
  now?: () => Date;
}

/** Largest balance: keeps every balance representable as google.type.Money (int64 units). */
export const MAX_BALANCE_NANOS = MAX_UNITS * NANOS_PER_UNIT + (NANOS_PER_UNIT - 1n);

const decimal = (m: Money) => NumberValue.from(moneyToDecimal(m));
const nanosDecimal = (n: bigint, currency: string) => decimal(fromNanos(currency, n));

export function accountFromStored(s: Stored): Account {
  return {
    accountId: readString(s, "account_id"),
    owner: readString(s, "owner"),
    balance: readMoney(s, "balance", "currency"),
    version: readBigInt(s, "version"),
    createdAt: readString(s, "created_at"),
    updatedAt: readString(s, "updated_at"),
  };
}

function transferFromStored(s: Stored): Transfer {
  return {
    transferId: readString(s, "transfer_id"),
    fromAccountId: readString(s, "from_account_id"),
    toAccountId: readString(s, "to_account_id"),
    amount: readMoney(s, "amount", "currency"),
    requestId: readString(s, "request_id"),
    createdAt: readString(s, "created_at"),
  };
}

// ---- pure request builders -------------------------------------------------------------

/**
 * Debit under `balance >= :amount` and the same currency; credit an existing account of
 * the same currency under the balance ceiling. Each condition's failure is told apart
 * from the item as it was (ReturnValuesOnConditionCheckFailure), not guessed.
 */
export function balanceUpdate(
  table: string,
  accountId: string,
  amount: Money,
  direction: "debit" | "credit",
  now: string,
): TransactItem {
  const values: Record<string, unknown> = {
    ":amount": decimal(amount),
    ":currency": amount.currencyCode,
    ":one": 1n,
    ":now": now,
  };
  let condition = "attribute_exists(account_id) AND currency = :currency";
  if (direction === "debit") {
    condition += " AND balance >= :amount";
  } else {
    condition += " AND balance <= :ceiling";
    values[":ceiling"] = nanosDecimal(MAX_BALANCE_NANOS - toNanos(amount), amount.currencyCode);
  }
  return {
    Update: {
      TableName: table,
      Key: { account_id: accountId },
      UpdateExpression:
        `SET balance = balance ${direction === "debit" ? "-" : "+"} :amount, ` +
        "version = version + :one, updated_at = :now",
      ConditionExpression: condition,
      ExpressionAttributeValues: values,
    },
  };
}

function balanceFailure(accountId: string, amount: Money, direction: "debit" | "credit", side?: "from" | "to") {
  return (old: Stored | undefined): DomainError => {
    if (old === undefined) return accountNotFound(accountId, side);
    const account = accountFromStored(old);
    if (account.balance.currencyCode !== amount.currencyCode) {
      return currencyMismatch(accountId, account.balance.currencyCode, amount.currencyCode);
    }
    return direction === "debit"
      ? insufficientFunds(accountId, amount, account.balance)
      : balanceAboveCeiling(accountId);
  };
}

export function transferWrites(tables: AccountStoreOptions["tables"], t: Transfer): GuardedWrite[] {
  const record = {
    transfer_id: t.transferId,
    from_account_id: t.fromAccountId,
    to_account_id: t.toAccountId,
    amount: decimal(t.amount),
    currency: t.amount.currencyCode,
    request_id: t.requestId,
    created_at: t.createdAt,
  };
  const entryKey = `${t.createdAt}#${t.transferId}`;
  const ledger = (accountId: string, direction: "DEBIT" | "CREDIT"): GuardedWrite => ({
    item: {
      Put: {
        TableName: tables.ledger,
        Item: { ...record, account_id: accountId, entry_key: entryKey, direction },
        ConditionExpression: "attribute_not_exists(entry_key)",
      },
    },
  });
  return [
    {
      item: balanceUpdate(tables.accounts, t.fromAccountId, t.amount, "debit", t.createdAt),
      onConditionFailed: balanceFailure(t.fromAccountId, t.amount, "debit", "from"),
    },
    {
      item: balanceUpdate(tables.accounts, t.toAccountId, t.amount, "credit", t.createdAt),
      onConditionFailed: balanceFailure(t.toAccountId, t.amount, "credit", "to"),
    },
    {
      item: {
        Put: { TableName: tables.transfers, Item: record, ConditionExpression: "attribute_not_exists(transfer_id)" },
      },
    },
    ledger(t.fromAccountId, "DEBIT"),
    ledger(t.toAccountId, "CREDIT"),
  ];
}

// ---- the store --------------------------------------------------------------------------

export type AccountStore = ReturnType<typeof createAccountStore>;

export function createAccountStore(options: AccountStoreOptions) {
  const { client, tables, idempotency, pageTokens } = options;
  const now = () => (options.now ?? (() => new Date()))().toISOString();
  const readModifyWrite = createReadModifyWrite(client);

  async function readAccount(accountId: string, signal: AbortSignal | undefined): Promise<Account> {
    const item = await getItem(client, { table: tables.accounts, key: { account_id: accountId } }, signal);
    if (!item) throw accountNotFound(accountId);
    return accountFromStored(item);
  }

  function openedAccount(a: NewAccount): Account {
    const at = now();
    return {
      accountId: a.accountId === "" ? timeOrderedId("ACC") : a.accountId,
      owner: a.owner,
      balance: a.initialBalance,
      version: 1n,
      createdAt: at,
      updatedAt: at,
    };
  }

  function putAccount(account: Account) {
    return {
      TableName: tables.accounts,
      Item: {
        account_id: account.accountId,
        owner: account.owner,
        balance: decimal(account.balance),
        currency: account.balance.currencyCode,
        version: account.version,
        created_at: account.createdAt,
        updated_at: account.updatedAt,
      },
      ConditionExpression: "attribute_not_exists(account_id)",
    };
  }

  /** Applies a deposit (+) or withdrawal (−) to `current`, or throws why it cannot. */
  function changedBalance(current: Account, change: BalanceChange, direction: "debit" | "credit"): Account {
    const amount = change.amount;
    if (current.balance.currencyCode !== amount.currencyCode) {
      throw currencyMismatch(current.accountId, current.balance.currencyCode, amount.currencyCode);
    }
    const nanos = toNanos(current.balance) + (direction === "credit" ? toNanos(amount) : -toNanos(amount));
    if (nanos < 0n) throw insufficientFunds(current.accountId, amount, current.balance);
    if (nanos > MAX_BALANCE_NANOS) throw balanceAboveCeiling(current.accountId);
    return {
      ...current,
      balance: fromNanos(amount.currencyCode, nanos),
      version: current.version + 1n,
      updatedAt: now(),
    };
  }

  async function changeBalance(
    change: BalanceChange,
    direction: "debit" | "credit",
    signal: AbortSignal | undefined,
  ): Promise<Account> {
    if (change.requestId === "") {
      const update = balanceUpdate(tables.accounts, change.accountId, change.amount, direction, now()).Update!;
      const item = await writeOnce(
        client,
        { Update: { ...update, ReturnValues: "ALL_NEW" } },
        balanceFailure(change.accountId, change.amount, direction),
        signal,
      );
      return accountFromStored(item ?? {});
    }
    const operation = direction === "credit" ? "Deposit" : "Withdraw";
    const request = {
      requestId: change.requestId,
      operation,
      command: { accountId: change.accountId, amount: change.amount },
    };
    return idempotency.run<Account>(request, signal, (record) =>
      readModifyWrite({
        key: change.accountId,
        read: () => readAccount(change.accountId, signal),
        decide: (current) => changedBalance(current, change, direction),
        write: (current, next) => ({
          Update: {
            TableName: tables.accounts,
            Key: { account_id: current.accountId },
            UpdateExpression: "SET balance = :balance, version = :next, updated_at = :now",
            ConditionExpression: "version = :read",
            ExpressionAttributeValues: {
              ":balance": decimal(next.balance),
              ":next": next.version,
              ":now": next.updatedAt,
              ":read": current.version,
            },
          },
        }),
        record,
        requestId: change.requestId,
        expectedVersion: 0n,
        metadata: { account_id: change.accountId },
        signal,
      }),
    );
  }

  return {
    async openAccount(a: NewAccount, signal?: AbortSignal): Promise<Account> {
      if (a.requestId === "") {
        const account = openedAccount(a);
        await writeOnce(client, { Put: putAccount(account) }, () => accountExists(account.accountId), signal);
        return account;
      }
      const request = {
        requestId: a.requestId,
        operation: "OpenAccount",
        command: { accountId: a.accountId, owner: a.owner, initialBalance: a.initialBalance },
      };
      return idempotency.run<Account>(request, signal, async (record) => {
        const account = openedAccount(a);
        await transactWrite(
          client,
          [
            { item: { Put: putAccount(account) }, onConditionFailed: () => accountExists(account.accountId) },
            record(account),
          ],
          // Per attempt: each attempt carries its own times (and generated id).
          { signal, tokenSeed: `${a.requestId}#${account.accountId}#${account.createdAt}` },
        );
        return account;
      });
    },

    getAccount(accountId: string, signal?: AbortSignal): Promise<Account> {
      return readAccount(accountId, signal);
    },

    deposit(change: BalanceChange, signal?: AbortSignal): Promise<Account> {
      return changeBalance(change, "credit", signal);
    },

    withdraw(change: BalanceChange, signal?: AbortSignal): Promise<Account> {
      return changeBalance(change, "debit", signal);
    },

    transfer(command: TransferCommand, signal?: AbortSignal): Promise<Transfer> {
      const request = {
        requestId: command.requestId,
        operation: "Transfer",
        command: { from: command.fromAccountId, to: command.toAccountId, amount: command.amount },
      };
      return idempotency.run<Transfer>(request, signal, async (record) => {
        const transfer: Transfer = { ...command, transferId: timeOrderedId("TRF"), createdAt: now() };
        await transactWrite(client, [...transferWrites(tables, transfer), record(transfer)], {
          signal,
          tokenSeed: `${command.requestId}#${transfer.transferId}`,
        });
        return transfer;
      });
    },

    async getTransfer(transferId: string, signal?: AbortSignal): Promise<Transfer> {
      const item = await getItem(client, { table: tables.transfers, key: { transfer_id: transferId } }, signal);
      if (!item) throw transferNotFound(transferId);
      return transferFromStored(item);
    },

    async listTransfers(
      accountId: string,
      pageSize: number,
      pageToken: string,
      newestFirst: boolean,
      signal?: AbortSignal,
    ): Promise<Page<Transfer>> {
      const page = await queryPage(
        client,
        pageTokens,
        {
          table: tables.ledger,
          pageKey: ["account_id", "entry_key"],
          keyCondition: "account_id = :account",
          values: { ":account": accountId },
          forward: !newestFirst,
          resumeFromSortKey: { attribute: "entry_key" },
          pageSize,
          query: { op: "ListTransfers", table: tables.ledger, accountId, newestFirst },
          pageToken,
        },
        signal,
      );
      return { items: page.items.map(transferFromStored), nextPageToken: page.nextPageToken };
    },

    /** One consistent snapshot: TransactGetItems reads all (≤ 100) at one instant. */
    async getBalances(accountIds: readonly string[], signal?: AbortSignal): Promise<Account[]> {
      try {
        const out = await client.call((doc) =>
          doc.send(
            new TransactGetCommand({
              TransactItems: accountIds.map((id) => ({ Get: { TableName: tables.accounts, Key: { account_id: id } } })),
            }),
            withSignal(signal),
          ),
        );
        return (out.Responses ?? []).map((r, i) => {
          if (!r.Item) throw accountNotFound(accountIds[i]!);
          return accountFromStored(r.Item);
        });
      } catch (err) {
        throw interpretCancellation(err, []);
      }
    },

    async *scanAccounts(totalSegments: number, signal?: AbortSignal): AsyncGenerator<Account[]> {
      for await (const page of scanSegments(client, { table: tables.accounts, totalSegments, limit: 100 }, signal)) {
        yield page.map(accountFromStored);
      }
    },

    /** Sums every balance per currency in exact nanos; reads only the two attributes needed. */
    async auditBalances(
      totalSegments: number,
      signal?: AbortSignal,
    ): Promise<{ accountsScanned: bigint; totals: Money[] }> {
      const totals = new Map<string, bigint>();
      let accountsScanned = 0n;
      // Each page sees every write finished before it; the scan is no snapshot (proto: AuditBalances).
      const pages = scanSegments(
        client,
        {
          table: tables.accounts,
          totalSegments,
          projection: {
            ProjectionExpression: "#b, #c",
            ExpressionAttributeNames: { "#b": "balance", "#c": "currency" },
          },
        },
        signal,
      );
      for await (const page of pages) {
        for (const s of page) {
          const balance = readMoney(s, "balance", "currency");
          totals.set(balance.currencyCode, (totals.get(balance.currencyCode) ?? 0n) + toNanos(balance));
          accountsScanned++;
        }
      }
      return {
        accountsScanned,
        totals: [...totals.entries()]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([currency, nanos]) => fromNanos(currency, nanos)),
      };
    },
  };
}

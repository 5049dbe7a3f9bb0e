/** Account domain types: what the store returns and the handlers map to protobuf. */
import type { Money } from "./money.js";

export interface Account {
  accountId: string;
  owner: string;
  /** Never negative; its currency never changes. */
  balance: Money;
  version: bigint;
  createdAt: string;
  updatedAt: string;
}

export interface Transfer {
  transferId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: Money;
  requestId: string;
  createdAt: string;
}

export interface NewAccount {
  /** "": the store makes one. */
  accountId: string;
  owner: string;
  /** The opening balance; its currency is the account's. */
  initialBalance: Money;
  requestId: string;
}

export interface BalanceChange {
  accountId: string;
  /** > 0, in the account's currency. */
  amount: Money;
  requestId: string;
}

export interface TransferCommand {
  fromAccountId: string;
  toAccountId: string;
  amount: Money;
  requestId: string;
}

/** Inventory domain types: what the store returns and the handlers map to protobuf. */
import type { Money } from "./money.js";

export interface InventoryItem {
  sku: string;
  name: string;
  unitPrice: Money;
  quantity: bigint;
  version: bigint;
  /** ISO-8601 UTC, as stored (sortable). */
  createdAt: string;
  updatedAt: string;
}

/** An item read through a read mask: only `sku` is sure to be there. */
export type InventoryItemView = Partial<InventoryItem> & { sku: string };

export interface NewItem {
  sku: string;
  name: string;
  unitPrice: Money;
  quantity: bigint;
}

export interface StockAdjustment {
  sku: string;
  delta: bigint;
  /** 0n: don't check. */
  expectedVersion: bigint;
  /** "": not idempotent. */
  requestId: string;
}

/** Quantity in stock is kept within [0, MAX_QUANTITY]. */
export const MAX_QUANTITY = 1_000_000_000_000_000n;

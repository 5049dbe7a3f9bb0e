/**
 * Inventory table access. Table `Inventory`, key `sku`; attributes: name, price (exact
 * decimal N), currency, quantity, version, created_at, updated_at.
 * Each request is built by a pure function (unit-tested in test/store/requests.test.ts) and
 * sent through the store kit (get-item, query-page, scan-segments, write-once), which turns
 * failed conditions into the domain errors named here.
 */

import { NumberValue } from "@aws-sdk/lib-dynamodb";
import {
  type DomainError,
  invalidField,
  itemExists,
  itemNotFound,
  outOfStock,
  versionMismatch,
} from "../domain/errors.js";
import type { InventoryItem, InventoryItemView, NewItem, StockAdjustment } from "../domain/inventory.js";
import { MAX_QUANTITY } from "../domain/inventory.js";
import { type Money, moneyToDecimal } from "../domain/money.js";
import { readBigInt, readMoney, readString, type Stored } from "./attributes.js";
import { batchGet } from "./batch.js";
import type { StoreClient } from "./dynamo.js";
import { getItem } from "./get-item.js";
import type { Idempotency } from "./idempotency.js";
import type { PageTokenCodec } from "./page-token.js";
import { buildProjection, type ProjectionAllowList } from "./projection.js";
import { type Page, queryPage } from "./query-page.js";
import { createReadModifyWrite } from "./read-modify-write.js";
import { scanSegments } from "./scan-segments.js";
import { writeOnce } from "./write-once.js";

export interface InventoryStoreOptions {
  client: StoreClient;
  table: string;
  idempotency: Idempotency;
  pageTokens: PageTokenCodec;
  now?: () => Date;
}

/** InventoryItem proto field → attributes holding it. */
export const ITEM_PROJECTION: ProjectionAllowList = {
  sku: ["sku"],
  name: ["name"],
  unit_price: ["price", "currency"],
  quantity: ["quantity"],
  version: ["version"],
  created_at: ["created_at"],
  updated_at: ["updated_at"],
};

export function itemFromStored(s: Stored): InventoryItem {
  return {
    sku: readString(s, "sku"),
    name: readString(s, "name"),
    unitPrice: readMoney(s, "price", "currency"),
    quantity: readBigInt(s, "quantity"),
    version: readBigInt(s, "version"),
    createdAt: readString(s, "created_at"),
    updatedAt: readString(s, "updated_at"),
  };
}

function viewFromStored(s: Stored): InventoryItemView {
  const view: InventoryItemView = { sku: readString(s, "sku") };
  if (s["name"] !== undefined) view.name = readString(s, "name");
  if (s["price"] !== undefined && s["currency"] !== undefined) view.unitPrice = readMoney(s, "price", "currency");
  if (s["quantity"] !== undefined) view.quantity = readBigInt(s, "quantity");
  if (s["version"] !== undefined) view.version = readBigInt(s, "version");
  if (s["created_at"] !== undefined) view.createdAt = readString(s, "created_at");
  if (s["updated_at"] !== undefined) view.updatedAt = readString(s, "updated_at");
  return view;
}

const decimal = (m: Money) => NumberValue.from(moneyToDecimal(m));

// ---- pure request builders -------------------------------------------------------------

export function putNewItemRequest(table: string, item: NewItem, now: string) {
  return {
    TableName: table,
    Item: {
      sku: item.sku,
      name: item.name,
      price: decimal(item.unitPrice),
      currency: item.unitPrice.currencyCode,
      quantity: item.quantity,
      version: 1n,
      created_at: now,
      updated_at: now,
    },
    ConditionExpression: "attribute_not_exists(sku)",
  };
}

/**
 * One atomic UpdateItem: quantity += delta only if the result stays in [0, MAX_QUANTITY]
 * (and the version matches when asked). DynamoDB evaluates the condition and the update
 * together, so concurrent adjustments can never oversell.
 */
export function adjustStockRequest(table: string, a: StockAdjustment, now: string) {
  const conditions = ["attribute_exists(sku)"];
  const values: Record<string, unknown> = { ":delta": a.delta, ":one": 1n, ":now": now };
  if (a.delta < 0n) {
    conditions.push("quantity >= :needed");
    values[":needed"] = -a.delta;
  } else {
    conditions.push("quantity <= :room");
    values[":room"] = MAX_QUANTITY - a.delta;
  }
  if (a.expectedVersion !== 0n) {
    conditions.push("version = :expected");
    values[":expected"] = a.expectedVersion;
  }
  return {
    TableName: table,
    Key: { sku: a.sku },
    UpdateExpression: "SET quantity = quantity + :delta, version = version + :one, updated_at = :now",
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW" as const,
  };
}

/**
 * Update to exactly `next`, only if nobody wrote since `current` was read. The version
 * alone is not enough: a deleted and re-created item starts at version 1 again, so the
 * creation time pins the item itself (test/store/requests.test.ts).
 */
export function replaceStockRequest(table: string, current: InventoryItem, next: InventoryItem) {
  return {
    TableName: table,
    Key: { sku: current.sku },
    UpdateExpression: "SET quantity = :quantity, version = :next, updated_at = :now",
    ConditionExpression: "version = :read AND created_at = :created",
    ExpressionAttributeValues: {
      ":quantity": next.quantity,
      ":next": next.version,
      ":now": next.updatedAt,
      ":read": current.version,
      ":created": current.createdAt,
    },
  };
}

export function updatePriceRequest(table: string, sku: string, price: Money, expectedVersion: bigint, now: string) {
  const values: Record<string, unknown> = {
    ":price": decimal(price),
    ":currency": price.currencyCode,
    ":one": 1n,
    ":now": now,
  };
  let condition = "attribute_exists(sku)";
  if (expectedVersion !== 0n) {
    condition += " AND version = :expected";
    values[":expected"] = expectedVersion;
  }
  return {
    TableName: table,
    Key: { sku },
    UpdateExpression: "SET price = :price, currency = :currency, version = version + :one, updated_at = :now",
    ConditionExpression: condition,
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW" as const,
  };
}

export function deleteItemRequest(table: string, sku: string, expectedVersion: bigint) {
  const base = {
    TableName: table,
    Key: { sku },
    ReturnValues: "ALL_OLD" as const,
  };
  if (expectedVersion === 0n) return { ...base, ConditionExpression: "attribute_exists(sku)" };
  return {
    ...base,
    ConditionExpression: "attribute_exists(sku) AND version = :expected",
    ExpressionAttributeValues: { ":expected": expectedVersion },
  };
}

// ---- the store --------------------------------------------------------------------------

export type InventoryStore = ReturnType<typeof createInventoryStore>;

export function createInventoryStore(options: InventoryStoreOptions) {
  const { client, table, idempotency, pageTokens } = options;
  const now = () => (options.now ?? (() => new Date()))().toISOString();
  const readModifyWrite = createReadModifyWrite(client);

  /** A versioned write's failed condition: the item is gone, or its version moved on. */
  const versionedWriteFailure = (sku: string, expectedVersion: bigint) => (old: Stored | undefined) =>
    old ? versionMismatch({ sku }, expectedVersion, readBigInt(old, "version")) : itemNotFound(sku);

  async function readItem(sku: string, signal: AbortSignal | undefined): Promise<InventoryItem> {
    const item = await getItem(client, { table, key: { sku } }, signal);
    if (!item) throw itemNotFound(sku);
    return itemFromStored(item);
  }

  function stockViolation(a: StockAdjustment, current: InventoryItem): DomainError | undefined {
    if (a.expectedVersion !== 0n && current.version !== a.expectedVersion) {
      return versionMismatch({ sku: a.sku }, a.expectedVersion, current.version);
    }
    const result = current.quantity + a.delta;
    if (result < 0n) return outOfStock(a.sku, -a.delta, current.quantity);
    if (result > MAX_QUANTITY) return invalidField("delta", `would take quantity above ${MAX_QUANTITY}`);
    return undefined;
  }

  async function adjustOnce(a: StockAdjustment, signal: AbortSignal | undefined): Promise<InventoryItem> {
    const item = await writeOnce(
      client,
      { Update: adjustStockRequest(table, a, now()) },
      (old) => {
        if (!old) return itemNotFound(a.sku);
        // stockViolation covers every condition of adjustStockRequest: anything else is a bug (INTERNAL).
        return stockViolation(a, itemFromStored(old)) ?? new Error(`adjustment of ${a.sku} refused by a condition`);
      },
      signal,
    );
    return itemFromStored(item ?? {});
  }

  /** With a request_id the result is stored with the change (read-modify-write.ts). */
  function adjustIdempotent(a: StockAdjustment, signal: AbortSignal | undefined): Promise<InventoryItem> {
    const request = {
      requestId: a.requestId,
      operation: "AdjustStock",
      command: { sku: a.sku, delta: a.delta, expectedVersion: a.expectedVersion },
    };
    return idempotency.run<InventoryItem>(request, signal, (record) =>
      readModifyWrite({
        key: a.sku,
        read: () => readItem(a.sku, signal),
        decide: (current) => {
          const violation = stockViolation(a, current);
          if (violation) throw violation;
          return { ...current, quantity: current.quantity + a.delta, version: current.version + 1n, updatedAt: now() };
        },
        write: (current, next) => ({ Update: replaceStockRequest(table, current, next) }),
        record,
        requestId: a.requestId,
        expectedVersion: a.expectedVersion,
        metadata: { sku: a.sku },
        signal,
      }),
    );
  }

  return {
    async createItem(item: NewItem, signal?: AbortSignal): Promise<InventoryItem> {
      const request = putNewItemRequest(table, item, now());
      await writeOnce(client, { Put: request }, () => itemExists(item.sku), signal);
      return itemFromStored(request.Item);
    },

    async getItem(sku: string, readMask: readonly string[], signal?: AbortSignal): Promise<InventoryItemView> {
      const projection = buildProjection(readMask, ITEM_PROJECTION, ["sku"]);
      const item = await getItem(client, { table, key: { sku }, projection }, signal);
      if (!item) throw itemNotFound(sku);
      return viewFromStored(item);
    },

    async batchGetItems(
      skus: readonly string[],
      signal?: AbortSignal,
    ): Promise<{ items: InventoryItem[]; missingSkus: string[] }> {
      const found = await batchGet(
        client,
        table,
        skus.map((sku) => ({ sku })),
        signal,
      );
      const bySku = new Map(found.map((s) => [readString(s, "sku"), itemFromStored(s)]));
      return {
        items: skus.flatMap((sku) => bySku.get(sku) ?? []),
        missingSkus: skus.filter((sku) => !bySku.has(sku)),
      };
    },

    async listItems(pageSize: number, pageToken: string, signal?: AbortSignal): Promise<Page<InventoryItem>> {
      const query = { op: "ListItems", table };
      const page = await queryPage(client, pageTokens, { table, pageKey: ["sku"], pageSize, query, pageToken }, signal);
      return { items: page.items.map(itemFromStored), nextPageToken: page.nextPageToken };
    },

    adjustStock(a: StockAdjustment, signal?: AbortSignal): Promise<InventoryItem> {
      return a.requestId === "" ? adjustOnce(a, signal) : adjustIdempotent(a, signal);
    },

    async updatePrice(
      sku: string,
      price: Money,
      expectedVersion: bigint,
      signal?: AbortSignal,
    ): Promise<InventoryItem> {
      const request = updatePriceRequest(table, sku, price, expectedVersion, now());
      const item = await writeOnce(client, { Update: request }, versionedWriteFailure(sku, expectedVersion), signal);
      return itemFromStored(item ?? {});
    },

    async deleteItem(sku: string, expectedVersion: bigint, signal?: AbortSignal): Promise<InventoryItem> {
      const request = deleteItemRequest(table, sku, expectedVersion);
      const item = await writeOnce(client, { Delete: request }, versionedWriteFailure(sku, expectedVersion), signal);
      return itemFromStored(item ?? {});
    },

    async *scanItems(totalSegments: number, signal?: AbortSignal): AsyncGenerator<InventoryItem[]> {
      for await (const page of scanSegments(client, { table, totalSegments, limit: 100 }, signal)) {
        yield page.map(itemFromStored);
      }
    },
  };
}

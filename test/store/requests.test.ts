/** The DynamoDB requests are built by pure functions: their conditions are the invariants. */
import { describe, expect, it } from "vitest";
import { MAX_QUANTITY } from "../../src/domain/inventory.js";
import { balanceUpdate, transferWrites } from "../../src/store/account-store.js";
import { fingerprint, IDEMPOTENCY_TTL_SECONDS, idempotencyRecordPut } from "../../src/store/idempotency.js";
import {
  adjustStockRequest,
  deleteItemRequest,
  putNewItemRequest,
  replaceStockRequest,
} from "../../src/store/inventory-store.js";
import { writeOnceRequest } from "../../src/store/write-once.js";
import { eur } from "../support/money.js";

describe("inventory requests", () => {
  it("a stock decrement is conditional on enough stock, atomically", () => {
    const r = adjustStockRequest("Inventory", { sku: "A", delta: -3n, expectedVersion: 0n, requestId: "" }, "T");
    expect(r.ConditionExpression).toBe("attribute_exists(sku) AND quantity >= :needed");
    expect(r.ExpressionAttributeValues[":needed"]).toBe(3n);
    expect(r.UpdateExpression).toContain("quantity = quantity + :delta");
    expect(writeOnceRequest({ Update: r })).toMatchObject({
      Update: { ReturnValuesOnConditionCheckFailure: "ALL_OLD" },
    });
  });

  it("an increment keeps room under the ceiling, and a version check is added when asked", () => {
    const r = adjustStockRequest("Inventory", { sku: "A", delta: 5n, expectedVersion: 7n, requestId: "" }, "T");
    expect(r.ConditionExpression).toBe("attribute_exists(sku) AND quantity <= :room AND version = :expected");
    expect(r.ExpressionAttributeValues[":room"]).toBe(MAX_QUANTITY - 5n);
    expect(r.ExpressionAttributeValues[":expected"]).toBe(7n);
  });

  it("creates are conditional and money is an exact decimal", () => {
    const r = putNewItemRequest(
      "Inventory",
      { sku: "A", name: "a", unitPrice: eur(0n, 100_000_001), quantity: 1n },
      "T",
    );
    expect(r.ConditionExpression).toBe("attribute_not_exists(sku)");
    expect(String((r.Item.price as { value: string }).value)).toBe("0.100000001");
    expect(deleteItemRequest("Inventory", "A", 0n).ConditionExpression).toBe("attribute_exists(sku)");
  });
});

describe("idempotent stock replacement", () => {
  it("is conditional on the version read and on the item itself (a re-created item restarts at version 1)", () => {
    const item = {
      sku: "A",
      name: "a",
      unitPrice: eur(1n),
      quantity: 5n,
      version: 1n,
      createdAt: "C1",
      updatedAt: "U1",
    };
    const r = replaceStockRequest("Inventory", item, { ...item, quantity: 4n, version: 2n, updatedAt: "U2" });
    expect(r.ConditionExpression).toBe("version = :read AND created_at = :created");
    expect(r.ExpressionAttributeValues).toMatchObject({ ":read": 1n, ":created": "C1", ":quantity": 4n, ":next": 2n });
  });
});

describe("transfer transaction", () => {
  const tables = { accounts: "Accounts", transfers: "Transfers", ledger: "Ledger" };
  const t = {
    transferId: "TRF-1",
    fromAccountId: "a",
    toAccountId: "b",
    amount: eur(2n, 5),
    requestId: "r",
    createdAt: "2026-01-01T00:00:00.000Z",
  };

  it("debits under balance >= amount and the same currency, credits an existing same-currency account", () => {
    const [debit, credit, record, ledgerFrom, ledgerTo] = transferWrites(tables, t);
    expect(debit!.item.Update?.ConditionExpression).toBe(
      "attribute_exists(account_id) AND currency = :currency AND balance >= :amount",
    );
    expect(debit!.item.Update?.UpdateExpression).toContain("balance = balance - :amount");
    expect(credit!.item.Update?.ConditionExpression).toBe(
      "attribute_exists(account_id) AND currency = :currency AND balance <= :ceiling",
    );
    expect(credit!.item.Update?.UpdateExpression).toContain("balance = balance + :amount");
    expect(record!.item.Put?.ConditionExpression).toBe("attribute_not_exists(transfer_id)");
    expect(ledgerFrom!.item.Put?.Item).toMatchObject({
      account_id: "a",
      entry_key: "2026-01-01T00:00:00.000Z#TRF-1",
      direction: "DEBIT",
    });
    expect(ledgerTo!.item.Put?.Item).toMatchObject({ account_id: "b", direction: "CREDIT" });
  });

  it("tells the failed debit apart from the item as it was", () => {
    const [debit, credit] = transferWrites(tables, t);
    expect(debit!.onConditionFailed!(undefined)).toMatchObject({
      reason: "ACCOUNT_NOT_FOUND",
      metadata: { side: "from" },
    });
    expect(credit!.onConditionFailed!(undefined)).toMatchObject({
      reason: "ACCOUNT_NOT_FOUND",
      metadata: { side: "to" },
    });
    const stored = (currency: string, balance: string) => ({
      account_id: "a",
      owner: "o",
      balance: { value: balance },
      currency,
      version: { value: "1" },
    });
    expect(debit!.onConditionFailed!(stored("USD", "100"))).toMatchObject({ reason: "CURRENCY_MISMATCH" });
    expect(debit!.onConditionFailed!(stored("EUR", "1"))).toMatchObject({
      reason: "INSUFFICIENT_FUNDS",
      metadata: { requested: "2.000000005", available: "1" },
    });
  });

  it("a deposit has the same conditions as a credit", () => {
    expect(balanceUpdate("Accounts", "a", eur(1n), "credit", "T").Update?.ConditionExpression).toContain(
      "balance <= :ceiling",
    );
  });
});

describe("idempotency record", () => {
  it("holds the request's fingerprint and first result, and takes the key only when free or expired", () => {
    const request = { requestId: "r-1", operation: "Transfer", command: { amount: 5n } };
    const put = idempotencyRecordPut("Keys", request, { units: 7n }, 1_000).Put;
    expect(put).toEqual({
      TableName: "Keys",
      Item: {
        request_id: "r-1",
        fingerprint: fingerprint(request),
        operation: "Transfer",
        result: '{"units":{"$bigint":"7"}}',
        expires_at: 1_000 + IDEMPOTENCY_TTL_SECONDS,
      },
      ConditionExpression: "attribute_not_exists(request_id) OR expires_at <= :now",
      ExpressionAttributeValues: { ":now": 1_000 },
    });
  });
});

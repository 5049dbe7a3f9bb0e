import { describe, expect, it } from "vitest";
import { seedPlan } from "../../src/cli/seed-plan.js";
import { isCurrencyCode, toNanos } from "../../src/domain/money.js";
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from "../../src/domain/orders.js";

describe("seedPlan", () => {
  const counts = { customers: 30, items: 25, accounts: 12 };
  const plan = seedPlan(counts);

  it("is reproducible: the same counts and seed give the same plan; another seed another one", () => {
    expect(seedPlan(counts)).toEqual(plan);
    expect(seedPlan(counts, 2)).not.toEqual(plan);
  });

  it("plans the asked numbers of items and accounts, with unique ids", () => {
    expect(new Set(plan.items.map((i) => i.sku)).size).toBe(counts.items);
    expect(new Set(plan.accounts.map((a) => a.accountId)).size).toBe(counts.accounts);
    expect(new Set(plan.orders.map((o) => o.order.customerId)).size).toBe(counts.customers);
  });

  it("prices items in valid, positive Money, some below a cent", () => {
    for (const { unitPrice } of plan.items) {
      expect(isCurrencyCode(unitPrice.currencyCode)).toBe(true);
      expect(toNanos(unitPrice)).toBeGreaterThan(0n);
      expect(unitPrice.nanos).toBeGreaterThanOrEqual(0);
      expect(unitPrice.nanos).toBeLessThan(1e9);
    }
    expect(plan.items.some((i) => toNanos(i.unitPrice) < 10_000_000n)).toBe(true);
  });

  it("orders only planned skus, distinct per order, within the API's limits, never more than in stock", () => {
    const stock = new Map(plan.items.map((i) => [i.sku, i.quantity]));
    const ordered = new Map<string, bigint>();
    for (const { order } of plan.orders) {
      expect(order.lines.length).toBeGreaterThan(0);
      expect(order.lines.length).toBeLessThanOrEqual(MAX_ORDER_LINES);
      expect(new Set(order.lines.map((l) => l.sku)).size).toBe(order.lines.length);
      for (const line of order.lines) {
        expect(stock.has(line.sku)).toBe(true);
        expect(line.quantity).toBeGreaterThan(0n);
        expect(line.quantity).toBeLessThanOrEqual(MAX_LINE_QUANTITY);
        ordered.set(line.sku, (ordered.get(line.sku) ?? 0n) + line.quantity);
      }
    }
    for (const [sku, n] of ordered) expect(n).toBeLessThan(stock.get(sku)!);
    expect(new Set(plan.orders.map((o) => o.order.requestId)).size).toBe(plan.orders.length);
  });

  it("transfers between accounts of one currency, never overdrawing one", () => {
    const balance = new Map(plan.accounts.map((a) => [a.accountId, a.initialBalance]));
    const nanos = new Map(plan.accounts.map((a) => [a.accountId, toNanos(a.initialBalance)]));
    expect(plan.transfers.length).toBeGreaterThan(0);
    for (const t of plan.transfers) {
      expect(t.fromAccountId).not.toBe(t.toAccountId);
      expect(balance.get(t.fromAccountId)!.currencyCode).toBe(t.amount.currencyCode);
      expect(balance.get(t.toAccountId)!.currencyCode).toBe(t.amount.currencyCode);
      nanos.set(t.fromAccountId, nanos.get(t.fromAccountId)! - toNanos(t.amount));
      nanos.set(t.toAccountId, nanos.get(t.toAccountId)! + toNanos(t.amount));
      expect(nanos.get(t.fromAccountId)!).toBeGreaterThanOrEqual(0n);
    }
  });

  it("plans no orders without items", () => {
    expect(seedPlan({ customers: 5, items: 0, accounts: 0 }).orders).toEqual([]);
  });
});

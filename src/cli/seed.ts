/**
 * `seed`: writes a seed plan (seed-plan.ts) through the service's own stores, so the data
 * obeys the same rules as data written over the API: items are created with exact prices,
 * orders take stock in one transaction and carry server-made ids and totals, transfers
 * move money with their ledger entries, cancellations restock and refund.
 *
 * Re-running it writes nothing new: items and accounts have fixed ids (an existing one is
 * left as it is), and orders and transfers carry fixed request_ids, so a repeat returns
 * the first result — while those idempotency records live (24 h). After that a re-run
 * places the orders and transfers again.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DomainError } from "../domain/errors.js";
import type { OrderStatus } from "../domain/orders.js";
import { CONFLICT_RETRY_MS } from "../domain/retry-policy.js";
import { createAccountStore } from "../store/account-store.js";
import { fullJitterDelay } from "../store/batch.js";
import type { StoreClient } from "../store/dynamo.js";
import { forEachLimited } from "../store/for-each-limited.js";
import { createIdempotency } from "../store/idempotency.js";
import { createInventoryStore } from "../store/inventory-store.js";
import { createOrderStore } from "../store/order-store.js";
import { createPageTokenCodec } from "../store/page-token.js";
import { tableNames } from "../store/tables.js";
import type { SeedPlan } from "./seed-plan.js";

/** Writes in flight at once: enough to keep DynamoDB busy, few enough for one laptop. */
const PARALLEL = 8;

export interface SeedResult {
  items: { created: number; existing: number };
  accounts: { created: number; existing: number };
  transfers: number;
  /** Orders by the status they ended in. */
  orders: Partial<Record<OrderStatus, number>>;
}

/**
 * Runs `write` again while it fails with what the API says a retry can fix (ABORTED:
 * TRANSACTION_CONFLICT between orders taking the same item's stock), after the wait the
 * error advises. Safe: every retried write carries a request_id or is idempotent by
 * itself (a status transition, a cancellation).
 */
async function retried<T>(write: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      const retryable = DomainError.match(err, "TRANSACTION_CONFLICT") || DomainError.match(err, "VERSION_MISMATCH");
      if (!retryable || attempt >= attempts) throw err;
      await sleep(fullJitterDelay(attempt, err.retryAfterMs ?? CONFLICT_RETRY_MS));
    }
  }
}

/** The forward steps from PENDING to each status (CANCELLED goes through cancelOrder). */
const STEPS: Record<OrderStatus, OrderStatus[]> = {
  PENDING: [],
  CONFIRMED: ["CONFIRMED"],
  SHIPPED: ["CONFIRMED", "SHIPPED"],
  DELIVERED: ["CONFIRMED", "SHIPPED", "DELIVERED"],
  CANCELLED: [],
};

export async function seed(
  client: StoreClient,
  tablePrefix: string,
  plan: SeedPlan,
  onProgress: (done: number) => void = () => {},
): Promise<SeedResult> {
  const tables = tableNames(tablePrefix);
  const idempotency = createIdempotency(client, tables.idempotencyKeys);
  // No store call here lists pages, so the token key is never used.
  const pageTokens = createPageTokenCodec(randomBytes(32));
  const inventory = createInventoryStore({ client, table: tables.inventory, idempotency, pageTokens });
  const accounts = createAccountStore({ client, tables, idempotency, pageTokens });
  const orders = createOrderStore({ client, tables, idempotency, pageTokens });
  const result: SeedResult = {
    items: { created: 0, existing: 0 },
    accounts: { created: 0, existing: 0 },
    transfers: 0,
    orders: {},
  };

  await forEachLimited(plan.items, PARALLEL, async (item) => {
    try {
      await inventory.createItem(item);
      result.items.created++;
    } catch (err) {
      if (!DomainError.match(err, "ITEM_EXISTS")) throw err;
      result.items.existing++;
    }
    onProgress(1);
  });
  await forEachLimited(plan.accounts, PARALLEL, async (account) => {
    try {
      await accounts.openAccount(account);
      result.accounts.created++;
    } catch (err) {
      if (!DomainError.match(err, "ACCOUNT_EXISTS")) throw err;
      result.accounts.existing++;
    }
    onProgress(1);
  });
  // One after another: transfers of one account must not race each other's balance checks.
  for (const transfer of plan.transfers) {
    await retried(() => accounts.transfer(transfer));
    result.transfers++;
    onProgress(1);
  }
  await forEachLimited(plan.orders, PARALLEL, async ({ order, status }) => {
    const placed = await retried(() => orders.createOrder(order));
    const key = { customerId: placed.customerId, orderId: placed.orderId };
    for (const step of STEPS[status]) {
      try {
        await retried(() => orders.updateOrderStatus(key, step, 0n));
      } catch (err) {
        // A re-run: the order is there already.
        if (!DomainError.match(err, "INVALID_TRANSITION")) throw err;
      }
    }
    // Cancelling a cancelled order answers the same order and refund.
    if (status === "CANCELLED") await retried(() => orders.cancelOrder(key, "seed: changed my mind", ""));
    result.orders[status] = (result.orders[status] ?? 0) + 1;
    onProgress(1);
  });
  return result;
}

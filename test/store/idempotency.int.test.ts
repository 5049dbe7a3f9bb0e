/**
 * request_id records expire after 24 h: an expired record is ignored (and overwritten)
 * even though DynamoDB's TTL has not deleted it yet. A clock is injected; DynamoDB Local
 * is real. The clock starts at the real now and only moves forward: records it writes
 * must not look expired to the engine's own clock, or its TTL sweep may delete them
 * mid-test (seen with DynamoDB Local 2026 and a clock fixed in the past).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStoreClient, type StoreClient } from "../../src/store/dynamo.js";
import { createIdempotency, IDEMPOTENCY_TTL_SECONDS } from "../../src/store/idempotency.js";
import { createInventoryStore } from "../../src/store/inventory-store.js";
import { createPageTokenCodec } from "../../src/store/page-token.js";
import { ensureTables, tableNames } from "../../src/store/tables.js";

let client: StoreClient;
let clock = new Date();
let store: ReturnType<typeof createInventoryStore>;

beforeAll(async () => {
  client = createStoreClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", credentials: "local" });
  const prefix = `idem${randomBytes(3).toString("hex")}_`;
  await ensureTables(client.raw, prefix);
  const tables = tableNames(prefix);
  store = createInventoryStore({
    client,
    table: tables.inventory,
    idempotency: createIdempotency(client, tables.idempotencyKeys, () => clock),
    pageTokens: createPageTokenCodec(randomBytes(32)),
    now: () => clock,
  });
});
afterAll(() => client?.destroy());

describe("idempotency records", () => {
  it("replay within 24 h, apply again after, and let an expired id carry a new request", async () => {
    await store.createItem({
      sku: "ttl",
      name: "t",
      unitPrice: { currencyCode: "EUR", units: 1n, nanos: 0 },
      quantity: 10n,
    });
    const take = (delta: bigint) => store.adjustStock({ sku: "ttl", delta, expectedVersion: 0n, requestId: "ttl-1" });
    const first = await take(-1n);
    expect(first.quantity).toBe(9n);

    clock = new Date(clock.getTime() + (IDEMPOTENCY_TTL_SECONDS - 60) * 1000);
    expect(await take(-1n)).toEqual(first);
    await expect(take(-2n)).rejects.toMatchObject({ reason: "REQUEST_ID_REUSED" });

    clock = new Date(clock.getTime() + 120 * 1000); // now past 24 h
    const again = await take(-2n);
    expect(again.quantity).toBe(7n);
    expect(await take(-2n)).toEqual(again);
  });
});

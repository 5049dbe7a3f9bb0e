/**
 * The in-memory handler tier (STYLE.md): InventoryService's handlers, wrapped as the server
 * wraps them, behind connect's router transport — no server, no DynamoDB. Bad requests are
 * refused with INVALID_ARGUMENT naming each field, before the store is touched: the fake
 * store records any call, and none may come.
 */
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { beforeEach, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { createInventoryService } from "../../src/handlers/inventory-service.js";
import { wrapService } from "../../src/middleware/wrap-service.js";
import type { InventoryStore } from "../../src/store/inventory-store.js";
import { eur } from "../support/money.js";

const storeCalls: string[] = [];
/** Any method of it records its name and fails: validation must stop every request here. */
const store = new Proxy(
  {},
  {
    get: (_, name) => () => {
      storeCalls.push(String(name));
      throw new Error(`store.${String(name)} called`);
    },
  },
) as InventoryStore;

const client = createClient(
  InventoryService,
  createRouterTransport((router) => {
    router.service(InventoryService, wrapService(InventoryService, createInventoryService(store), []));
  }),
);

/** The fields a refused call named, after checking it is INVALID_ARGUMENT / INVALID_FIELD. */
async function refusedFields(call: () => Promise<unknown>): Promise<string[]> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code).toBe(Code.InvalidArgument);
  expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("INVALID_FIELD");
  return (err?.findDetails(BadRequestSchema)[0]?.fieldViolations ?? []).map((v) => v.field);
}

beforeEach(() => {
  storeCalls.length = 0;
});

describe("InventoryService validation, in memory", () => {
  it("CreateItem without an item", async () => {
    expect(await refusedFields(() => client.createItem({}))).toEqual(["item"]);
    expect(storeCalls).toEqual([]);
  });

  it("CreateItem reports every bad field at once", async () => {
    const fields = await refusedFields(() =>
      client.createItem({ item: { sku: "has space", name: "", unitPrice: eur(-1n), quantity: -1n } }),
    );
    expect(fields).toEqual(expect.arrayContaining(["item.sku", "item.name", "item.unit_price", "item.quantity"]));
    expect(storeCalls).toEqual([]);
  });

  it("GetItem with an empty sku", async () => {
    expect(await refusedFields(() => client.getItem({ sku: "" }))).toEqual(["sku"]);
    expect(storeCalls).toEqual([]);
  });

  it("AdjustStock by zero, with a negative expected_version", async () => {
    const fields = await refusedFields(() => client.adjustStock({ sku: "a", delta: 0n, expectedVersion: -1n }));
    expect(fields).toEqual(["delta", "expected_version"]);
    expect(storeCalls).toEqual([]);
  });

  it("BatchGetItems with a duplicate sku", async () => {
    expect(await refusedFields(() => client.batchGetItems({ skus: ["a", "b", "a"] }))).toEqual(["skus[2]"]);
    expect(storeCalls).toEqual([]);
  });

  it("ScanItems with total_segments out of range, before the first message", async () => {
    const fields = await refusedFields(async () => {
      for await (const _ of client.scanItems({ totalSegments: 65 })) {
        // Nothing may arrive.
      }
    });
    expect(fields).toEqual(["total_segments"]);
    expect(storeCalls).toEqual([]);
  });

  it("reaches the store with a valid request (the fake is really mounted)", async () => {
    const err = await client.getItem({ sku: "ok" }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Internal);
    expect(storeCalls).toEqual(["getItem"]);
  });
});

/**
 * A StoreClient's reads (its own marshalling, through the handler-cached client) give
 * exactly what the document client gives, for any item, on DynamoDB Local: a single item
 * as GetCommand gives it, a page as QueryCommand and ScanCommand give it.
 */
import { randomBytes } from "node:crypto";
import { GetCommand, NumberValue, PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStoreClient, type StoreClient } from "../../src/store/dynamo.js";
import { ensureTables, tableNames } from "../../src/store/tables.js";

let client: StoreClient;
let table: string;
let orders: string;

beforeAll(async () => {
  client = createStoreClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", credentials: "local" });
  const prefix = `reads${randomBytes(3).toString("hex")}_`;
  await ensureTables(client.raw, prefix);
  table = tableNames(prefix).inventory;
  orders = tableNames(prefix).orders;
});
afterAll(() => client?.destroy());

/** Attribute values of every DynamoDB type the document client writes. */
const leaf = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.integer(),
  fc.integer().map((i) => i / 1000),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ minLength: 1, maxLength: 16 }),
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }).map((a) => new Set(a)),
  fc
    .uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 3,
      comparator: (a, b) => Buffer.compare(a, b) === 0,
    })
    .map((a) => new Set(a)),
);
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, leaf, tie("list"), tie("map")),
  list: fc.array(tie("value"), { maxLength: 3 }),
  map: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie("value"), { maxKeys: 3 }),
})).value;

describe("StoreClient.getItem", () => {
  it("reads what GetCommand reads: same values, numbers kept exact, projections and absent items alike", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), value, { maxKeys: 6 }),
        async (attributes) => {
          const sku = `item-${n++}`;
          const { sku: _ignored, ...rest } = attributes;
          await client.call((doc) => doc.send(new PutCommand({ TableName: table, Item: { ...rest, sku } })));
          const names = Object.keys(rest).slice(0, 2);
          const requests = [
            { TableName: table, Key: { sku }, ConsistentRead: true },
            {
              TableName: table,
              Key: { sku },
              ProjectionExpression: ["sku", ...names.map((_, i) => `#p${i}`)].join(", "),
              ...(names.length > 0
                ? { ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#p${i}`, name])) }
                : {}),
            },
            { TableName: table, Key: { sku: `${sku}-absent` }, ConsistentRead: true },
          ];
          for (const request of requests) {
            const viaDocument = (await client.call((doc) => doc.send(new GetCommand(request)))).Item;
            expect(await client.getItem(request, undefined)).toEqual(viaDocument);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keeps every number exact, as a NumberValue string, however large", async () => {
    const exact = "123456789012345678901234567.000000001";
    await client.call((doc) =>
      doc.send(new PutCommand({ TableName: table, Item: { sku: "exact", big: NumberValue.from(exact), small: 7 } })),
    );
    const item = await client.getItem({ TableName: table, Key: { sku: "exact" } }, undefined);
    expect(item).toEqual({ sku: "exact", big: { value: exact }, small: { value: "7" } });
  });
});

describe("StoreClient.readPage", () => {
  it("reads the pages QueryCommand and ScanCommand read: same items, start keys and counts, filters alike", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), value, { maxKeys: 4 }), {
          minLength: 1,
          maxLength: 5,
        }),
        leaf,
        fc.integer({ min: 1, max: 3 }),
        async (items, filterValue, limit) => {
          const customer = `customer-${n++}`;
          for (const [i, attributes] of items.entries()) {
            const { customer_id: _c, order_id: _o, ...rest } = attributes;
            const item = { ...rest, customer_id: customer, order_id: `order-${i}` };
            await client.call((doc) => doc.send(new PutCommand({ TableName: orders, Item: item })));
          }
          // A filter on a value of any type: a binary one goes through the SDK's serializer.
          const filter = {
            FilterExpression: "attribute_not_exists(#f) OR #f <> :f",
            ExpressionAttributeNames: { "#f": Object.keys(items[0]!)[0] ?? "none" },
          };
          const query = (startKey: Record<string, unknown> | undefined, filtered: boolean) => ({
            TableName: orders,
            KeyConditionExpression: "customer_id = :c",
            ExpressionAttributeValues: { ":c": customer, ...(filtered ? { ":f": filterValue } : {}) },
            ...(filtered ? filter : {}),
            ConsistentRead: true,
            Limit: limit,
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          });
          for (const filtered of [false, true]) {
            let startKey: Record<string, unknown> | undefined;
            do {
              const request = query(startKey, filtered);
              const viaDocument = await client.call((doc) => doc.send(new QueryCommand(request)));
              const page = await client.readPage("Query", request, undefined);
              expect(page).toEqual({
                items: viaDocument.Items ?? [],
                lastEvaluatedKey: viaDocument.LastEvaluatedKey,
                scannedCount: viaDocument.ScannedCount,
                attempts: 1,
              });
              startKey = page.lastEvaluatedKey;
            } while (startKey !== undefined);
          }
          const scan = {
            TableName: orders,
            ConsistentRead: true,
            Limit: limit + 1,
            Segment: 0,
            TotalSegments: limit,
            ...filter,
            ExpressionAttributeValues: { ":f": filterValue },
          };
          const first = await client.readPage("Scan", scan, undefined);
          const viaDocument = await client.call((doc) => doc.send(new ScanCommand(scan)));
          expect(first.items).toEqual(viaDocument.Items ?? []);
          expect(first.lastEvaluatedKey).toEqual(viaDocument.LastEvaluatedKey);
          if (first.lastEvaluatedKey !== undefined) {
            const next = { ...scan, ExclusiveStartKey: first.lastEvaluatedKey };
            const nextViaDocument = await client.call((doc) => doc.send(new ScanCommand(next)));
            expect((await client.readPage("Scan", next, undefined)).items).toEqual(nextViaDocument.Items ?? []);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

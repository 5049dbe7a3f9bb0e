/**
 * A StoreClient's single-item read (its own marshalling, through the handler-cached client)
 * gives exactly what the document client's GetCommand gives, for any item, on DynamoDB Local.
 */
import { randomBytes } from "node:crypto";
import { GetCommand, NumberValue, PutCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createStoreClient, type StoreClient } from "../../src/store/dynamo.js";
import { ensureTables, tableNames } from "../../src/store/tables.js";

let client: StoreClient;
let table: string;

beforeAll(async () => {
  client = createStoreClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", credentials: "local" });
  const prefix = `reads${randomBytes(3).toString("hex")}_`;
  await ensureTables(client.raw, prefix);
  table = tableNames(prefix).inventory;
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

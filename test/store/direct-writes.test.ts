/**
 * A batch or a transaction sent directly (direct-calls.ts) is the request the document
 * client sends for the same input, and its answer is read as the document client reads
 * it: for any items (fast-check), the same JSON body, the same headers that name the
 * operation, and the same output. The document client is what the store sent these
 * calls through before, and what sends them still when they go through the SDK.
 */
import { BatchGetCommand, BatchWriteCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ITEM_MARSHALL_OPTIONS } from "../../src/store/direct-calls.js";
import {
  closeRecordingEndpoints,
  type DirectKind,
  exceptWarmUp,
  type Received,
  recordingEndpoint,
  reply,
  storeClientFor,
  warmUp,
} from "../support/recording-endpoint.js";

afterEach(closeRecordingEndpoints);

/** Attribute values of every kind the document client marshals (bytes among them, which are left to the SDK). */
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string(),
    fc.integer(),
    // Within the safe integers, as the document client requires of plain numbers.
    fc.double({ min: -1e15, max: 1e15, noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 3 }).map((strings) => new Set(strings)),
    fc.uint8Array({ minLength: 1, maxLength: 4 }),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), tie("value"), { maxKeys: 3 }),
  ),
})).value;

const attributes = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 5 });
const item = attributes.map((a) => ({ ...a, sku: "a" }));

/** A client warmed up for `kind`, against an endpoint that answers every other request with `answer.json`. */
async function clientFor(kind: DirectKind) {
  const answer = { json: "{}" };
  const { endpoint, received } = await recordingEndpoint(exceptWarmUp((r: Received) => reply(answer.json)(r)));
  const client = storeClientFor(endpoint);
  await warmUp(client, received, kind);
  return { client, received, answer };
}

/** The request's body and the headers that say what it is, for comparison. */
function sent(r: Received) {
  return {
    body: JSON.parse(r.body) as unknown,
    target: r.req.headers["x-amz-target"],
    contentType: r.req.headers["content-type"],
  };
}

/** Sends `direct` then `viaDocumentClient`: the two requests and the two outputs. */
async function bothWays<A, B>(
  { received }: { received: Received[] },
  direct: () => Promise<A>,
  viaDocumentClient: () => Promise<B>,
) {
  received.splice(0);
  const ours = await direct();
  const theirs = await viaDocumentClient();
  expect(received).toHaveLength(2);
  return { requests: received.map(sent), ours, theirs };
}

const wire = (values: Record<string, unknown>) => marshall(values, ITEM_MARSHALL_OPTIONS);

describe("sent directly, as the document client sends it", () => {
  it("BatchGetItem: the same request, and the same items and unprocessed keys read from the answer", async () => {
    const c = await clientFor("BatchGetItem");
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 3 }), fc.boolean(), async (items, consistent) => {
        c.answer.json = JSON.stringify({
          Responses: { Inventory: items.map(wire) },
          UnprocessedKeys: { Inventory: { Keys: [wire({ sku: "b" })], ConsistentRead: consistent } },
        });
        const input = {
          RequestItems: { Inventory: { Keys: [{ sku: "a" }, { sku: "b", n: 7 }], ConsistentRead: consistent } },
        };
        const { requests, ours, theirs } = await bothWays(
          c,
          () => c.client.batchGet(input, undefined),
          () => c.client.doc.send(new BatchGetCommand(input)),
        );
        expect(requests[0]).toEqual(requests[1]);
        expect({ Responses: ours.Responses, UnprocessedKeys: ours.UnprocessedKeys }).toEqual({
          Responses: theirs.Responses,
          UnprocessedKeys: theirs.UnprocessedKeys,
        });
      }),
      { numRuns: 60 },
    );
  });

  it("BatchWriteItem: the same request, and the same unprocessed writes read from the answer", async () => {
    const c = await clientFor("BatchWriteItem");
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 3 }), async (items) => {
        const writes = [...items.map((Item) => ({ PutRequest: { Item } })), { DeleteRequest: { Key: { sku: "b" } } }];
        c.answer.json = JSON.stringify({
          UnprocessedItems: {
            Inventory: [{ PutRequest: { Item: wire(items[0]!) } }, { DeleteRequest: { Key: wire({ sku: "b" }) } }],
          },
        });
        const input = { RequestItems: { Inventory: writes } };
        const { requests, ours, theirs } = await bothWays(
          c,
          () => c.client.batchWrite(input, undefined),
          () => c.client.doc.send(new BatchWriteCommand(input)),
        );
        expect(requests[0]).toEqual(requests[1]);
        expect(ours.UnprocessedItems).toEqual(theirs.UnprocessedItems);
      }),
      { numRuns: 60 },
    );
  });

  it("TransactWriteItems: the same request, for puts, updates, deletes and condition checks", async () => {
    const c = await clientFor("TransactWriteItems");
    await fc.assert(
      fc.asyncProperty(
        item,
        attributes,
        fc.option(fc.string({ maxLength: 36 }), { nil: undefined }),
        async (order, values, token) => {
          const expressionValues = Object.fromEntries(Object.entries(values).map(([name, v]) => [`:${name}`, v]));
          const input = {
            TransactItems: [
              {
                Put: {
                  TableName: "Orders",
                  Item: order,
                  ConditionExpression: "attribute_not_exists(order_id)",
                  ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
                },
              },
              {
                Update: {
                  TableName: "Inventory",
                  Key: { sku: "a" },
                  UpdateExpression: "SET n = :n",
                  ExpressionAttributeValues: { ...expressionValues, ":n": 1 },
                },
              },
              {
                ConditionCheck: {
                  TableName: "Inventory",
                  Key: { sku: "b" },
                  ConditionExpression: "attribute_exists(sku)",
                },
              },
              {
                Delete: { TableName: "Orders", Key: { order_id: "old" }, ExpressionAttributeValues: expressionValues },
              },
            ],
            ...(token === undefined ? {} : { ClientRequestToken: token }),
          };
          const { requests } = await bothWays(
            c,
            () => c.client.transactWrite(input, undefined),
            () => c.client.doc.send(new TransactWriteCommand(input)),
          );
          const [ours, theirs] = requests as unknown as [
            { body: Record<string, unknown> },
            { body: Record<string, unknown> },
          ];
          // A token made for a request that had none is random on both sides: made, not compared.
          if (token === undefined) {
            expect(ours.body["ClientRequestToken"]).toMatch(/^[0-9a-f-]{36}$/);
            expect(theirs.body["ClientRequestToken"]).toMatch(/^[0-9a-f-]{36}$/);
            delete ours.body["ClientRequestToken"];
            delete theirs.body["ClientRequestToken"];
          }
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 60 },
    );
  });
});

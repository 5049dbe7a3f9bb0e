/** The store kit's requests are pure: checked here without I/O; the sends are thin. */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { describe, expect, it } from "vitest";
import { outOfStock } from "../../src/domain/errors.js";
import type { StoreClient } from "../../src/store/dynamo.js";
import { getItemRequest } from "../../src/store/get-item.js";
import { createPageTokenCodec } from "../../src/store/page-token.js";
import { buildProjection } from "../../src/store/projection.js";
import { pageKeyOf, queryPage, queryPageRequest } from "../../src/store/query-page.js";
import { scanSegmentRequest } from "../../src/store/scan-segments.js";
import { type GuardedWrite, interpretCancellation } from "../../src/store/transact.js";
import { writeOnceRequest } from "../../src/store/write-once.js";

const tokens = createPageTokenCodec(Buffer.alloc(32, 1));

/** A StoreClient whose `call` and `readPage` answer each request from `answer` (SDK output form) and record it. */
function fakeClient(answer: (input: Record<string, unknown>) => Record<string, unknown>) {
  const sent: Record<string, unknown>[] = [];
  const doc = {
    send: (command: { input: Record<string, unknown> }) => {
      sent.push(command.input);
      return Promise.resolve(answer(command.input));
    },
  };
  const readPage = (_operation: string, input: Record<string, unknown>) => {
    sent.push(input);
    const out = answer(input) as { Items?: unknown[]; LastEvaluatedKey?: unknown; ScannedCount?: number };
    return Promise.resolve({
      items: out.Items ?? [],
      lastEvaluatedKey: out.LastEvaluatedKey,
      scannedCount: out.ScannedCount,
      attempts: 1,
    });
  };
  const client = { call: (fn: (d: typeof doc) => Promise<unknown>) => fn(doc), readPage } as unknown as StoreClient;
  return { client, sent };
}

describe("getItem", () => {
  it("reads consistently, with the projection when given", () => {
    expect(getItemRequest({ table: "T", key: { sku: "A" } })).toEqual({
      TableName: "T",
      Key: { sku: "A" },
      ConsistentRead: true,
    });
    const projection = buildProjection(["name"], { name: ["name"] }, ["sku"]);
    expect(getItemRequest({ table: "T", key: { sku: "A" }, projection })).toMatchObject({
      ProjectionExpression: "#p0, #p1",
      ExpressionAttributeNames: { "#p0": "sku", "#p1": "name" },
    });
  });
});

describe("writeOnce", () => {
  it("asks for the old item when the condition fails, for each kind of write", () => {
    const put = writeOnceRequest({ Put: { TableName: "T", Item: { sku: "A" }, ConditionExpression: "c" } });
    expect(put).toEqual({
      Put: {
        TableName: "T",
        Item: { sku: "A" },
        ConditionExpression: "c",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
    });
    expect(writeOnceRequest({ Delete: { TableName: "T", Key: { sku: "A" } } })).toMatchObject({
      Delete: { ReturnValuesOnConditionCheckFailure: "ALL_OLD" },
    });
  });
});

describe("scan segments", () => {
  it("reads one segment consistently, with filter, projection and resume key", () => {
    const projection = { ProjectionExpression: "#p0", ExpressionAttributeNames: { "#p0": "total" } };
    const request = scanSegmentRequest(
      {
        table: "Orders",
        totalSegments: 4,
        filter: "#s = :s",
        names: { "#s": "status" },
        values: { ":s": "PENDING" },
        projection,
      },
      2,
      { customer_id: "C", order_id: "O" },
    );
    expect(request).toEqual({
      TableName: "Orders",
      ConsistentRead: true,
      Segment: 2,
      TotalSegments: 4,
      FilterExpression: "#s = :s",
      ProjectionExpression: "#p0",
      ExpressionAttributeNames: { "#s": "status", "#p0": "total" },
      ExpressionAttributeValues: { ":s": "PENDING" },
      ExclusiveStartKey: { customer_id: "C", order_id: "O" },
    });
    expect(scanSegmentRequest({ table: "T", totalSegments: 1, limit: 100 }, 0, undefined)).toEqual({
      TableName: "T",
      ConsistentRead: true,
      Segment: 0,
      TotalSegments: 1,
      Limit: 100,
    });
  });
});

describe("query page", () => {
  const statusIndex = {
    table: "Orders",
    index: "StatusIndex",
    pageKey: ["customer_id", "order_id", "status", "created_at"],
    keyCondition: "#s = :s",
    names: { "#s": "status" },
    values: { ":s": "PENDING" },
    forward: false,
    pageSize: 2,
    query: { op: "ListOrdersByStatus", status: "PENDING" },
    pageToken: "",
  };

  it("on a GSI: no ConsistentRead (DynamoDB rejects it), and the page key holds table and index keys", () => {
    const request = queryPageRequest(statusIndex, 3, undefined);
    expect(request).toEqual({
      TableName: "Orders",
      IndexName: "StatusIndex",
      KeyConditionExpression: "#s = :s",
      ScanIndexForward: false,
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":s": "PENDING" },
      Limit: 3,
    });
    const order = { customer_id: "C", order_id: "O", status: "PENDING", created_at: "2026", total: 5 };
    expect(pageKeyOf(statusIndex.pageKey, order)).toEqual({
      customer_id: "C",
      order_id: "O",
      status: "PENDING",
      created_at: "2026",
    });
  });

  it("on a table: consistent; without a key condition it is a Scan", () => {
    const table = { ...statusIndex, index: undefined, keyCondition: undefined, names: undefined, values: undefined };
    expect(queryPageRequest(table, 3, { sku: "A" })).toEqual({
      TableName: "Orders",
      ConsistentRead: true,
      Limit: 3,
      ExclusiveStartKey: { sku: "A" },
    });
  });

  it("reads pageSize + 1 and resumes after the page's last item, through a signed token", async () => {
    const items = ["a", "b", "c"].map((id) => ({ customer_id: "C", order_id: id, status: "PENDING", created_at: id }));
    const { client, sent } = fakeClient(() => ({ Items: items, ScannedCount: 3, LastEvaluatedKey: { x: 1 } }));
    const page = await queryPage(client, tokens, statusIndex, undefined);
    expect(page.items.map((i) => i.order_id)).toEqual(["a", "b"]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.Limit).toBe(3);
    expect(tokens.decode(statusIndex.query, page.nextPageToken)).toEqual(pageKeyOf(statusIndex.pageKey, items[1]!));
  });

  it("caps the items a filtered page examines: a short page with a token to continue", async () => {
    let reads = 0;
    const { client, sent } = fakeClient((input) => {
      reads++;
      // A selective filter: every read examines `Limit` items and keeps none.
      return { Items: [], ScannedCount: input["Limit"], LastEvaluatedKey: { customer_id: "C", order_id: `k${reads}` } };
    });
    const filtered = { ...statusIndex, filter: "#t > :min", maxExamined: 250 };
    const page = await queryPage(client, tokens, filtered, undefined);
    expect(page.items).toEqual([]);
    expect(sent.map((s) => s["Limit"])).toEqual([100, 100, 50]);
    expect(sent[0]?.FilterExpression).toBe("#t > :min");
    expect(tokens.decode(filtered.query, page.nextPageToken)).toEqual({ customer_id: "C", order_id: "k3" });
  });

  it("an unfiltered page continues past a short read (1 MB) until it is full", async () => {
    const answers = [
      { Items: [{ customer_id: "C", order_id: "a" }], ScannedCount: 1, LastEvaluatedKey: { order_id: "a" } },
      { Items: [{ customer_id: "C", order_id: "b" }], ScannedCount: 1 },
    ];
    const { client, sent } = fakeClient(() => answers.shift() ?? {});
    const page = await queryPage(client, tokens, { ...statusIndex, pageSize: 5 }, undefined);
    expect(page.items).toHaveLength(2);
    expect(page.nextPageToken).toBe("");
    expect(sent.map((s) => s["Limit"])).toEqual([6, 5]);
    expect(sent[1]?.ExclusiveStartKey).toEqual({ order_id: "a" });
  });

  describe("resumed by the sort key (resumeFromSortKey)", () => {
    const byCustomer = {
      table: "Orders",
      pageKey: ["customer_id", "order_id"],
      keyCondition: "customer_id = :c AND order_id BETWEEN :low AND :high",
      values: { ":c": "C", ":low": "0", ":high": "Z" },
      resumeFromSortKey: { attribute: "order_id", between: { low: ":low", high: ":high" } },
      pageSize: 2,
      query: { op: "ListOrders", customer: "C" },
      pageToken: "",
    };
    const start = { customer_id: "C", order_id: "k" };

    it("moves the bound it starts from to the start key, asks for one more, sends no ExclusiveStartKey", () => {
      const forward = queryPageRequest(byCustomer, 3, start);
      expect(forward.ExpressionAttributeValues).toEqual({ ":c": "C", ":low": "k", ":high": "Z" });
      expect(forward.Limit).toBe(4);
      expect(forward).not.toHaveProperty("ExclusiveStartKey");
      const backward = queryPageRequest({ ...byCustomer, forward: false }, 3, start);
      expect(backward.ExpressionAttributeValues).toEqual({ ":c": "C", ":low": "0", ":high": "k" });
      // Page 1 is read as before.
      expect(queryPageRequest(byCustomer, 3, undefined)).toMatchObject({
        Limit: 3,
        ExpressionAttributeValues: byCustomer.values,
      });
    });

    it("drops the start item it reads back, and only that one", async () => {
      const orders = (...ids: string[]) => ids.map((order_id) => ({ customer_id: "C", order_id }));
      const token = tokens.encode(byCustomer.query, start);
      for (const [answer, kept] of [
        [orders("k", "m", "p", "r"), ["m", "p"]],
        // The start item deleted since: nothing to drop.
        [orders("m", "p", "r", "t"), ["m", "p"]],
      ] as const) {
        const { client } = fakeClient(() => ({ Items: answer, ScannedCount: answer.length }));
        const page = await queryPage(client, tokens, { ...byCustomer, pageToken: token }, undefined);
        expect(page.items.map((i) => i.order_id)).toEqual(kept);
        expect(tokens.decode(byCustomer.query, page.nextPageToken)).toEqual({ customer_id: "C", order_id: "p" });
      }
    });
  });

  describe("resumed after the sort key (resumeFromSortKey without between)", () => {
    const byAccount = {
      table: "Ledger",
      pageKey: ["account_id", "entry_key"],
      keyCondition: "account_id = :a",
      values: { ":a": "A" },
      resumeFromSortKey: { attribute: "entry_key" },
      pageSize: 2,
      query: { op: "ListTransfers", accountId: "A" },
      pageToken: "",
    };
    const start = { account_id: "A", entry_key: "2026-01-01T00:00:00.000Z#TRF-1" };

    it("adds a strict bound on the sort key past the start key, asks for no more, sends no ExclusiveStartKey", () => {
      const forward = queryPageRequest(byAccount, 3, start);
      expect(forward).toMatchObject({
        KeyConditionExpression: "account_id = :a AND #resume_key > :resume_from",
        ExpressionAttributeNames: { "#resume_key": "entry_key" },
        ExpressionAttributeValues: { ":a": "A", ":resume_from": start.entry_key },
        Limit: 3,
      });
      expect(forward).not.toHaveProperty("ExclusiveStartKey");
      expect(queryPageRequest({ ...byAccount, forward: false }, 3, start)).toMatchObject({
        KeyConditionExpression: "account_id = :a AND #resume_key < :resume_from",
        ScanIndexForward: false,
      });
      // Page 1 is read as before, and a Scan is never resumed this way.
      expect(queryPageRequest(byAccount, 3, undefined)).toEqual({
        TableName: "Ledger",
        ConsistentRead: true,
        KeyConditionExpression: "account_id = :a",
        ScanIndexForward: true,
        ExpressionAttributeValues: { ":a": "A" },
        Limit: 3,
      });
      const scan = queryPageRequest({ ...byAccount, keyCondition: undefined }, 3, start);
      expect(scan.ExclusiveStartKey).toEqual(start);
      expect(scan).not.toHaveProperty("KeyConditionExpression");
    });

    it("reads one item past the page, as page 1 does, and keeps every item it reads", async () => {
      // The start item is not among them (the bound is strict): nothing to drop, nothing to read extra for.
      const token = tokens.encode(byAccount.query, start);
      const entries = ["b", "c", "d", "e"].map((k) => ({ account_id: "A", entry_key: `2026-01-01T00:00:0${k}` }));
      const { client, sent } = fakeClient(({ Limit }) => {
        const items = entries.slice(0, Number(Limit));
        return { Items: items, ScannedCount: items.length };
      });
      const page = await queryPage(client, tokens, { ...byAccount, pageToken: token }, undefined);
      expect(sent.map((s) => s["Limit"])).toEqual([3]);
      expect(page.items).toEqual(entries.slice(0, 2));
      expect(tokens.decode(byAccount.query, page.nextPageToken)).toEqual(entries[1]);
    });
  });
});

describe("transactions", () => {
  const line = (sku: string): GuardedWrite => ({
    item: { Update: { TableName: "Inventory", Key: { sku }, UpdateExpression: "x" } },
    onConditionFailed: (old) => outOfStock(sku, 5n, old === undefined ? undefined : BigInt(String(old["quantity"]))),
  });
  const cancelled = () =>
    new TransactionCanceledException({
      message: "cancelled",
      $metadata: {},
      CancellationReasons: [
        { Code: "ConditionalCheckFailed", Item: marshall({ sku: "A", quantity: 1 }) },
        { Code: "None" },
        { Code: "ConditionalCheckFailed", Item: marshall({ sku: "C", quantity: 2 }) },
      ],
    });
  const writes = [line("A"), line("B"), line("C")];

  it("by default the first failed condition wins", () => {
    expect(interpretCancellation(cancelled(), writes)).toMatchObject({ metadata: { sku: "A", available: "1" } });
  });

  it("can report every failed condition, in write order", () => {
    const all = interpretCancellation(cancelled(), writes, (errors) => new AggregateError(errors, "several"));
    expect(all).toBeInstanceOf(AggregateError);
    expect((all as AggregateError).errors.map((e: { metadata: { sku: string } }) => e.metadata.sku)).toEqual([
      "A",
      "C",
    ]);
  });
});

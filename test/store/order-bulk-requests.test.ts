/** The bulk order store's pure requests, and its send logic against a fake client: no I/O. */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { NumberValue } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { DomainError, storeUnavailable } from "../../src/domain/errors.js";
import type { Order } from "../../src/domain/orders.js";
import { batchWrite } from "../../src/store/batch.js";
import type { StoreClient } from "../../src/store/dynamo.js";
import { orderIdRange } from "../../src/store/ids.js";
import {
  countByStatusParams,
  createOrderBulkStore,
  purgeDeleteRequest,
  purgeQueryRequest,
  scanOrdersParams,
  writeGroups,
} from "../../src/store/order-bulk-store.js";
import { tableNames } from "../../src/store/tables.js";
import { eur } from "../support/money.js";

/** A StoreClient answering each command from `answer` (by command name), recording what was sent. */
function fakeClient(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const doc = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      return answer(name, command.input);
    },
  };
  const call = (fn: (d: typeof doc) => Promise<unknown>) => fn(doc);
  // BatchWriteItem, which a StoreClient sends itself, recorded under the document client's command name.
  const batchWrite = async (input: Record<string, unknown>) => {
    sent.push({ name: "BatchWriteCommand", input });
    const out = (await answer("BatchWriteCommand", input)) as { UnprocessedItems?: unknown };
    return { UnprocessedItems: out.UnprocessedItems ?? {}, attempts: 1 };
  };
  return { client: { call, callAtMostOnce: call, batchWrite } as unknown as StoreClient, sent };
}

const order = (i: number, customerId = "C"): Order => ({
  customerId,
  orderId: `ORD-${String(i).padStart(26, "0")}`,
  lines: [{ sku: "A", quantity: 1n, unitPrice: eur(1n) }],
  total: eur(1n),
  status: "PENDING",
  shippingAddress: undefined,
  version: 1n,
  createdAt: "2024-01-01T00:00:00.000Z",
  updatedAt: "2024-01-01T00:00:00.000Z",
});

async function* from<T>(...batches: T[][]) {
  yield* batches;
}

describe("writeGroups", () => {
  const id = (s: string) => s;

  it("cuts groups at the limit, in order", () => {
    const items = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const groups = writeGroups(items, id);
    expect(groups.map((g) => g.length)).toEqual([25, 25, 10]);
    expect(groups.flat()).toEqual(items);
  });

  it("starts a new group before a key the group already holds, so the later write lands later", () => {
    expect(writeGroups(["a", "b", "a", "c", "a"], id, 25)).toEqual([["a", "b"], ["a", "c"], ["a"]]);
    expect(writeGroups([], id)).toEqual([]);
  });
});

describe("scanOrdersParams", () => {
  it("filters by status and same-currency minimum, with #f_ names apart from the projection's #p", () => {
    const params = scanOrdersParams("Orders", {
      totalSegments: 3,
      status: "SHIPPED",
      minTotal: eur(40n, 500_000_000),
      readMask: ["total"],
    });
    expect(params).toEqual({
      table: "Orders",
      totalSegments: 3,
      limit: 100,
      filter: "#f_status = :f_status AND #f_currency = :f_currency AND #f_total >= :f_min",
      names: { "#f_status": "status", "#f_currency": "currency", "#f_total": "total" },
      values: { ":f_status": "SHIPPED", ":f_currency": "EUR", ":f_min": NumberValue.from("40.5") },
      projection: {
        ProjectionExpression: "#p0, #p1, #p2, #p3",
        ExpressionAttributeNames: { "#p0": "customer_id", "#p1": "order_id", "#p2": "total", "#p3": "currency" },
      },
    });
  });

  it("reads everything with no filter and no mask", () => {
    expect(scanOrdersParams("Orders", { totalSegments: 4, readMask: [] })).toEqual({
      table: "Orders",
      totalSegments: 4,
      limit: 100,
      projection: undefined,
    });
  });

  it("counts read the status alone", () => {
    expect(countByStatusParams("Orders", 8).projection).toEqual({
      ProjectionExpression: "#p0",
      ExpressionAttributeNames: { "#p0": "status" },
    });
  });
});

describe("purge requests", () => {
  const params = {
    customerId: "C",
    createdAtOrBeforeMs: 1_700_000_000_000,
    statuses: ["DELIVERED", "CANCELLED"] as const,
  };

  it("queries the customer's keys up to the bound, filtered on status, consistently", () => {
    const range = orderIdRange(0, params.createdAtOrBeforeMs);
    expect(purgeQueryRequest("Orders", params, { customer_id: "C", order_id: "X" })).toEqual({
      TableName: "Orders",
      ConsistentRead: true,
      KeyConditionExpression: "#c = :c AND #o BETWEEN :low AND :high",
      FilterExpression: "#s IN (:s0, :s1)",
      ProjectionExpression: "#c, #o",
      ExpressionAttributeNames: { "#c": "customer_id", "#o": "order_id", "#s": "status" },
      ExpressionAttributeValues: {
        ":c": "C",
        ":low": range.low,
        ":high": range.high,
        ":s0": "DELIVERED",
        ":s1": "CANCELLED",
      },
      ExclusiveStartKey: { customer_id: "C", order_id: "X" },
    });
  });

  it("deletes only while the status is still one of them", () => {
    expect(purgeDeleteRequest("Orders", { customer_id: "C", order_id: "O", extra: 1 }, ["CANCELLED"])).toEqual({
      TableName: "Orders",
      Key: { customer_id: "C", order_id: "O" },
      ConditionExpression: "#s IN (:s0)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":s0": "CANCELLED" },
    });
  });
});

describe("batchWrite", () => {
  const puts = Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { k: i } } }));

  it("chunks by 25 and retries UnprocessedItems until none are left", async () => {
    let first = true;
    const { client, sent } = fakeClient((_, input) => {
      const writes = (input["RequestItems"] as Record<string, unknown[]>)["T"]!;
      if (first) {
        first = false;
        return { UnprocessedItems: { T: writes.slice(0, 3) } };
      }
      return {};
    });
    await batchWrite(client, "T", puts, undefined, { baseMs: 1 });
    const sizes = sent.map((s) => (s.input["RequestItems"] as Record<string, unknown[]>)["T"]!.length);
    expect(sizes).toEqual([25, 3, 5]);
  });

  it("fails THROTTLED, naming how many stayed unprocessed, after the last attempt", async () => {
    const { client, sent } = fakeClient((_, input) => ({ UnprocessedItems: input["RequestItems"] }));
    const err = await batchWrite(client, "T", puts.slice(0, 4), undefined, { attempts: 3, baseMs: 1 }).catch((e) => e);
    expect(DomainError.match(err, "THROTTLED")).toBe(true);
    expect((err as DomainError).metadata).toEqual({ unprocessed: "4" });
    expect(sent).toHaveLength(3);
  });
});

describe("importOrders", () => {
  const tables = tableNames("");

  it("counts every order written, one group at a time", async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = createOrderBulkStore({ client, tables });
    const written = await store.importOrders(
      from(
        Array.from({ length: 30 }, (_, i) => order(i)),
        [order(0)],
      ),
    );
    expect(written).toBe(31);
    expect(sent.map((s) => s.name)).toEqual(["BatchWriteCommand", "BatchWriteCommand", "BatchWriteCommand"]);
  });

  it("a failing write reports `written`: the orders of the groups stored before it", async () => {
    let calls = 0;
    const { client } = fakeClient(() => {
      if (++calls === 2) throw storeUnavailable(new Error("down"));
      return {};
    });
    const store = createOrderBulkStore({ client, tables });
    const err = await store.importOrders(from(Array.from({ length: 40 }, (_, i) => order(i)))).catch((e) => e);
    expect(DomainError.match(err, "STORE_UNAVAILABLE")).toBe(true);
    expect((err as DomainError).metadata["written"]).toBe("25");
    expect((err as DomainError).retryAfterMs).toBeGreaterThan(0);
  });

  it("a failing source (an invalid order) reports `written` too", async () => {
    const { client } = fakeClient(() => ({}));
    const store = createOrderBulkStore({ client, tables });
    async function* source() {
      yield [order(1), order(2)];
      throw new DomainError("INVALID_FIELD", "orders[2].status: bad", {
        violations: [{ field: "f", description: "d" }],
      });
    }
    const err = (await store.importOrders(source()).catch((e) => e)) as DomainError;
    expect(err.metadata).toEqual({ written: "2" });
    expect(err.violations).toEqual([{ field: "f", description: "d" }]);
  });
});

describe("purgeOrders", () => {
  const tables = tableNames("");
  const params = { customerId: "C", createdAtOrBeforeMs: 1_700_000_000_000, statuses: ["CANCELLED"] as const };

  it("pages through the query and counts only the deletes whose condition held", async () => {
    const keys = Array.from({ length: 20 }, (_, i) => ({ customer_id: "C", order_id: `O${i}` }));
    const { client, sent } = fakeClient((name, input) => {
      if (name === "QueryCommand") {
        return input["ExclusiveStartKey"] === undefined
          ? { Items: keys.slice(0, 12), LastEvaluatedKey: keys[11] }
          : { Items: keys.slice(12) };
      }
      const key = input["Key"] as { order_id: string };
      if (key.order_id === "O3" || key.order_id === "O15") {
        throw new ConditionalCheckFailedException({ message: "changed", $metadata: {} });
      }
      return {};
    });
    const deleted = await createOrderBulkStore({ client, tables }).purgeOrders(params);
    expect(deleted).toBe(18);
    expect(sent.filter((s) => s.name === "QueryCommand")).toHaveLength(2);
    expect(sent.filter((s) => s.name === "DeleteCommand")).toHaveLength(20);
  });

  it("keeps at most 8 deletes in flight and, on a failure, reports `deleted` once the others settle", async () => {
    let inFlight = 0;
    let most = 0;
    let succeeded = 0;
    const keys = Array.from({ length: 30 }, (_, i) => ({ customer_id: "C", order_id: `O${i}` }));
    const { client } = fakeClient(async (name, input) => {
      if (name === "QueryCommand") return { Items: keys };
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      if ((input["Key"] as { order_id: string }).order_id === "O10") throw storeUnavailable(new Error("down"), true);
      succeeded++;
      return {};
    });
    const err = (await createOrderBulkStore({ client, tables })
      .purgeOrders(params)
      .catch((e) => e)) as DomainError;
    expect(most).toBe(8);
    expect(inFlight).toBe(0);
    expect(err.reason).toBe("STORE_UNAVAILABLE");
    // Deletes already started when O10 failed finish and are counted; none starts after.
    expect(err.metadata["deleted"]).toBe(String(succeeded));
    expect(succeeded).toBeLessThan(29);
    expect(err.metadata["write_outcome"]).toBe("unknown");
  });
});

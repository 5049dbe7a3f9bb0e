/**
 * A call's first attempt (an item's or a page's read, a batch, a transaction), when
 * direct-calls.ts sends it itself, ends up as the SDK's own would: whatever is not a 200
 * becomes the SDK's first attempt, so the SDK types the error, corrects its clock, backs
 * off and retries, and no more requests go out than the SDK's maxAttempts. A recording
 * endpoint stands in for DynamoDB and answers as a test says.
 */
import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { StoreClient, StoreOperationEvent } from "../../src/store/dynamo.js";
import {
  closeRecordingEndpoints,
  type DirectKind,
  exceptWarmUp,
  type Received,
  recordingEndpoint,
  reply,
  replyError,
  signedAt,
  storeClientFor,
  warmUp,
} from "../support/recording-endpoint.js";

afterEach(closeRecordingEndpoints);

const ITEM = JSON.stringify({ Item: { sku: { S: "a" }, n: { N: "7" } } });
const READ = { TableName: "Inventory", Key: { sku: "a" }, ConsistentRead: true };
const PAGE = JSON.stringify({
  Items: [{ sku: { S: "a" }, n: { N: "7" } }],
  Count: 1,
  ScannedCount: 2,
  LastEvaluatedKey: { sku: { S: "a" } },
});
const PAGE_READ = {
  TableName: "Inventory",
  ConsistentRead: true,
  Limit: 2,
  FilterExpression: "n > :n",
  ExpressionAttributeValues: { ":n": 1 },
  ExclusiveStartKey: { sku: "0" },
};

/** Each kind of call: how a test makes it (with no abort signal unless given one), and the 200 that answers it. */
const CALLS: Record<
  DirectKind,
  { call: (client: StoreClient, signal?: AbortSignal) => Promise<unknown>; success: string }
> = {
  GetItem: { call: (client, signal) => client.getItem(READ, signal), success: ITEM },
  Query: {
    call: (client, signal) =>
      client.readPage(
        "Query",
        { ...PAGE_READ, KeyConditionExpression: "sku = :s", ExpressionAttributeValues: { ":s": "a", ":n": 1 } },
        signal,
      ),
    success: PAGE,
  },
  Scan: { call: (client, signal) => client.readPage("Scan", PAGE_READ, signal), success: PAGE },
  BatchGetItem: {
    call: (client, signal) =>
      client.batchGet({ RequestItems: { Inventory: { Keys: [{ sku: "a" }, { sku: "b" }] } } }, signal),
    success: JSON.stringify({
      Responses: { Inventory: [{ sku: { S: "a" }, n: { N: "7" } }] },
      UnprocessedKeys: { Inventory: { Keys: [{ sku: { S: "b" } }] } },
    }),
  },
  BatchWriteItem: {
    call: (client, signal) =>
      client.batchWrite(
        {
          RequestItems: {
            Inventory: [{ PutRequest: { Item: { sku: "a", n: 7 } } }, { DeleteRequest: { Key: { sku: "b" } } }],
          },
        },
        signal,
      ),
    success: JSON.stringify({ UnprocessedItems: { Inventory: [{ DeleteRequest: { Key: { sku: { S: "b" } } } }] } }),
  },
  TransactWriteItems: {
    call: (client, signal) =>
      client.transactWrite(
        {
          TransactItems: [
            {
              Put: {
                TableName: "Orders",
                Item: { order_id: "o-1", total: 7 },
                ConditionExpression: "attribute_not_exists(order_id)",
              },
            },
            {
              Update: {
                TableName: "Inventory",
                Key: { sku: "a" },
                UpdateExpression: "SET n = n - :q",
                ExpressionAttributeValues: { ":q": 1 },
              },
            },
          ],
          ClientRequestToken: "token-1",
        },
        signal,
      ),
    success: "{}",
  },
};

/**
 * A client answered by `answers` in turn (the last one for any request after). When
 * `warm`, its first call of `kind` (through the SDK) has been answered first, so the next
 * one's first attempt is sent directly; the requests and operations after it.
 */
async function clientAnswering(
  answers: ((r: Received) => void)[],
  { warm = true, maxAttempts = 3, kind = "GetItem" as DirectKind } = {},
) {
  const { endpoint, received } = await recordingEndpoint(
    exceptWarmUp((r) => answers[Math.min(received.length - 1, answers.length - 1)]?.(r)),
  );
  const operations: StoreOperationEvent[] = [];
  const client = storeClientFor(endpoint, { maxAttempts, onOperation: (event) => operations.push(event) });
  if (warm) {
    await warmUp(client, received, kind);
    operations.splice(0);
  }
  return { client, received, operations };
}

const warmClient = (answers: ((r: Received) => void)[], maxAttempts = 3) => clientAnswering(answers, { maxAttempts });

/** How one call ends, first attempt sent directly or by the SDK: its result or error, requests sent, attempts counted. */
async function outcomeOfCall(answers: ((r: Received) => void)[], warm: boolean, kind: DirectKind = "GetItem") {
  const { client, received, operations } = await clientAnswering(answers, { warm, kind });
  const result = await CALLS[kind].call(client).then(
    (item) => ({ item }),
    (error: { name: string; reason?: string; cause?: { name?: string } }) => ({
      error: [error.name, error.reason, error.cause?.name],
    }),
  );
  return { result, requests: received.length, operations: operations.map((o) => [o.outcome, o.attempts]) };
}

describe("a directly sent first attempt that fails is the SDK's first attempt", () => {
  it("throttled: the SDK backs off and retries, and counts both attempts", async () => {
    const { client, received, operations } = await warmClient([replyError(400, "ThrottlingException"), reply(ITEM)]);
    expect(await client.getItem(READ, undefined)).toEqual({ sku: "a", n: expect.objectContaining({ value: "7" }) });
    expect(received.map((r) => r.req.headers["amz-sdk-request"])).toEqual(["attempt=1; max=3", "attempt=2; max=3"]);
    expect(operations).toEqual([expect.objectContaining({ operation: "GetItem", outcome: "OK", attempts: 2 })]);
  });

  it("throttled every time: the SDK's error after exactly maxAttempts requests, none more", async () => {
    const { client, received, operations } = await warmClient([replyError(400, "ThrottlingException")]);
    await expect(client.getItem(READ, undefined)).rejects.toMatchObject({ reason: "THROTTLED" });
    expect(received).toHaveLength(3);
    expect(operations).toEqual([expect.objectContaining({ outcome: "ThrottlingException", attempts: 3 })]);
  });

  it("a client error is the SDK's typed error, not retried", async () => {
    const { client, received, operations } = await warmClient([replyError(400, "ResourceNotFoundException")]);
    await expect(client.getItem(READ, undefined)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(received).toHaveLength(1);
    expect(operations).toEqual([expect.objectContaining({ outcome: "ResourceNotFoundException", attempts: 1 })]);
  });

  it("the connection dropped before an answer: the SDK retries", async () => {
    const { client, received, operations } = await warmClient([({ res }) => res.socket?.destroy(), reply(ITEM)]);
    expect(await client.getItem(READ, undefined)).toEqual({ sku: "a", n: expect.objectContaining({ value: "7" }) });
    expect(received).toHaveLength(2);
    expect(operations).toEqual([expect.objectContaining({ outcome: "OK", attempts: 2 })]);
  });

  it.each(Object.keys(CALLS) as DirectKind[])(
    "%s: every failure (and an empty 200) ends as it does when the SDK sends the first attempt itself",
    {
      timeout: 60_000,
    },
    async (kind) => {
      const { success } = CALLS[kind];
      const cutShort = ({ res }: Received) => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": "500" });
        res.write(success.slice(0, 10), () => res.socket?.destroy());
      };
      const failures: Record<string, (r: Received) => void> = {
        throttled: replyError(400, "ThrottlingException"),
        "over capacity": replyError(400, "ProvisionedThroughputExceededException"),
        "server error": replyError(500, "InternalServerError"),
        unavailable: replyError(503, "ServiceUnavailable"),
        "no such table": replyError(400, "ResourceNotFoundException"),
        "not valid": replyError(400, "ValidationException"),
        "connection dropped": ({ res }) => res.socket?.destroy(),
        "a 200 cut short": cutShort,
        "a 200 not JSON": reply("<html>"),
        "a 200 with no body": reply(""),
      };
      for (const [name, failure] of Object.entries(failures)) {
        for (const answers of [[failure], [failure, reply(success)]]) {
          const direct = await outcomeOfCall(answers, true, kind);
          const viaSdk = await outcomeOfCall(answers, false, kind);
          expect({ name, ...direct }).toEqual({ name, ...viaSdk });
        }
      }
    },
  );

  it("signed at a time the server's clock disagrees with: the SDK corrects the clock, and later reads are signed right", async () => {
    // The server's clock jumps an hour ahead after the warm-up.
    const server = skewCheckingServer(3_600_000);
    const { client, received } = await warmClient([server.answer]);
    expect(await client.getItem(READ, undefined)).toBeDefined();
    expect(received.map((r) => r.res.statusCode)).toEqual([400, 200]);
    received.splice(0);
    // Sent directly again, now signed at the server's time: accepted at once.
    expect(await client.getItem(READ, undefined)).toBeDefined();
    expect(received.map((r) => r.res.statusCode)).toEqual([200]);
  });
});

describe("a direct call that succeeds", () => {
  it("samples the server's clock from its Date header, as the SDK does after each success", async () => {
    // The server's clock drifts four minutes ahead (still within the five it accepts), then
    // four more: only a client that took the first four from the answers it got signs the
    // next read within five minutes of the server.
    const server = skewCheckingServer(0);
    const { client, received } = await warmClient([server.answer]);
    server.aheadMs = 240_000;
    expect(await client.getItem(READ, undefined)).toBeDefined();
    server.aheadMs = 480_000;
    expect(await client.getItem(READ, undefined)).toBeDefined();
    expect(received.map((r) => r.res.statusCode)).toEqual([200, 200]);
  });

  it.each(Object.keys(CALLS) as DirectKind[])(
    "%s: leaves no listener on the call's abort signal once it has answered",
    async (kind) => {
      // A listener left behind makes the end of the RPC abort its signal and dispatch the
      // event (CallScope.finish): undici's stays until its body's 'close', which a body
      // read with undici's own text() reached only after a setImmediate.
      const { client } = await clientAnswering([reply(CALLS[kind].success)], { kind });
      const controller = new AbortController();
      await CALLS[kind].call(client, controller.signal);
      expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
    },
  );
});

/**
 * A server whose clock runs `aheadMs` ahead of ours: it refuses signatures more than five
 * minutes off its time, and says its time in the Date header, as DynamoDB does.
 */
function skewCheckingServer(aheadMs: number) {
  const server = {
    aheadMs,
    answer: (r: Received) => {
      const serverNow = Date.now() + server.aheadMs;
      const date = { date: new Date(serverNow).toUTCString() };
      if (Math.abs(signedAt(r.req.headers) - serverNow) > 300_000)
        replyError(400, "InvalidSignatureException", date)(r);
      else {
        r.res.writeHead(200, { "content-type": "application/x-amz-json-1.0", ...date });
        r.res.end(ITEM);
      }
    },
  };
  return server;
}

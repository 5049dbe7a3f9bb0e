/**
 * What a StoreClient sends for its handler-cached single-item reads and its other calls:
 * valid SigV4 signatures from the signers it keeps (DynamoDB Local never checks one), and
 * each call's own abort signal on its own request. A recording HTTP server stands in for
 * the endpoint: it checks what arrives, and it can hold a request open.
 */
import type { IncomingHttpHeaders } from "node:http";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { Sha256 } from "@smithy/core/checksum";
import { HttpRequest } from "@smithy/core/protocols";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, describe, expect, it } from "vitest";
import {
  closeRecordingEndpoints,
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

/** The keys a store client signs with when told its endpoint is a local engine. */
const LOCAL_KEYS = { accessKeyId: "local", secretAccessKey: "local" };

const storeClient = (endpoint: string) => storeClientFor(endpoint, { maxAttempts: 1 });

/**
 * The request as AWS would check it: signed again by the SDK's stock signer and hash,
 * over the headers it names as signed, at the date it carries.
 */
async function expectedAuthorization(r: Received) {
  const authorization = String(r.req.headers["authorization"]);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(";") ?? [];
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(r.req.headers[name])]));
  const signingDate = new Date(signedAt(r.req.headers));
  const request = new HttpRequest({
    method: r.req.method ?? "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    path: r.req.url ?? "/",
    headers,
    body: r.body,
  });
  const stock = new SignatureV4({ credentials: LOCAL_KEYS, region: "eu-west-1", service: "dynamodb", sha256: Sha256 });
  const signed = (await stock.sign(request, { signingDate })) as HttpRequest;
  return signed.headers["authorization"];
}

describe("store client requests", () => {
  it("are signed validly, by the signers each client keeps, on reads, writes and at-most-once writes alike", async () => {
    const { endpoint, received } = await recordingEndpoint();
    const client = storeClient(endpoint);
    // The first read of a table goes through the SDK; the later ones are sent by direct-calls.ts.
    for (let i = 0; i < 3; i++) {
      await client.getItem({ TableName: "Inventory", Key: { sku: `sku-${i}` }, ConsistentRead: true }, undefined);
      await client.call((doc) => doc.send(new PutCommand({ TableName: "Inventory", Item: { sku: `sku-${i}`, n: i } })));
      await client.callAtMostOnce((doc) =>
        doc.send(new PutCommand({ TableName: "Inventory", Item: { sku: `once-${i}`, n: i } })),
      );
    }
    expect(received.map((r) => r.req.headers["x-amz-target"])).toEqual(
      Array.from({ length: 3 }, () => [
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.PutItem",
      ]).flat(),
    );
    for (const r of received) {
      expect(String(r.req.headers["authorization"])).toContain("Credential=local/");
      expect(r.req.headers["authorization"]).toBe(await expectedAuthorization(r));
    }
  });

  it("of a read carry exactly the GetItem asked for, and the SDK's headers, however the read is sent", async () => {
    const { endpoint, received } = await recordingEndpoint();
    const client = storeClient(endpoint);
    const input = {
      TableName: "Orders",
      Key: { customer_id: "c-1", order_id: "o-1" },
      ConsistentRead: false,
      ProjectionExpression: "#a, #b",
      ExpressionAttributeNames: { "#a": "status", "#b": "total" },
    };
    await client.getItem(input, undefined); // through the SDK
    await client.getItem(input, undefined); // sent by direct-calls.ts
    expect(received).toHaveLength(2);
    for (const r of received) {
      expect(JSON.parse(r.body)).toEqual({
        TableName: "Orders",
        Key: { customer_id: { S: "c-1" }, order_id: { S: "o-1" } },
        ConsistentRead: false,
        ProjectionExpression: "#a, #b",
        ExpressionAttributeNames: { "#a": "status", "#b": "total" },
      });
    }
    const [viaSdk, direct] = received.map((r) => r.req.headers) as [IncomingHttpHeaders, IncomingHttpHeaders];
    // The same headers, with the same values but for those made per request (the body's
    // hash too: the same JSON, its members in another order).
    expect(Object.keys(direct).sort()).toEqual(Object.keys(viaSdk).sort());
    const perRequest = ["authorization", "x-amz-date", "amz-sdk-invocation-id", "x-amz-content-sha256"];
    for (const name of Object.keys(viaSdk).filter((n) => !perRequest.includes(n))) {
      expect([name, direct[name]]).toEqual([name, viaSdk[name]]);
    }
    expect(direct["amz-sdk-invocation-id"]).not.toBe(viaSdk["amz-sdk-invocation-id"]);
  });
});

describe.each(["Query", "Scan"] as const)("the requests of a %s page", (operation) => {
  it("carry exactly the page asked for, and the SDK's headers, however the read is sent", async () => {
    const { endpoint, received } = await recordingEndpoint();
    const client = storeClient(endpoint);
    const input = {
      TableName: "Orders",
      ...(operation === "Query" ? { KeyConditionExpression: "customer_id = :c" } : { Segment: 1, TotalSegments: 4 }),
      ConsistentRead: true,
      Limit: 25,
      FilterExpression: "#s = :s",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":c": "c-1", ":s": "PAID", ":big": 12345678901234567890n },
      ExclusiveStartKey: { customer_id: "c-1", order_id: "o-1" },
    };
    await client.readPage(operation, input, undefined); // through the SDK
    await client.readPage(operation, input, undefined); // sent by direct-calls.ts
    expect(received.map((r) => r.req.headers["x-amz-target"])).toEqual([
      `DynamoDB_20120810.${operation}`,
      `DynamoDB_20120810.${operation}`,
    ]);
    const { ExpressionAttributeValues: _v, ExclusiveStartKey: _k, ...rest } = input;
    for (const r of received) {
      expect(JSON.parse(r.body)).toEqual({
        ...rest,
        ExpressionAttributeValues: { ":c": { S: "c-1" }, ":s": { S: "PAID" }, ":big": { N: "12345678901234567890" } },
        ExclusiveStartKey: { customer_id: { S: "c-1" }, order_id: { S: "o-1" } },
      });
    }
    // Written by two serializers: the SDK's in its model's order, the direct one not.
    expect(received[1]!.body).not.toBe(received[0]!.body);
    const [viaSdk, direct] = received.map((r) => r.req.headers) as [IncomingHttpHeaders, IncomingHttpHeaders];
    expect(Object.keys(direct).sort()).toEqual(Object.keys(viaSdk).sort());
    const perRequest = ["authorization", "x-amz-date", "amz-sdk-invocation-id", "x-amz-content-sha256"];
    for (const name of Object.keys(viaSdk).filter((n) => !perRequest.includes(n))) {
      expect([name, direct[name]]).toEqual([name, viaSdk[name]]);
    }
    for (const r of received) expect(r.req.headers["authorization"]).toBe(await expectedAuthorization(r));
  });
});

/** The two ways a read is sent: the first of its table through the SDK, later ones by direct-calls.ts. */
const readKinds = [
  { kind: "the first read of a table (through the SDK)", warm: false },
  { kind: "a later read (sent directly)", warm: true },
];

/** A store client, warmed up (see warmUp) when `warm`. */
async function clientFor(endpoint: string, received: Received[], warm: boolean, maxAttempts = 1) {
  const client = storeClientFor(endpoint, { maxAttempts });
  if (warm) await warmUp(client, received);
  return client;
}

describe.each(readKinds)("the abort signal of $kind", ({ warm }) => {
  // A signal that never reaches the request leaves the read waiting: the timeout ends it.
  it("ends that read's request, and only that read's, while the response is awaited", { timeout: 10_000 }, async () => {
    const { endpoint, received } = await recordingEndpoint(exceptWarmUp(() => undefined));
    const client = await clientFor(endpoint, received, warm);
    const cancelled = new AbortController();
    const kept = new AbortController();
    const first = client.getItem({ TableName: "Inventory", Key: { sku: "cancelled" } }, cancelled.signal);
    const second = client.getItem({ TableName: "Inventory", Key: { sku: "kept" } }, kept.signal);
    const third = client.getItem({ TableName: "Inventory", Key: { sku: "no-signal" } }, undefined);
    await expect.poll(() => received.length).toBe(3);
    const bySku = (sku: string) => received.find((r) => r.body.includes(`"${sku}"`)) as Received;

    cancelled.abort();
    await expect(first).rejects.toMatchObject({ name: "AbortError" });
    await bySku("cancelled").closed;
    // The other two are still waiting on their own requests, which are still open.
    expect(bySku("kept").res.writableEnded || bySku("kept").res.destroyed).toBe(false);
    expect(bySku("no-signal").res.destroyed).toBe(false);

    reply(JSON.stringify({ Item: { sku: { S: "kept" }, n: { N: "7" } } }))(bySku("kept"));
    reply("{}")(bySku("no-signal"));
    expect(await second).toEqual({ sku: "kept", n: expect.objectContaining({ value: "7" }) });
    expect(await third).toBeUndefined();
  });

  it("releases the read at once while the SDK waits to retry, and nothing is sent after", {
    timeout: 15_000,
  }, async () => {
    // Throttled, with a Retry-After that makes the SDK wait three seconds before its second attempt.
    const { endpoint, received } = await recordingEndpoint(
      exceptWarmUp(replyError(400, "ThrottlingException", { "retry-after": "3" })),
    );
    const client = await clientFor(endpoint, received, warm, 4);
    const controller = new AbortController();
    const read = client.getItem({ TableName: "Inventory", Key: { sku: "throttled" } }, controller.signal);
    await expect.poll(() => received.length).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const abortedAt = performance.now();
    controller.abort();
    await expect(read).rejects.toMatchObject({ name: "AbortError" });
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    // Past the SDK's wait: its second attempt found the signal aborted and sent nothing.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(received).toHaveLength(1);
  });

  it("already aborted: nothing is sent", async () => {
    const { endpoint, received } = await recordingEndpoint();
    const client = await clientFor(endpoint, received, warm);
    await expect(
      client.getItem({ TableName: "Inventory", Key: { sku: "x" } }, AbortSignal.abort()),
    ).rejects.toMatchObject({ name: "AbortError" });
    // A read after it, with no signal, is sent as usual: the handler cache kept nothing of the first.
    await client.getItem({ TableName: "Inventory", Key: { sku: "y" } }, undefined);
    expect(received.map((r) => JSON.parse(r.body).Key)).toEqual([{ sku: { S: "y" } }]);
  });
});

/** The SDK clients a StoreClient runs its calls through: what their middleware stacks hold, what they send. */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { createStoreClient } from "../../src/store/dynamo.js";

describe("store client SDK stacks", () => {
  it("leave out the SDK's logger middleware, which would filter-copy every input and output", () => {
    const client = createStoreClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: "local",
      onOperation: () => undefined,
    });
    try {
      const stack = client.raw.middlewareStack.identify();
      expect(stack.some((m) => m.startsWith("loggerMiddleware"))).toBe(false);
      expect(stack.some((m) => m.startsWith("getUserAgentMiddleware"))).toBe(false);
      // Everything a call needs is still there, and our operation metrics and user agent too.
      for (const needed of [
        "serializerMiddleware",
        "retryMiddleware",
        "httpSigningMiddleware",
        "commerceOperationMetrics",
        "commerceUserAgent",
      ]) {
        expect(stack.some((m) => m.startsWith(needed))).toBe(true);
      }
      expect(client.doc.middlewareStack.identify()).toEqual(stack);
    } finally {
      client.destroy();
    }
  });

  it("send the SDK's own user agent, built once, without the per-call feature list, over kept-alive connections", async () => {
    const seen: { headers: IncomingHttpHeaders; socket: object }[] = [];
    const server = createServer((req, res) => {
      seen.push({ headers: req.headers, socket: req.socket });
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ours = createStoreClient({ region: "us-east-1", endpoint, credentials: "local" });
    const stock = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "a", secretAccessKey: "b" } }),
    );
    const get = new GetCommand({ TableName: "t", Key: { k: "1" } });
    try {
      await stock.send(get);
      for (let i = 0; i < 3; i++) await ours.call((doc) => doc.send(get));
      const [fromStock, ...fromOurs] = seen;
      const withoutFeatures = String(fromStock?.headers["user-agent"]).replace(/ m\/\S+/, "");
      expect(withoutFeatures).toMatch(/^aws-sdk-js\/\S+ ua\/\S+ os\/\S+ lang\/js md\/nodejs#\S+ api\/dynamodb#\S+/);
      for (const request of fromOurs) expect(request.headers["user-agent"]).toBe(withoutFeatures);
      // Kept alive: some connection carried more than one of our requests (undici may open a
      // second while it is still settling the first's response).
      expect(new Set(fromOurs.map((r) => r.socket)).size).toBeLessThan(fromOurs.length);
    } finally {
      ours.destroy();
      stock.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});

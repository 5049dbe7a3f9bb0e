/**
 * A stand-in DynamoDB endpoint for tests of what a StoreClient sends: an HTTP server that
 * records every request, and lets the test decide whether (and how) to answer each; and
 * store clients for it.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { PageOperation } from "../../src/store/direct-calls.js";
import { createStoreClient, type StoreClient, type StoreClientOptions } from "../../src/store/dynamo.js";

export interface Received {
  req: IncomingMessage;
  body: string;
  res: ServerResponse;
  /** Settles when the response is closed (answered, or the client went away). */
  closed: Promise<void>;
}

/** Endpoints and the store clients made for them, closed by closeRecordingEndpoints. */
const toClose: { close(): void }[] = [];

/** Closes every endpoint opened so far, and destroys the store clients made for them (for afterEach). */
export function closeRecordingEndpoints(): void {
  for (const thing of toClose.splice(0)) thing.close();
}

/** A store client for `endpoint`, with a local engine's fixed keys, in eu-west-1; destroyed by closeRecordingEndpoints. */
export function storeClientFor(endpoint: string, options: Partial<StoreClientOptions> = {}): StoreClient {
  const client = createStoreClient({ endpoint, region: "eu-west-1", credentials: "local", ...options });
  toClose.push({ close: () => client.destroy() });
  return client;
}

/** The kinds of call direct-calls.ts sends itself. */
export type DirectKind = "GetItem" | PageOperation | "BatchGetItem" | "BatchWriteItem" | "TransactWriteItems";

/**
 * Makes one call of `kind` (reads, batches of Inventory; a transaction of a put to Orders
 * and an update of Inventory), so that the client's later calls of that kind on those
 * tables are sent directly (direct-calls.ts; the first call of each kind on each set of
 * tables goes through the SDK), and leaves that call out of `received`. The endpoint must
 * answer it: see `exceptWarmUp`.
 */
export async function warmUp(client: StoreClient, received: Received[], kind: DirectKind = "GetItem"): Promise<void> {
  const key = { sku: "warm-up" };
  switch (kind) {
    case "GetItem":
      await client.getItem({ TableName: "Inventory", Key: key }, undefined);
      break;
    case "Query":
    case "Scan":
      await client.readPage(kind, { TableName: "Inventory", ExclusiveStartKey: key }, undefined);
      break;
    case "BatchGetItem":
      await client.batchGet({ RequestItems: { Inventory: { Keys: [key] } } }, undefined);
      break;
    case "BatchWriteItem":
      await client.batchWrite({ RequestItems: { Inventory: [{ PutRequest: { Item: key } }] } }, undefined);
      break;
    case "TransactWriteItems":
      await client.transactWrite(
        {
          TransactItems: [
            { Put: { TableName: "Orders", Item: { order_id: "warm-up" } } },
            {
              Update: {
                TableName: "Inventory",
                Key: key,
                UpdateExpression: "SET n = :n",
                ExpressionAttributeValues: { ":n": 1 },
              },
            },
          ],
          ClientRequestToken: "warm-up",
        },
        undefined,
      );
      break;
  }
  received.splice(0);
}

/** Answers the warm-up call with an empty answer (no item), and leaves every other request to `answer`. */
export function exceptWarmUp(answer: (r: Received) => void) {
  return (r: Received) => (r.body.includes('"warm-up"') ? reply("{}")(r) : answer(r));
}

/** When a request was signed: its x-amz-date (20261124T104500Z), in ms. */
export function signedAt(headers: IncomingHttpHeaders): number {
  const d = String(headers["x-amz-date"]);
  return Date.parse(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
}

/** An endpoint that records every request; `answer` decides whether (and how) to reply. */
export async function recordingEndpoint(answer: (r: Received) => void = reply("{}")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const closed = new Promise<void>((resolve) => res.on("close", () => resolve()));
      const r = { req, body, res, closed };
      received.push(r);
      answer(r);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  toClose.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** Answers 200 with `json`, as DynamoDB answers a call that succeeded. */
export function reply(json: string) {
  return ({ res }: Received) => {
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
    res.end(json);
  };
}

/** Answers with a DynamoDB error: `type` is the short name, e.g. "ThrottlingException". */
export function replyError(status: number, type: string, headers: Record<string, string> = {}) {
  return ({ res }: Received) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...headers });
    res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} (test)` }));
  };
}

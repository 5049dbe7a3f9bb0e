/**
 * Abort listeners on a call's ctx.signal, on both transports. The signal goes to every
 * DynamoDB call a handler makes, and a parallel scan makes up to 64 at once
 * (MAX_SEGMENTS); each in-flight SDK call listens on it (@smithy/core's retry race, then
 * @smithy/node-http-handler until the request closes). Under Node 20, whose AbortSignals
 * warned past 10 listeners, a scan of 10+ segments printed "MaxListenersExceededWarning:
 * 11 abort listeners added to [AbortSignal]"; Node 24 sets no limit on AbortSignals
 * (nodejs/node#55816). The fan-out is bounded and released, which these tests pin; what
 * would be a leak is growth: listeners left after the call, or one more per 'drain' wait
 * on a long stream. Real servers on port 0, the real AWS SDK against a fake endpoint.
 */
import { getEventListeners } from "node:events";
import { createServer } from "node:http";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { createClient, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InventoryService, type ScanItemsResponse } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { serviceRegistration } from "../../src/transport/registration.js";
import { type GenericGrpcClient, startTransports, type Transports } from "../support/transports.js";

const FAN_OUT = 64;
const STREAM_MESSAGES = 300;

/** Answers every DynamoDB call with an empty GetItem result after a short delay. */
const fakeDynamo = createServer((req, res) => {
  req.resume();
  req.on("end", () =>
    setTimeout(() => res.writeHead(200, { "content-type": "application/x-amz-json-1.0" }).end("{}"), 20),
  );
});
let dynamo: DynamoDBClient;

/** Most abort listeners seen on a handler's ctx.signal in the last call, and that signal. */
let peakListeners = 0;
let lastSignal: AbortSignal | undefined;
const sample = (ctx: HandlerContext) => {
  lastSignal = ctx.signal;
  peakListeners = Math.max(peakListeners, getEventListeners(ctx.signal, "abort").length);
};
const listenersLeft = () => (lastSignal ? getEventListeners(lastSignal, "abort").length : -1);

const inventory: Partial<ServiceImpl<typeof InventoryService>> = {
  async getItem(req, ctx) {
    const calls = Array.from({ length: FAN_OUT }, (_, i) =>
      dynamo.send(new GetItemCommand({ TableName: "t", Key: { sku: { S: `${req.sku}-${i}` } } }), {
        abortSignal: ctx.signal,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    sample(ctx);
    await Promise.all(calls);
    return { item: { sku: req.sku } };
  },
  async *scanItems(_req, ctx) {
    for (let i = 0; i < STREAM_MESSAGES; i++) {
      sample(ctx);
      yield { items: Array.from({ length: 20 }, (_, j) => ({ sku: `s-${i}-${j}`, name: "n".repeat(200) })) };
    }
  },
};
const services = [serviceRegistration(InventoryService, inventory)];

let servers: Transports;
let grpcClient: GenericGrpcClient;
let httpUrl: string;
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);

beforeAll(async () => {
  await new Promise<void>((resolve) => fakeDynamo.listen(0, "127.0.0.1", resolve));
  const address = fakeDynamo.address();
  dynamo = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  servers = await startTransports(services, InventoryService);
  ({ grpcClient, httpUrl } = servers);
});

afterAll(async () => {
  await servers?.stop();
  dynamo?.destroy();
  fakeDynamo.closeAllConnections();
  await new Promise<void>((resolve) => fakeDynamo.close(() => resolve()));
});

beforeEach(() => {
  peakListeners = 0;
  warnings.length = 0;
  process.on("warning", onWarning);
});
afterEach(() => {
  process.off("warning", onWarning);
});

const maxListenerWarnings = () => warnings.filter((w) => w.name === "MaxListenersExceededWarning");

function grpcGetItem(sku: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const getItem = grpcClient["getItem"] as (...args: unknown[]) => unknown;
    getItem.call(grpcClient, { sku }, (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()));
  });
}

/** Reads a server stream slowly, so the server waits for 'drain' many times. */
function grpcSlowScan(): Promise<number> {
  const call = (grpcClient["scanItems"] as (...args: unknown[]) => grpc.ClientReadableStream<ScanItemsResponse>).call(
    grpcClient,
    {},
  );
  let count = 0;
  return new Promise((resolve, reject) => {
    call.on("data", () => {
      if (++count % 20 === 0) {
        call.pause();
        setTimeout(() => call.resume(), 5);
      }
    });
    call.on("error", reject);
    call.on("end", () => resolve(count));
  });
}

const connectClient = () =>
  createClient(InventoryService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" }));

describe.each([
  ["gRPC port (grpc-js)", () => grpcGetItem("g"), grpcSlowScan],
  [
    "HTTP port (connect-node), no deadline",
    async () => void (await connectClient().getItem({ sku: "c" })),
    async () => {
      let n = 0;
      for await (const _ of connectClient().scanItems({})) n++;
      return n;
    },
  ],
])("%s", (_, getItem, scan) => {
  it(`releases every listener of ${FAN_OUT} concurrent SDK calls on ctx.signal when the call ends`, async () => {
    await getItem();
    expect(peakListeners).toBeGreaterThanOrEqual(FAN_OUT);
    await expect.poll(listenersLeft).toBe(0);
    await new Promise((resolve) => setImmediate(resolve)); // emitWarning reports on the next tick
    expect(maxListenerWarnings()).toEqual([]);
  });

  it("does not collect listeners on ctx.signal over a long stream with backpressure", async () => {
    expect(await scan()).toBe(STREAM_MESSAGES);
    expect(peakListeners).toBeLessThanOrEqual(3);
    await expect.poll(listenersLeft).toBe(0);
    expect(maxListenerWarnings()).toEqual([]);
  });
});

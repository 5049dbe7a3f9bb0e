/**
 * The transport adapter against real servers on port 0 and real clients: grpc-js for the
 * gRPC port, connect-node and fetch for the HTTP/1.1 port, both serving one tiny fake
 * InventoryService (no DynamoDB). Pins what handlers may rely on whatever the transport:
 * codes, details (grpc-status-details-bin), headers/trailers, the abort signal.
 */
import type { Server as HttpServer } from "node:http";
import http2 from "node:http2";
import { create, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetItemRequestSchema,
  type GetItemResponseSchema,
  InventoryService,
  ScanItemsRequestSchema,
  type ScanItemsResponse,
  ScanItemsResponseSchema,
} from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createGrpcServer, type GrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { createGrpcServiceDefinition } from "../../src/transport/grpc-service-definition.js";
import { createHttpServer, listenHttp } from "../../src/transport/http.js";
import { serviceRegistration } from "../../src/transport/registration.js";
import { grpcUnary } from "../support/grpc-unary.js";

// ---------------------------------------------------------------------------------------
// The fake service, and what it observed

const SCAN_MESSAGES = 400;
const observed = {
  /** ScanItems messages handed to the adapter so far. */
  produced: 0,
  /** Set when a ScanItems generator's finally ran (the adapter called return()). */
  scanFinished: false,
  /** The last "wait" call's context: its signal's reason and its initial timeoutMs(). */
  waitReason: undefined as unknown,
  waitTimeoutMs: undefined as number | undefined,
  waitStarted: Promise.resolve(),
  waitAborted: Promise.resolve(),
  /** The last GetItem's signal, and the reason a listener it left behind was told. */
  lastSignal: undefined as AbortSignal | undefined,
  leftListenerReason: undefined as unknown,
};

function signalAborted(ctx: HandlerContext): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) return resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

let markWaitStarted = () => {};
function armWait() {
  observed.waitReason = undefined;
  observed.waitTimeoutMs = undefined;
  observed.waitStarted = new Promise((resolve) => (markWaitStarted = resolve));
}

const inventory: Partial<ServiceImpl<typeof InventoryService>> = {
  async getItem(req, ctx) {
    observed.lastSignal = ctx.signal;
    switch (req.sku) {
      case "leave-listening":
        // Work the handler did not await, listening to the call's signal.
        observed.leftListenerReason = undefined;
        ctx.signal.addEventListener("abort", () => (observed.leftListenerReason = ctx.signal.reason), { once: true });
        break;
      case "boom-connect":
        throw new ConnectError(
          "item boom-connect not found",
          Code.NotFound,
          new Headers({ "x-error-hint": "look elsewhere" }),
          [
            {
              desc: ErrorInfoSchema,
              value: { reason: "ITEM_NOT_FOUND", domain: "commerce.v1", metadata: { sku: req.sku } },
            },
          ],
        );
      case "boom-plain":
        throw new Error("secret: dynamodb://internal-host/table");
      case "wait": {
        observed.waitTimeoutMs = ctx.timeoutMs();
        observed.waitAborted = signalAborted(ctx);
        markWaitStarted();
        await observed.waitAborted;
        observed.waitReason = ctx.signal.reason;
        throw ctx.signal.reason;
      }
    }
    ctx.responseHeader.set("x-served-by", "fake");
    ctx.responseTrailer.set("x-trailer", "done");
    return {
      item: {
        sku: req.sku,
        name: `${ctx.protocolName}:${ctx.requestHeader.get("x-request-id") ?? "-"}`,
        quantity: 3n,
      },
    };
  },
  async *scanItems(req, ctx) {
    observed.lastSignal = ctx.signal;
    observed.produced = 0;
    observed.scanFinished = false;
    // total_segments 0: a finite stream of SCAN_MESSAGES; otherwise endless. The signal
    // is ignored on purpose: only the adapter's return() can stop an endless one.
    const limit = req.totalSegments === 0 ? SCAN_MESSAGES : Number.POSITIVE_INFINITY;
    try {
      for (let i = 0; i < limit; i++) {
        observed.produced++;
        yield {
          items: Array.from({ length: 20 }, (_, j) => ({
            sku: `sku-${i}-${j}`,
            name: "n".repeat(100),
            quantity: BigInt(i),
          })),
        };
      }
    } finally {
      observed.scanFinished = true;
    }
  },
  // deleteItem (and the rest) left out on purpose: UNIMPLEMENTED.
};

const orders: Partial<ServiceImpl<typeof OrderService>> = {
  async importOrders(requests, ctx) {
    observed.lastSignal = ctx.signal;
    let written = 0n;
    for await (const req of requests) written += BigInt(req.orders.length);
    return { written };
  },
};

const services = [serviceRegistration(InventoryService, inventory), serviceRegistration(OrderService, orders)];

// ---------------------------------------------------------------------------------------
// grpc-js client helpers

const InventoryClient = grpc.makeGenericClientConstructor(
  createGrpcServiceDefinition(InventoryService),
  "InventoryService",
);
type Client = InstanceType<typeof InventoryClient>;

interface UnaryResult<T> {
  response: T;
  header: grpc.Metadata;
  trailer: grpc.Metadata;
}

/** A unary call through the generic client; rejects with the grpc.ServiceError. */
function callUnary<T>(
  client: Client,
  name: string,
  request: unknown,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
) {
  let header = new grpc.Metadata();
  return new Promise<UnaryResult<T>>((resolve, reject) => {
    let response: T | undefined;
    const method = client[name] as (...args: unknown[]) => grpc.ClientUnaryCall;
    const call = method.call(client, request, metadata, options, (err: grpc.ServiceError | null, value: T) => {
      if (err) reject(err);
      else response = value;
    });
    call.on("metadata", (m: grpc.Metadata) => (header = m));
    call.on("status", (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve({ response: response as T, header, trailer: s.metadata });
    });
  });
}

/** The error a call fails with; fails the test if it succeeds. */
async function grpcFailure(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

async function connectFailure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** gRPC length-prefixed framing, for the raw HTTP/2 client. */
function grpcFrame(bytes: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + bytes.byteLength);
  frame.writeUInt32BE(bytes.byteLength, 1);
  frame.set(bytes, 5);
  return frame;
}

function splitFrames(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------

describe("gRPC adapter (grpc-js server, grpc-js client)", () => {
  let grpcServer: GrpcServer;
  let address: string;
  let client: Client;
  let raw: grpc.Client;

  beforeAll(async () => {
    grpcServer = createGrpcServer({ services, maxTimeoutMs: 60_000 });
    const port = await listenGrpc(grpcServer.server, "127.0.0.1", 0);
    address = `127.0.0.1:${port}`;
    client = new InventoryClient(address, grpc.credentials.createInsecure());
    raw = new grpc.Client(address, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client?.close();
    raw?.close();
    grpcServer?.server.forceShutdown();
  });

  it("answers a unary call, with request headers in and response header/trailer out", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-request-id", "r-1");
    metadata.set("x-ignored-bin", Buffer.from([1, 2, 3]));
    const { response, header, trailer } = await callUnary<MessageShape<typeof GetItemResponseSchema>>(
      client,
      "getItem",
      create(GetItemRequestSchema, { sku: "a" }),
      {},
      metadata,
    );
    expect(response.item?.sku).toBe("a");
    expect(response.item?.quantity).toBe(3n);
    expect(response.item?.name).toBe("grpc:r-1");
    expect(header.get("x-served-by")).toEqual(["fake"]);
    expect(trailer.get("x-trailer")).toEqual(["done"]);
  });

  it("aborts ctx.signal at the end of a call for work still listening, and after a failure", async () => {
    await callUnary(client, "getItem", create(GetItemRequestSchema, { sku: "leave-listening" }));
    await expect.poll(() => observed.leftListenerReason).toBeInstanceOf(DOMException);
    expect((observed.leftListenerReason as DOMException).name).toBe("AbortError");
    await grpcFailure(callUnary(client, "getItem", { sku: "boom-plain" }));
    await expect.poll(() => observed.lastSignal?.aborted).toBe(true);
    // A success that left nothing listening skips the abort (grpc-call.ts, finish).
    await callUnary(client, "getItem", create(GetItemRequestSchema, { sku: "quiet" }));
    expect(observed.lastSignal?.aborted).toBe(false);
  });

  it("answers UNIMPLEMENTED for a method the impl leaves out", async () => {
    const err = await grpcFailure(callUnary(client, "deleteItem", { sku: "a" }));
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toBe("commerce.v1.InventoryService/DeleteItem is not implemented");
  });

  it("sends a ConnectError's code, message, metadata and details (grpc-status-details-bin)", async () => {
    const err = await grpcFailure(callUnary(client, "getItem", { sku: "boom-connect" }));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe("item boom-connect not found");
    expect(err.metadata.get("x-error-hint")).toEqual(["look elsewhere"]);
    const [bin] = err.metadata.get("grpc-status-details-bin");
    expect(bin).toBeInstanceOf(Buffer);
    const status = fromBinary(StatusSchema, bin as Buffer);
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.message).toBe("item boom-connect not found");
    const any = status.details[0];
    expect(any?.typeUrl).toBe("type.googleapis.com/google.rpc.ErrorInfo");
    const info = fromBinary(ErrorInfoSchema, any?.value ?? new Uint8Array());
    expect(info.reason).toBe("ITEM_NOT_FOUND");
    expect(info.domain).toBe("commerce.v1");
    expect(info.metadata).toEqual({ sku: "boom-connect" });
  });

  it("turns any other thrown value into INTERNAL without its message", async () => {
    const err = await grpcFailure(callUnary(client, "getItem", { sku: "boom-plain" }));
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe("internal error");
    expect(err.message).not.toContain("secret");
    expect(err.metadata.get("grpc-status-details-bin")).toEqual([]);
  });

  it("answers INVALID_ARGUMENT (not INTERNAL) to request bytes that do not decode", async () => {
    const garbage = Buffer.from([0x08, 0xff]); // field 1 varint, cut short
    const err = await grpcFailure(grpcUnary(raw, "/commerce.v1.InventoryService/GetItem", garbage));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("commerce.v1.GetItemRequest");
    // Same on the streaming path.
    const streamErr = await new Promise<grpc.ServiceError>((resolve) => {
      const call = raw.makeServerStreamRequest(
        "/commerce.v1.InventoryService/ScanItems",
        (b: Buffer) => b,
        (b: Buffer) => b,
        garbage,
      );
      call.on("data", () => {});
      call.on("error", (e: grpc.ServiceError) => resolve(e));
    });
    expect(streamErr.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("streams many messages in order to a slow grpc-js consumer", async () => {
    const call = raw.makeServerStreamRequest(
      "/commerce.v1.InventoryService/ScanItems",
      (m: unknown) => Buffer.from(toBinary(ScanItemsRequestSchema, create(ScanItemsRequestSchema, m as object))),
      (b: Buffer) => fromBinary(ScanItemsResponseSchema, b),
      { totalSegments: 0 },
    );
    const received: ScanItemsResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on("data", (m: ScanItemsResponse) => {
        received.push(m);
        // A slow consumer: a pause every 25 messages.
        if (received.length % 25 === 0) {
          call.pause();
          setTimeout(() => call.resume(), 10);
        }
      });
      call.on("error", reject);
      call.on("end", () => resolve());
    });
    expect(received).toHaveLength(SCAN_MESSAGES);
    expect(received.map((m) => m.items[0]?.quantity)).toEqual(
      Array.from({ length: SCAN_MESSAGES }, (_, i) => BigInt(i)),
    );
    expect(observed.scanFinished).toBe(true);
    // A stream's end aborts its signal even with nothing listening (grpc-call.ts, finish).
    await expect.poll(() => observed.lastSignal?.aborted).toBe(true);
  });

  it("holds the producer back while the client does not read (HTTP/2 flow control)", async () => {
    // A raw node:http2 client: grpc-js's client keeps reading into its own buffer while
    // its stream is paused (grpc/grpc-node#988), so it cannot show server backpressure.
    const session = http2.connect(`http://${address}`);
    try {
      const req = session.request({
        ":method": "POST",
        ":path": "/commerce.v1.InventoryService/ScanItems",
        "content-type": "application/grpc",
        te: "trailers",
      });
      req.end(grpcFrame(toBinary(ScanItemsRequestSchema, create(ScanItemsRequestSchema, { totalSegments: 0 }))));
      // Nothing reads `req` yet: only what the 64 KiB HTTP/2 window and the write buffers
      // hold may be produced (each message ~2.5 KB, the whole stream ~1 MB).
      await sleep(300);
      const producedWhilePaused = observed.produced;
      expect(producedWhilePaused).toBeGreaterThan(0);
      expect(producedWhilePaused).toBeLessThan(SCAN_MESSAGES / 4);

      const chunks: Buffer[] = [];
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => req.once("trailers", resolve));
      await new Promise<void>((resolve, reject) => {
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("error", reject);
        req.on("end", () => resolve());
      });
      expect((await trailers)["grpc-status"]).toBe("0");
      const messages = splitFrames(Buffer.concat(chunks)).map((b) => fromBinary(ScanItemsResponseSchema, b));
      expect(messages).toHaveLength(SCAN_MESSAGES);
      expect(observed.scanFinished).toBe(true);
    } finally {
      session.close();
    }
  });

  it("stops pulling from the handler's iterator when the client cancels a stream", async () => {
    const call = raw.makeServerStreamRequest(
      "/commerce.v1.InventoryService/ScanItems",
      (m: unknown) => Buffer.from(toBinary(ScanItemsRequestSchema, create(ScanItemsRequestSchema, m as object))),
      (b: Buffer) => fromBinary(ScanItemsResponseSchema, b),
      { totalSegments: 1 }, // endless
    );
    call.on("error", () => {}); // CANCELLED, expected
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    call.cancel();
    await expect.poll(() => observed.scanFinished, { timeout: 2000 }).toBe(true);
    const producedAtStop = observed.produced;
    await sleep(50);
    expect(observed.produced).toBe(producedAtStop);
  });

  it("aborts ctx.signal with CANCELED when the client cancels", async () => {
    armWait();
    let clientErr: grpc.ServiceError | undefined;
    const method = client["getItem"] as (...args: unknown[]) => grpc.ClientUnaryCall;
    const call = method.call(client, { sku: "wait" }, (err: grpc.ServiceError | null) => {
      clientErr = err ?? undefined;
    });
    await observed.waitStarted;
    call.cancel();
    await observed.waitAborted;
    expect(observed.waitReason).toBeInstanceOf(ConnectError);
    expect((observed.waitReason as ConnectError).code).toBe(Code.Canceled);
    await expect.poll(() => clientErr?.code).toBe(grpc.status.CANCELLED);
  });

  it("reflects the client's deadline in ctx.timeoutMs() and ctx.signal", async () => {
    armWait();
    const started = Date.now();
    const err = await grpcFailure(callUnary(client, "getItem", { sku: "wait" }, { deadline: Date.now() + 300 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(observed.waitTimeoutMs).toBeGreaterThan(0);
    expect(observed.waitTimeoutMs).toBeLessThanOrEqual(300);
    await observed.waitAborted;
    expect((observed.waitReason as ConnectError).code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("decodes a client stream into the handler's AsyncIterable", async () => {
    const OrderClient = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(OrderService), "OrderService");
    const orderClient = new OrderClient(address, grpc.credentials.createInsecure());
    try {
      const response = await new Promise<{ written: bigint }>((resolve, reject) => {
        const method = orderClient["importOrders"] as (...args: unknown[]) => grpc.ClientWritableStream<unknown>;
        const call = method.call(orderClient, (err: grpc.ServiceError | null, value: { written: bigint }) =>
          err ? reject(err) : resolve(value),
        );
        for (let i = 0; i < 5; i++) call.write({ orders: [{ orderId: `o-${i}` }, { orderId: `p-${i}` }] });
        call.end();
      });
      expect(response.written).toBe(10n);
      // A single answer that succeeded, nothing listening: no abort (grpc-call.ts, finish).
      expect(observed.lastSignal?.aborted).toBe(false);
      // Bad bytes mid-stream: INVALID_ARGUMENT.
      const err = await new Promise<grpc.ServiceError>((resolve) => {
        const call = raw.makeClientStreamRequest(
          "/commerce.v1.OrderService/ImportOrders",
          (b: Buffer) => b,
          (b: Buffer) => b,
          (e) => resolve(e as grpc.ServiceError),
        );
        call.write(Buffer.from([0x0a, 0x00]));
        call.write(Buffer.from([0xff, 0xff, 0xff]));
        call.end();
      });
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    } finally {
      orderClient.close();
    }
  });

  it("serves grpc.health.v1 with the statuses the caller sets", async () => {
    const check = (service: string) => grpcUnary(raw, Health.method.check, { service });
    expect(grpcServer.serviceNames).toEqual(["", "commerce.v1.InventoryService", "commerce.v1.OrderService"]);
    const unknown = await grpcFailure(check(""));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
    for (const name of grpcServer.serviceNames) grpcServer.health.setStatus(name, "SERVING");
    expect((await check("")).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await check("commerce.v1.InventoryService")).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });
});

describe("gRPC adapter deadline cap", () => {
  let grpcServer: GrpcServer;
  let client: Client;

  beforeAll(async () => {
    grpcServer = createGrpcServer({ services, maxTimeoutMs: 200 });
    const port = await listenGrpc(grpcServer.server, "127.0.0.1", 0);
    client = new InventoryClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  afterAll(() => {
    client?.close();
    grpcServer?.server.forceShutdown();
  });

  it("aborts ctx.signal at maxTimeoutMs when the call has no deadline", async () => {
    armWait();
    const err = await grpcFailure(callUnary(client, "getItem", { sku: "wait" }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(observed.waitTimeoutMs).toBeLessThanOrEqual(200);
    expect((observed.waitReason as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("caps a longer client deadline too", async () => {
    armWait();
    const started = Date.now();
    const err = await grpcFailure(callUnary(client, "getItem", { sku: "wait" }, { deadline: Date.now() + 60_000 }));
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("the same handlers over HTTP/1.1 (connect-node)", () => {
  let httpServer: HttpServer;
  let baseUrl: string;

  beforeAll(async () => {
    httpServer = createHttpServer({ services });
    const port = await listenHttp(httpServer, "127.0.0.1", 0);
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    httpServer?.closeAllConnections();
    await new Promise<void>((resolve) => httpServer?.close(() => resolve()));
  });

  const inventoryClient = () => createClient(InventoryService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));

  it("answers a Connect client", async () => {
    const res = await inventoryClient().getItem({ sku: "a" }, { headers: { "x-request-id": "r-2" } });
    expect(res.item?.sku).toBe("a");
    expect(res.item?.quantity).toBe(3n);
    expect(res.item?.name).toBe("connect:r-2");
  });

  it("carries ConnectError details and UNIMPLEMENTED the same way", async () => {
    const err = await connectFailure(inventoryClient().getItem({ sku: "boom-connect" }));
    expect(err.code).toBe(Code.NotFound);
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("ITEM_NOT_FOUND");
    const plain = await connectFailure(inventoryClient().getItem({ sku: "boom-plain" }));
    expect(plain.code).toBe(Code.Internal);
    expect(plain.message).not.toContain("secret");
    const unimplemented = await connectFailure(inventoryClient().deleteItem({ sku: "a" }));
    expect(unimplemented.code).toBe(Code.Unimplemented);
    expect(unimplemented.rawMessage).toBe("commerce.v1.InventoryService/DeleteItem is not implemented");
  });

  it("streams to a Connect client", async () => {
    let count = 0;
    for await (const m of inventoryClient().scanItems({ totalSegments: 0 })) {
      expect(m.items[0]?.quantity).toBe(BigInt(count));
      count++;
    }
    expect(count).toBe(SCAN_MESSAGES);
  });

  it("answers a plain JSON POST", async () => {
    const res = await fetch(`${baseUrl}/commerce.v1.InventoryService/GetItem`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: "a" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-served-by")).toBe("fake");
    expect(await res.json()).toEqual({ item: { sku: "a", name: "connect:-", quantity: "3" } });
  });

  it("answers INVALID_ARGUMENT to undecodable binary, as the gRPC port does", async () => {
    const garbage = await fetch(`${baseUrl}/commerce.v1.InventoryService/GetItem`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x0a, 0x05, 0x61]), // field 1 claims 5 bytes, 1 follows
    });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("commerce.v1.GetItemRequest"),
    });
    const valid = await fetch(`${baseUrl}/commerce.v1.InventoryService/GetItem`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x0a, 0x01, 0x61]), // GetItemRequest { sku: "a" }
    });
    expect(valid.status).toBe(200);
    await valid.arrayBuffer();
  });

  it("answers 404 to an unknown path", async () => {
    const res = await fetch(`${baseUrl}/nope`, { method: "POST" });
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });

  it("caps deadlines like the gRPC side", async () => {
    const capped = createHttpServer({ services, maxTimeoutMs: 200 });
    const port = await listenHttp(capped, "127.0.0.1", 0);
    try {
      armWait();
      const client = createClient(
        InventoryService,
        createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }),
      );
      const err = await connectFailure(client.getItem({ sku: "wait" }));
      expect(err.code).toBe(Code.DeadlineExceeded);
      expect((observed.waitReason as ConnectError).code).toBe(Code.DeadlineExceeded);
    } finally {
      capped.closeAllConnections();
      await new Promise<void>((resolve) => capped.close(() => resolve()));
    }
  });
});

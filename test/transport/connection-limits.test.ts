/**
 * The connection-level limits of src/transport/limits.ts, against real servers: a client
 * pinging in a loop gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings" on the gRPC port while
 * pings between calls do not; metadata past the header list limit is refused; on the HTTP
 * port a client that never finishes its headers is disconnected, and connections past the
 * limit are closed on accept.
 */
import http2 from "node:http2";
import { connect as netConnect, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createGrpcServer, type GrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { createHttpServer, type HttpServer, listenHttp } from "../../src/transport/http.js";
import { GRPC_MAX_PING_STRIKES, HTTP_HEADERS_TIMEOUT_MS, HTTP_MAX_CONNECTIONS } from "../../src/transport/limits.js";
import { serviceRegistration } from "../../src/transport/registration.js";
import { grpcUnary } from "../support/grpc-unary.js";

let server: GrpcServer;
let address = "";
beforeAll(async () => {
  server = createGrpcServer({ services: [] });
  server.health.setStatus("", "SERVING");
  address = `127.0.0.1:${await listenGrpc(server.server, "127.0.0.1", 0)}`;
});
afterAll(() => server.server.forceShutdown());

/** A client HTTP/2 connection, once connected (a ping sent before that is cancelled). */
async function connected(): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://${address}`);
  await new Promise((resolve, reject) => {
    session.once("connect", resolve);
    session.once("error", reject);
  });
  return session;
}

const ping = (session: http2.ClientHttp2Session) =>
  new Promise<void>((resolve, reject) => {
    session.ping((err) => (err ? reject(err) : resolve()));
  });

/** One health check as a raw HTTP/2 stream on `session` (a new call: resets ping strikes). */
function healthCall(session: http2.ClientHttp2Session): Promise<void> {
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Check",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message, uncompressed
  stream.resume();
  return new Promise((resolve) => stream.on("close", () => resolve()));
}

describe("gRPC port keepalive enforcement", () => {
  it("sends GOAWAY ENHANCE_YOUR_CALM too_many_pings to a client that pings in a loop", async () => {
    const session = await connected();
    const goaway = new Promise<{ code: number; data: string }>((resolve) =>
      session.on("goaway", (code, _last, data) => resolve({ code, data: data?.toString() ?? "" })),
    );
    session.on("error", () => undefined); // the connection is then destroyed
    for (let i = 0; i <= GRPC_MAX_PING_STRIKES + 1; i++) await ping(session).catch(() => undefined);
    expect(await goaway).toEqual({ code: http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, data: "too_many_pings" });
    await new Promise((resolve) => session.on("close", resolve));
  });

  it("lets a client ping between calls", async () => {
    const session = await connected();
    let goaway = false;
    session.on("goaway", () => {
      goaway = true;
    });
    for (let i = 0; i < 3 * (GRPC_MAX_PING_STRIKES + 1); i++) {
      await ping(session);
      await healthCall(session);
    }
    expect(goaway).toBe(false);
    session.close();
  });
});

describe("gRPC port keepalive enforcement with data flowing", () => {
  let streaming: GrpcServer;
  let streamingAddress = "";
  const MESSAGES = 40;
  beforeAll(async () => {
    const impl: Partial<ServiceImpl<typeof InventoryService>> = {
      async *scanItems() {
        for (let i = 0; i < MESSAGES; i++) {
          yield { items: [{ sku: `s${i}`, name: "n".repeat(1000) }] };
          await delay(2);
        }
      },
    };
    streaming = createGrpcServer({ services: [serviceRegistration(InventoryService, impl)] });
    streamingAddress = `127.0.0.1:${await listenGrpc(streaming.server, "127.0.0.1", 0)}`;
  });
  afterAll(() => streaming.server.forceShutdown());

  it("lets a client ping after every chunk it receives (BDP estimation), as grpc-go and C-core clients do", async () => {
    const session = http2.connect(`http://${streamingAddress}`);
    await new Promise((resolve) => session.once("connect", resolve));
    let goaway = false;
    session.on("goaway", () => {
      goaway = true;
    });
    const stream = session.request({
      ":method": "POST",
      ":path": "/commerce.v1.InventoryService/ScanItems",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0])); // an empty ScanItemsRequest
    let chunks = 0;
    stream.on("data", () => {
      chunks++;
      session.ping(() => undefined);
    });
    const status = await new Promise<string | undefined>((resolve) => {
      stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
      stream.on("close", () => resolve(undefined));
    });
    expect(status).toBe("0");
    expect(chunks).toBeGreaterThanOrEqual(MESSAGES / 2);
    expect(goaway).toBe(false);
    session.close();
  });
});

describe("gRPC port header list limit", () => {
  it("refuses metadata beyond 16 KiB and serves the same call with 12 KiB", async () => {
    const metadata = new grpc.Metadata();
    metadata.set("x-padding", "p".repeat(20 * 1024));
    const err = await grpcUnary({ address }, Health.method.check, { service: "" }, { metadata }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBeDefined();
    expect(err?.code).not.toBe(grpc.status.OK);
    const under = new grpc.Metadata();
    under.set("x-padding", "p".repeat(12 * 1024));
    const ok = await grpcUnary({ address }, Health.method.check, { service: "" }, { metadata: under });
    expect(ok.status).toBeDefined();
  });
});

describe("HTTP port connection protection", () => {
  let http: HttpServer;
  let port = 0;
  beforeAll(async () => {
    http = createHttpServer({ services: [] });
    port = await listenHttp(http, "127.0.0.1", 0);
  });
  afterAll(() => new Promise((resolve) => http.close(resolve)));

  it("disconnects a client that connects and never sends a byte", async () => {
    const socket = netConnect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    socket.resume();
    const started = Date.now();
    await new Promise((resolve) => socket.on("close", resolve));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(HTTP_HEADERS_TIMEOUT_MS - 1_000);
    expect(waited).toBeLessThan(HTTP_HEADERS_TIMEOUT_MS + 6_000);
  }, 30_000);

  it("closes connections past HTTP_MAX_CONNECTIONS on accept, and serves again once one has gone", async () => {
    const openConnections = () =>
      new Promise<number>((resolve, reject) => http.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    const connect = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = netConnect(port, "127.0.0.1", () => resolve(socket));
        socket.once("error", reject);
      });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < HTTP_MAX_CONNECTIONS; i++) held.push(await connect());
      await expect.poll(openConnections, { timeout: 5_000 }).toBe(HTTP_MAX_CONNECTIONS);

      const refused = await connect(); // the kernel accepts it; the server closes it at once
      refused.on("error", () => undefined);
      refused.resume();
      const started = Date.now();
      await new Promise((resolve) => refused.on("close", resolve));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await openConnections()).toBe(HTTP_MAX_CONNECTIONS);

      held.pop()?.destroy();
      await expect.poll(openConnections, { timeout: 5_000 }).toBe(HTTP_MAX_CONNECTIONS - 1);
      const served = await connect();
      let answer = "";
      served.on("data", (d: Buffer) => {
        answer += d.toString();
      });
      served.write("GET /no-such-path HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await new Promise((resolve) => served.on("close", resolve));
      expect(answer).toMatch(/^HTTP\/1.1 404 /);
    } finally {
      for (const socket of held) socket.destroy();
    }
  }, 60_000);

  it("disconnects a client that never finishes its headers", async () => {
    const socket = netConnect(port, "127.0.0.1");
    socket.on("error", () => undefined);
    let answer = "";
    socket.on("data", (d: Buffer) => {
      answer += d.toString();
    });
    socket.write("POST /commerce.v1.InventoryService/GetItem HTTP/1.1\r\nHost: x\r\n"); // and nothing more
    const started = Date.now();
    await new Promise((resolve) => socket.on("close", resolve));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(HTTP_HEADERS_TIMEOUT_MS - 1_000);
    expect(waited).toBeLessThan(HTTP_HEADERS_TIMEOUT_MS + 5_000);
    expect(answer).toMatch(/^HTTP\/1.1 408 /);
  }, 30_000);
});

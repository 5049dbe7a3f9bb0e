/**
 * Failures on the HTTP adapter path (after connect's handler, or before it could run) are
 * reported through createHttpServer's onError, which createApp wires to the pino logger,
 * instead of vanishing (the last test checks that wiring).
 */
import { randomBytes } from "node:crypto";
import type { Server as HttpServer } from "node:http";
import { connect as connectTcp } from "node:net";
import type { ServiceImpl } from "@connectrpc/connect";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { createApp } from "../../src/server.js";
import { createStoreClient } from "../../src/store/dynamo.js";
import { tableNames } from "../../src/store/tables.js";
import { createHttpServer, listenHttp } from "../../src/transport/http.js";
import { serviceRegistration } from "../../src/transport/registration.js";

const inventory: Partial<ServiceImpl<typeof InventoryService>> = {
  getItem(req, ctx) {
    // Headers takes \x01 in a value; node:http's writeHead refuses it (ERR_INVALID_CHAR),
    // so the response fails after the handler has returned, inside the adapter.
    if (req.sku === "bad-header") ctx.responseHeader.set("x-bad", "a\x01b");
    return { item: { sku: req.sku } };
  },
};

let server: HttpServer;
let port: number;
const reported: Array<{ error: unknown; path: string | undefined }> = [];

beforeAll(async () => {
  server = createHttpServer({
    services: [serviceRegistration(InventoryService, inventory)],
    onError: (error, req) => reported.push({ error, path: req.url }),
  });
  port = await listenHttp(server, "127.0.0.1", 0);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

beforeEach(() => {
  reported.length = 0;
});

/** One raw HTTP exchange; resolves whatever the server sent before closing. */
function rawHttp(toPort: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(toPort, "127.0.0.1", () => socket.end(request));
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
}

const path = "/commerce.v1.InventoryService/GetItem";

describe("HTTP adapter failures", () => {
  it("reports a response that fails after the handler returned", async () => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: "bad-header" }),
    }).then(
      () => "answered",
      () => "connection closed",
    );
    expect(res).toBe("connection closed");
    await expect.poll(() => reported.length).toBe(1);
    expect(reported[0]?.path).toBe(path);
    expect(String(reported[0]?.error)).toMatch(/x-bad/);
  });

  it("answers 400 to a request connect cannot read (HTTP/1.0, no Host) and reports it", async () => {
    const body = JSON.stringify({ sku: "a" });
    const response = await rawHttp(
      port,
      `POST ${path} HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    expect(response).toMatch(/^HTTP\/1\.[01] 400 /);
    expect(reported).toHaveLength(1);
    expect(String(reported[0]?.error)).toMatch(/authority/);
  });

  it("does not report a good call", async () => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sku: "a" }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(reported).toEqual([]);
  });
});

describe("createApp", () => {
  it("logs HTTP adapter failures with the pino logger", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const store = createStoreClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", credentials: "local" });
    const app = createApp({
      client: store,
      tables: tableNames("unused_"),
      logger,
      pageTokenSecret: randomBytes(32),
      maxMessageBytes: 1024 * 1024,
      maxDeadlineMs: 60_000,
    });
    const appPort = await listenHttp(app.http, "127.0.0.1", 0);
    try {
      const response = await rawHttp(appPort, `POST ${path} HTTP/1.0\r\ncontent-length: 0\r\n\r\n`);
      expect(response).toMatch(/^HTTP\/1\.[01] 400 /);
      expect(lines).toContainEqual(
        expect.objectContaining({ level: 50, msg: "HTTP call failed", method: "POST", path }),
      );
    } finally {
      app.http.closeAllConnections();
      await new Promise<void>((resolve) => app.http.close(() => resolve()));
      store.destroy();
    }
  });
});

/**
 * An IPv6 host may be written bare (`::1`) or bracketed (`[::1]`, as in URLs): config
 * accepts both for GRPC_HOST and HTTP_HOST, and the listeners (gRPC, HTTP, and metrics,
 * which binds HTTP_HOST) must then bind, so config hands them the bare address.
 */
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createGrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { listenHttp } from "../../src/transport/http.js";

describe("IPv6 hosts", () => {
  it.each(["::1", "[::1]"])("reads GRPC_HOST / HTTP_HOST=%s as the bare address", (host) => {
    const c = loadConfig({ GRPC_HOST: host, HTTP_HOST: host });
    expect([c.grpcHost, c.httpHost]).toEqual(["::1", "::1"]);
  });

  it.each(["::1", "[::1]"])("binds the HTTP and gRPC listeners to HTTP_HOST / GRPC_HOST=%s", async (host) => {
    const c = loadConfig({ GRPC_HOST: host, HTTP_HOST: host });
    const http = createServer((_, res) => res.end());
    const grpc = createGrpcServer({ services: [] });
    try {
      expect(await listenHttp(http, c.httpHost, 0)).toBeGreaterThan(0);
      expect(http.address()).toMatchObject({ address: "::1", family: "IPv6" });
      expect(await listenGrpc(grpc.server, c.grpcHost, 0)).toBeGreaterThan(0);
    } finally {
      grpc.server.forceShutdown();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });

  it("binds listenHttp to a bracketed host too, as listenGrpc does", async () => {
    const http = createServer((_, res) => res.end());
    try {
      expect(await listenHttp(http, "[::1]", 0)).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

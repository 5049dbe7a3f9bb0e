/**
 * TLS and mTLS on both listeners, with certificates made for the test by openssl: a
 * client that trusts the CA gets in, a client without a certificate is refused under mTLS.
 */
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { createApp } from "../../src/server.js";
import { createStoreClient } from "../../src/store/dynamo.js";
import { ensureTables, tableNames } from "../../src/store/tables.js";
import { listenGrpc } from "../../src/transport/grpc.js";
import { listenHttp } from "../../src/transport/http.js";
import { grpcCredentials, type ServerTls } from "../../src/transport/tls.js";
import { type Certificates, makeCertificates } from "../support/certs.js";
import { grpcUnary } from "../support/grpc-unary.js";

const pem = (name: string) => certs!.pem(name);

async function serve(tls: ServerTls) {
  const store = createStoreClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", credentials: "local" });
  const prefix = `tls${randomBytes(3).toString("hex")}_`;
  await ensureTables(store.raw, prefix);
  const app = createApp({
    client: store,
    tables: tableNames(prefix),
    logger: pino({ level: "silent" }),
    pageTokenSecret: randomBytes(32),
    maxMessageBytes: 1 << 20,
    maxDeadlineMs: 10_000,
    tls,
  });
  const grpcPort = await listenGrpc(app.grpc.server, "127.0.0.1", 0, grpcCredentials(tls));
  const httpPort = await listenHttp(app.http, "127.0.0.1", 0);
  return {
    grpcPort,
    httpPort,
    async stop() {
      app.grpc.server.forceShutdown();
      app.http.closeAllConnections();
      await new Promise((r) => app.http.close(r));
      store.destroy();
    },
  };
}

/** GetItemRequest { sku: "x" } over gRPC: the error it ends with (NOT_FOUND once it reached the handler). */
function grpcGetItem(port: number, credentials: grpc.ChannelCredentials): Promise<grpc.ServiceError> {
  return grpcUnary(
    { address: `localhost:${port}`, credentials },
    InventoryService.method.getItem,
    { sku: "x" },
    { deadline: Date.now() + 10_000 },
  ).then(
    () => {
      throw new Error("expected GetItem of a missing sku to fail");
    },
    (err: grpc.ServiceError) => err,
  );
}

let certs: Certificates | undefined;
beforeAll(() => {
  certs = makeCertificates([{ name: "client", cn: "checkout-service", san: "DNS:checkout-service" }]);
});
afterAll(() => certs?.remove());

describe("TLS", () => {
  it("serves gRPC and Connect over TLS to a client that trusts the CA", async () => {
    const server = await serve({ key: pem("server.key"), cert: pem("server.crt") });
    try {
      const err = await grpcGetItem(server.grpcPort, grpc.credentials.createSsl(pem("ca.crt")));
      expect(err.code).toBe(grpc.status.NOT_FOUND); // reached the handler
      const untrusting = await grpcGetItem(server.grpcPort, grpc.credentials.createSsl());
      expect(untrusting.code).toBe(grpc.status.UNAVAILABLE);
      const client = createClient(
        InventoryService,
        createConnectTransport({
          baseUrl: `https://localhost:${server.httpPort}`,
          httpVersion: "1.1",
          nodeOptions: { ca: pem("ca.crt") },
        }),
      );
      const e = await client.getItem({ sku: "x" }).catch((x: unknown) => ConnectError.from(x));
      expect((e as ConnectError).code).toBe(Code.NotFound);
    } finally {
      await server.stop();
    }
  });

  it("requires a client certificate signed by the client CA under mTLS", async () => {
    const server = await serve({ key: pem("server.key"), cert: pem("server.crt"), clientCa: pem("ca.crt") });
    try {
      const withCert = await grpcGetItem(
        server.grpcPort,
        grpc.credentials.createSsl(pem("ca.crt"), pem("client.key"), pem("client.crt")),
      );
      expect(withCert.code).toBe(grpc.status.NOT_FOUND);
      const without = await grpcGetItem(server.grpcPort, grpc.credentials.createSsl(pem("ca.crt")));
      expect(without.code).toBe(grpc.status.UNAVAILABLE);
      const anonymous = createClient(
        InventoryService,
        createConnectTransport({
          baseUrl: `https://localhost:${server.httpPort}`,
          httpVersion: "1.1",
          nodeOptions: { ca: pem("ca.crt") },
        }),
      );
      const e = await anonymous.getItem({ sku: "x" }).catch((x: unknown) => ConnectError.from(x));
      expect((e as ConnectError).code).not.toBe(Code.NotFound);
    } finally {
      await server.stop();
    }
  });
});

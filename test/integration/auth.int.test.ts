/**
 * AUTH_MODE on both ports, with tokens and certificates made for this run: every mode ×
 * (no credentials, wrong credentials, a principal without the method, a principal with
 * it) × (gRPC, Connect, gRPC-Web); refusals carry their reason and name principal and
 * method, write nothing, and show up in the log line and the metric; the public list;
 * streaming methods refused before they start.
 */
import { createHash, randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../src/gen/grpc/health/v1/health_pb.js";
import { type AuthGate, createAuthGate } from "../../src/middleware/auth-gate.js";
import { methodCatalog, parsePolicy } from "../../src/middleware/auth-policy.js";
import { SERVED_SERVICES } from "../../src/transport/served-services.js";
import { capturedLogger } from "../support/captured-logger.js";
import { type Certificates, makeCertificates } from "../support/certs.js";
import { grpcUnary } from "../support/grpc-unary.js";
import { HARNESS_MAX_MESSAGE_BYTES, type Harness, startHarness } from "../support/harness.js";
import { eur } from "../support/money.js";
import { I, O, uid } from "../support/orders.js";
import { envelope, postGrpc } from "../support/raw-calls.js";
import { connectClient, failure, grpcClient, type RpcClient } from "../support/rpc-client.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const token = () => randomBytes(24).toString("base64url");
const tokens = { checkout: token(), fulfilment: token() };

let certs: Certificates | undefined;
beforeAll(() => {
  certs = makeCertificates([
    { name: "checkout", cn: "checkout", san: "URI:spiffe://shop/checkout" },
    { name: "fulfilment", cn: "ignored-cn", san: "DNS:fulfilment.local,URI:spiffe://shop/fulfilment" },
    { name: "stranger", cn: "stranger", san: "URI:spiffe://shop/stranger" },
    { name: "reporting", cn: "reporting" },
  ]);
});
afterAll(() => certs?.remove());
const pem = (file: string) => certs!.pem(file);

function policyJson(open?: string[]): string {
  return JSON.stringify({
    principals: [
      {
        name: "checkout",
        token_sha256: sha256(tokens.checkout),
        mtls_identity: "spiffe://shop/checkout",
        allow: ["commerce.v1.OrderService/*", "commerce.v1.InventoryService/*"],
      },
      {
        name: "fulfilment",
        token_sha256: sha256(tokens.fulfilment),
        mtls_identity: "spiffe://shop/fulfilment",
        allow: ["commerce.v1.OrderService/UpdateOrderStatus", "commerce.v1.InventoryService/GetItem"],
      },
      { name: "reporting", mtls_identity: "reporting", allow: ["commerce.v1.InventoryService/GetItem"] },
    ],
    ...(open ? { public: open } : {}),
  });
}

const gate = (mode: "none" | "token" | "mtls", open?: string[]): AuthGate =>
  createAuthGate(mode, mode === "none" ? undefined : parsePolicy(policyJson(open), methodCatalog(SERVED_SERVICES)));

type Protocol = "grpc" | "connect" | "grpc-web";
const PROTOCOLS: Protocol[] = ["grpc", "connect", "grpc-web"];
type Who = "nobody" | "bad-token" | "not-bearer" | "stranger" | "checkout" | "fulfilment" | "reporting";

/** A client of `h` presenting `who`'s credentials the way `mode` expects them. */
function clientAs(h: Harness, mode: "none" | "token" | "mtls", protocol: Protocol, who: Who): RpcClient {
  const headers: Record<string, string> = {};
  if (mode !== "mtls") {
    if (who === "checkout" || who === "fulfilment") headers["authorization"] = `Bearer ${tokens[who]}`;
    if (who === "bad-token") headers["authorization"] = `Bearer ${token()}`;
    if (who === "not-bearer") headers["authorization"] = `Basic ${Buffer.from("a:b").toString("base64")}`;
    if (protocol === "grpc") return grpcClient(h.grpcAddress, { headers });
    return connectClient(h.httpUrl, { protocol, headers });
  }
  const pair = who === "nobody" || who === "bad-token" || who === "not-bearer" ? undefined : who;
  const port = (url: string) => url.slice(url.lastIndexOf(":") + 1);
  if (protocol === "grpc") {
    const credentials = pair
      ? grpc.credentials.createSsl(pem("ca.crt"), pem(`${pair}.key`), pem(`${pair}.crt`))
      : grpc.credentials.createSsl(pem("ca.crt"));
    return grpcClient(`localhost:${port(h.grpcAddress)}`, { credentials });
  }
  const nodeOptions = { ca: pem("ca.crt"), ...(pair ? { key: pem(`${pair}.key`), cert: pem(`${pair}.crt`) } : {}) };
  return connectClient(`https://localhost:${port(h.httpUrl)}`, { protocol, nodeOptions });
}

const itemOf = (sku: string) => ({ item: { sku, name: "auth test", unitPrice: eur(1n), quantity: 1n } });

describe.each(["none", "token", "mtls"] as const)("AUTH_MODE=%s", (mode) => {
  let h: Harness;
  const log = capturedLogger();
  beforeAll(async () => {
    h = await startHarness({
      auth: gate(mode),
      logger: log.logger,
      ...(mode === "mtls" ? { tls: { key: pem("server.key"), cert: pem("server.crt"), clientCa: pem("ca.crt") } } : {}),
    });
  });
  afterAll(() => h.stop());

  /** The one client every assertion checks with: a principal allowed everything it needs. */
  const admin = (protocol: Protocol = "grpc") => clientAs(h, mode, protocol, "checkout");

  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it("no credentials: UNAUTHENTICATED (mtls: no TLS connection at all)", async () => {
      const client = clientAs(h, mode, protocol, "nobody");
      const sku = uid("auth-none");
      const call = () => client.unary(I.createItem, itemOf(sku));
      if (mode === "none") {
        await call();
        return;
      }
      const f = await failure(call);
      if (mode === "token") {
        expect(f.code).toBe(Code.Unauthenticated);
        expect(f.errorInfo?.reason).toBe("UNAUTHENTICATED");
        expect(f.message).toMatch(/no credentials/);
      } else {
        // The handshake needs a certificate signed by TLS_CLIENT_CA_FILE (README,
        // Authentication), so no call is made: grpc-js reports UNAVAILABLE, connect-node
        // the reset socket as INTERNAL. Either way the client saw the connection refused.
        expect([Code.Unavailable, Code.Internal]).toContain(f.code);
      }
      const g = await failure(() => admin().unary(I.getItem, { sku }));
      expect(g.code).toBe(Code.NotFound); // nothing was written
    }, 20_000);

    it("wrong credentials: UNAUTHENTICATED, nothing written", async () => {
      for (const who of mode === "mtls" ? (["stranger"] as const) : (["bad-token", "not-bearer"] as const)) {
        const sku = uid("auth-wrong");
        const call = clientAs(h, mode, protocol, who).unary(I.createItem, itemOf(sku));
        if (mode === "none") {
          await call;
          continue;
        }
        const f = await failure(() => call);
        expect(f.code).toBe(Code.Unauthenticated);
        expect(f.errorInfo?.reason).toBe("UNAUTHENTICATED");
        expect(f.errorInfo?.metadata["method"]).toBe("commerce.v1.InventoryService/CreateItem");
        expect((await failure(() => admin().unary(I.getItem, { sku }))).code).toBe(Code.NotFound);
      }
    });

    it("a principal without the method: PERMISSION_DENIED naming both, nothing written", async () => {
      const sku = uid("auth-denied");
      const call = clientAs(h, mode, protocol, "fulfilment").unary(I.createItem, itemOf(sku));
      if (mode === "none") {
        await call;
        return;
      }
      const f = await failure(() => call);
      expect(f.code).toBe(Code.PermissionDenied);
      expect(f.errorInfo?.reason).toBe("PERMISSION_DENIED");
      expect(f.errorInfo?.metadata).toEqual({
        principal: "fulfilment",
        method: "commerce.v1.InventoryService/CreateItem",
      });
      expect((await failure(() => admin().unary(I.getItem, { sku }))).code).toBe(Code.NotFound);
    });

    it("a principal with the method reaches the handler", async () => {
      const f = await failure(() => clientAs(h, mode, protocol, "fulfilment").unary(I.getItem, { sku: uid("x") }));
      expect(f.code).toBe(Code.NotFound);
      const sku = uid("auth-ok");
      await clientAs(h, mode, protocol, "checkout").unary(I.createItem, itemOf(sku));
      const got = await admin().unary(I.getItem, { sku });
      expect(got.item?.sku).toBe(sku);
    });

    // In mode none nobody is refused: the streams are served, as the rows above show.
    it.skipIf(mode === "none")("streaming methods are refused before they start", async () => {
      const fulfilment = clientAs(h, mode, protocol, "fulfilment");
      const scan = await failure(async () => {
        for await (const _ of fulfilment.serverStream(I.scanItems, {})) void _;
      });
      expect(scan.code).toBe(Code.PermissionDenied);
      const imported = await failure(() => fulfilment.clientStream(O.importOrders, []));
      expect(imported.code).toBe(Code.PermissionDenied);
    });
  });

  it("the principal is in the RPC log line and the metric labels", async () => {
    if (mode === "none") {
      await failure(() => admin().unary(I.getItem, { sku: uid("log") }));
      expect(log.lines.some((l) => l["msg"] === "rpc" && l["principal"] === "anonymous")).toBe(true);
      return;
    }
    await failure(() => clientAs(h, mode, "grpc", "fulfilment").unary(I.createItem, itemOf(uid("m"))));
    await failure(() => clientAs(h, mode, "connect", "fulfilment").unary(I.getItem, { sku: uid("m") }));
    const lines = log.lines.filter((l) => l["principal"] === "fulfilment");
    expect(lines.map((l) => [l["method"], l["code"]])).toEqual(
      expect.arrayContaining([
        ["commerce.v1.InventoryService/CreateItem", "PERMISSION_DENIED"],
        ["commerce.v1.InventoryService/GetItem", "NOT_FOUND"],
      ]),
    );
    const metrics = await h.metrics.registry.metrics();
    expect(metrics).toMatch(
      /grpc_server_handled_total\{grpc_type="unary",grpc_service="commerce.v1.InventoryService",grpc_method="CreateItem",grpc_code="PermissionDenied",principal="fulfilment"\} [1-9]/,
    );
    expect(metrics).toMatch(/grpc_code="Unauthenticated",principal="anonymous"\} [1-9]/);
  });

  // A raw HTTP/2 client (plaintext: not under mtls) can send what no client library would.
  it.skipIf(mode !== "token")(
    "a gRPC message refused for its size, after admission, is logged with the admitted principal",
    async () => {
      const answer = await postGrpc(
        h.grpcAddress,
        "/commerce.v1.InventoryService/GetItem",
        { authorization: `Bearer ${tokens.fulfilment}` },
        envelope(0, new Uint8Array(HARNESS_MAX_MESSAGE_BYTES + 1)),
      );
      expect(answer.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      await expect
        .poll(() =>
          log.lines.some(
            (l) =>
              l["msg"] === "rpc" &&
              l["method"] === "commerce.v1.InventoryService/GetItem" &&
              l["code"] === "RESOURCE_EXHAUSTED" &&
              l["principal"] === "fulfilment",
          ),
        )
        .toBe(true);
    },
  );

  // Under mtls there is no connection without a certificate to ask on.
  it.skipIf(mode === "mtls")("health is public: answered without credentials", async () => {
    const res = await grpcUnary({ address: h.grpcAddress }, Health.method.check, { service: "" });
    expect(res.status).toBeDefined();
  });
});

describe("AUTH_MODE=mtls, identity fallback", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      auth: gate("mtls"),
      tls: { key: pem("server.key"), cert: pem("server.crt"), clientCa: pem("ca.crt") },
    });
  });
  afterAll(() => h.stop());

  it("names a certificate without a URI SAN by its subject CN", async () => {
    for (const protocol of PROTOCOLS) {
      const reporting = clientAs(h, "mtls", protocol, "reporting");
      expect((await failure(() => reporting.unary(I.getItem, { sku: uid("cn") }))).code).toBe(Code.NotFound);
      const f = await failure(() => reporting.unary(I.createItem, itemOf(uid("cn"))));
      expect(f.errorInfo?.metadata["principal"]).toBe("reporting");
    }
  });

  it("uses the first URI SAN, not a DNS SAN or the CN", async () => {
    const f = await failure(() => clientAs(h, "mtls", "grpc", "fulfilment").unary(I.createItem, itemOf(uid("san"))));
    expect(f.errorInfo?.metadata["principal"]).toBe("fulfilment");
  });
});

describe('"public": [] closes health and reflection too', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ auth: gate("token", []) });
  });
  afterAll(() => h.stop());

  it("answers UNAUTHENTICATED to a health check without credentials, and serves one with them", async () => {
    const err = await grpcUnary({ address: h.grpcAddress }, Health.method.check, { service: "" }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${tokens.checkout}`);
    // checkout is not allowed Health either: PERMISSION_DENIED, the gate saw who it was.
    const denied = await grpcUnary({ address: h.grpcAddress }, Health.method.check, { service: "" }, { metadata }).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(denied?.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("answers UNAUTHENTICATED to reflection without credentials", async () => {
    const client = new grpc.Client(h.grpcAddress, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<grpc.StatusObject>((resolve) => {
        const call = client.makeBidiStreamRequest(
          "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
          (b: Buffer) => b,
          (b: Buffer) => b,
        );
        call.on("data", () => undefined);
        call.on("error", () => undefined);
        call.on("status", resolve);
        call.end();
      });
      expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});

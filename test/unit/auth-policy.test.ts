/**
 * AUTH_POLICY_FILE's contract (README "Authentication"): what parses, what is refused and
 * how the refusal names the problem; AUTH_MODE's config rules; the gate's decisions; and
 * how a certificate names its principal.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PeerCertificate } from "node:tls";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DomainError } from "../../src/domain/errors.js";
import { ANONYMOUS, createAuthGate, unusablePrincipals } from "../../src/middleware/auth-gate.js";
import { methodCatalog, parsePolicy } from "../../src/middleware/auth-policy.js";
import { createApp } from "../../src/server.js";
import { createStoreClient } from "../../src/store/dynamo.js";
import { tableNames } from "../../src/store/tables.js";
import { peerIdentity } from "../../src/transport/peer-identity.js";
import { SERVED_SERVICES } from "../../src/transport/served-services.js";

const catalog = methodCatalog(SERVED_SERVICES);
const sha = (t: string) => createHash("sha256").update(t).digest("hex");
const parse = (policy: unknown) => parsePolicy(JSON.stringify(policy), catalog);
const checkout = { name: "checkout", token_sha256: sha("t1"), allow: ["commerce.v1.OrderService/*"] };

describe("parsePolicy", () => {
  it("accepts the documented example and defaults public to health and reflection", () => {
    const p = parse({
      principals: [
        { ...checkout, allow: ["commerce.v1.OrderService/*", "commerce.v1.InventoryService/GetItem"] },
        {
          name: "fulfilment",
          mtls_identity: "spiffe://shop/fulfilment",
          allow: ["commerce.v1.OrderService/UpdateOrderStatus"],
        },
      ],
    });
    expect(p.principals.map((x) => x.name)).toEqual(["checkout", "fulfilment"]);
    expect(p.public.matches("grpc.health.v1.Health", "Check")).toBe(true);
    expect(p.public.matches("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo")).toBe(true);
    expect(p.public.matches("commerce.v1.OrderService", "GetOrder")).toBe(false);
    expect(parse({ principals: [], public: [] }).public.matches("grpc.health.v1.Health", "Check")).toBe(false);
  });

  it.each([
    ["not json", "{", /^not JSON/],
    ["no principals", {}, /^principals: expected an array$/],
    ["unknown top-level key", { principals: [], publik: [] }, /^policy: unknown key "publik"$/],
    ["misspelt allow", { principals: [{ ...checkout, alow: [] }] }, /^principals\[0\]: unknown key "alow"$/],
    ["no proof", { principals: [{ name: "x", allow: [] }] }, /^principals\[0\]: needs token_sha256 or mtls_identity/],
    [
      "short hash",
      { principals: [{ ...checkout, token_sha256: "abc" }] },
      /^principals\[0\]\.token_sha256: expected 64 hex/,
    ],
    ["bad name", { principals: [{ ...checkout, name: "a b" }] }, /^principals\[0\]\.name: expected 1 to 64/],
    ["missing allow", { principals: [{ name: "x", token_sha256: sha("x") }] }, /^principals\[0\]\.allow: missing/],
    [
      "unknown service",
      { principals: [{ ...checkout, allow: ["commerce.v1.OrderServce/*"] }] },
      /^principals\[0\]\.allow\[0\]: "commerce.v1.OrderServce\/\*" names no service of this server/,
    ],
    [
      "unknown method",
      { principals: [{ ...checkout, allow: ["commerce.v1.OrderService/Steal"] }] },
      /^principals\[0\]\.allow\[0\]: "commerce.v1.OrderService\/Steal" names no method of commerce.v1.OrderService$/,
    ],
    ["not a pattern", { principals: [{ ...checkout, allow: ["OrderService"] }] }, /is not package.Service\/Method/],
    [
      "duplicate token",
      { principals: [checkout, { ...checkout, name: "other" }] },
      /^principals checkout and other have the same token_sha256$/,
    ],
    ["duplicate name", { principals: [checkout, { ...checkout, token_sha256: sha("t2") }] }, /same name$/],
    ["public not a list", { principals: [], public: "*" }, /^public: expected an array/],
    ["public null (not the default)", { principals: [], public: null }, /^public: expected an array/],
    [
      "the reserved name anonymous",
      { principals: [{ ...checkout, name: "anonymous" }] },
      /^principals\[0\]\.name: "anonymous" is reserved/,
    ],
  ])("refuses %s, naming where", (_, policy, message) => {
    expect(() => (typeof policy === "string" ? parsePolicy(policy, catalog) : parse(policy))).toThrow(message);
  });
});

describe("the gate", () => {
  const policy = parse({
    principals: [
      { ...checkout, allow: ["commerce.v1.OrderService/*", "commerce.v1.InventoryService/GetItem"] },
      { name: "ops", token_sha256: sha("t-ops"), allow: ["*"] },
      { name: "fulfilment", mtls_identity: "spiffe://shop/fulfilment", allow: ["commerce.v1.OrderService/GetOrder"] },
    ],
  });
  const token = createAuthGate("token", policy);
  const bearer = (t: string) => ({ authorization: `Bearer ${t}`, peerIdentity: undefined });
  const reasonOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof DomainError) return [e.reason, e.metadata];
    }
    return "admitted";
  };

  it("token mode: names the principal by its token, refuses the rest with the right reason", () => {
    expect(token.admit("commerce.v1.OrderService", "CreateOrder", bearer("t1"))).toBe("checkout");
    expect(token.admit("commerce.v1.AccountService", "Transfer", bearer("t-ops"))).toBe("ops");
    expect(
      token.admit("commerce.v1.OrderService", "CreateOrder", { ...bearer("t1"), authorization: "bearer t1" }),
    ).toBe("checkout");
    expect(reasonOf(() => token.admit("commerce.v1.AccountService", "Transfer", bearer("t1")))).toEqual([
      "PERMISSION_DENIED",
      { principal: "checkout", method: "commerce.v1.AccountService/Transfer" },
    ]);
    for (const authorization of [
      undefined,
      "",
      "Bearer",
      "Bearer  t1",
      "Basic dDE=",
      "Bearer t1 extra",
      "Bearer nope",
    ]) {
      expect(
        reasonOf(() => token.admit("commerce.v1.OrderService", "GetOrder", { authorization, peerIdentity: undefined })),
      ).toEqual(["UNAUTHENTICATED", { method: "commerce.v1.OrderService/GetOrder" }]);
    }
  });

  it("public methods admit anyone, naming the caller when it proved who it is", () => {
    expect(token.admit("grpc.health.v1.Health", "Check", { authorization: undefined, peerIdentity: undefined })).toBe(
      ANONYMOUS,
    );
    expect(token.admit("grpc.health.v1.Health", "Check", bearer("t1"))).toBe("checkout");
    expect(token.admit("grpc.health.v1.Health", "Check", bearer("wrong"))).toBe(ANONYMOUS);
  });

  it("mtls mode: names the principal by its certificate identity only", () => {
    const mtls = createAuthGate("mtls", policy);
    const id = (peerIdentity: string | undefined) => ({ authorization: "Bearer t-ops", peerIdentity });
    expect(mtls.admit("commerce.v1.OrderService", "GetOrder", id("spiffe://shop/fulfilment"))).toBe("fulfilment");
    expect(reasonOf(() => mtls.admit("commerce.v1.OrderService", "GetOrder", id(undefined)))[0]).toBe(
      "UNAUTHENTICATED",
    );
    expect(reasonOf(() => mtls.admit("commerce.v1.OrderService", "GetOrder", id("spiffe://x")))[0]).toBe(
      "UNAUTHENTICATED",
    );
  });

  it("none mode admits everyone as anonymous; replacePolicy applies to the next call", () => {
    expect(createAuthGate("none", undefined).admit("commerce.v1.AccountService", "Transfer", bearer("x"))).toBe(
      ANONYMOUS,
    );
    const gate = createAuthGate("token", policy);
    gate.replacePolicy(parse({ principals: [{ ...checkout, allow: ["commerce.v1.AccountService/Transfer"] }] }));
    expect(gate.admit("commerce.v1.AccountService", "Transfer", bearer("t1"))).toBe("checkout");
    expect(reasonOf(() => gate.admit("commerce.v1.OrderService", "GetOrder", bearer("t1")))[0]).toBe(
      "PERMISSION_DENIED",
    );
  });
});

describe("unusablePrincipals", () => {
  it("names the principals a mode cannot identify", () => {
    const both = parse({
      principals: [
        checkout,
        { name: "fulfilment", mtls_identity: "spiffe://shop/fulfilment", allow: [] },
        { name: "ops", token_sha256: sha("o"), mtls_identity: "ops", allow: [] },
      ],
    });
    expect(unusablePrincipals("token", both)).toEqual(["fulfilment"]);
    expect(unusablePrincipals("mtls", both)).toEqual(["checkout"]);
    expect(unusablePrincipals("none", both)).toEqual([]);
  });
});

describe("peerIdentity", () => {
  const cert = (fields: Partial<PeerCertificate>) => fields as PeerCertificate;
  it("takes the first URI SAN, else the subject CN", () => {
    expect(peerIdentity(cert({ subjectaltname: "DNS:a.local, URI:spiffe://shop/a, URI:spiffe://shop/b" }))).toBe(
      "spiffe://shop/a",
    );
    expect(peerIdentity(cert({ subjectaltname: 'URI:"spiffe://shop/a,b"' }))).toBe("spiffe://shop/a,b");
    expect(peerIdentity(cert({ subjectaltname: "DNS:a.local", subject: { CN: "reporting" } as never }))).toBe(
      "reporting",
    );
    expect(peerIdentity(cert({ subject: { CN: ["a", "b"] } as never }))).toBeUndefined();
    expect(peerIdentity(cert({}))).toBeUndefined();
    expect(peerIdentity(undefined)).toBeUndefined();
  });
});

describe("AUTH_MODE in config", () => {
  const dir = mkdtempSync(join(tmpdir(), "policy-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it("defaults to none on loopback; a non-loopback listener needs AUTH_MODE spelt out", () => {
    expect(loadConfig({}).auth.mode).toBe("none");
    expect(() => loadConfig({ GRPC_HOST: "0.0.0.0", ALLOW_PLAINTEXT_NON_LOOPBACK: "true" })).toThrow(
      /^GRPC_HOST="0.0.0.0" is not a loopback address: set AUTH_MODE \(token, mtls, or none to serve every caller\)/,
    );
    expect(
      loadConfig({ GRPC_HOST: "0.0.0.0", ALLOW_PLAINTEXT_NON_LOOPBACK: "true", AUTH_MODE: "none" }).auth.mode,
    ).toBe("none");
  });

  it("loads the policy, and stops with one line naming the variable and the problem", () => {
    const good = file("good.json", JSON.stringify({ principals: [checkout] }));
    expect(loadConfig({ AUTH_MODE: "token", AUTH_POLICY_FILE: good }).auth.policy?.principals).toHaveLength(1);
    expect(() => loadConfig({ AUTH_MODE: "token" })).toThrow(/^AUTH_POLICY_FILE is missing: AUTH_MODE=token needs/);
    expect(() => loadConfig({ AUTH_MODE: "tokens" })).toThrow(/^AUTH_MODE="tokens" is invalid: expected one of/);
    expect(() => loadConfig({ AUTH_MODE: "token", AUTH_POLICY_FILE: join(dir, "none.json") })).toThrow(
      /^AUTH_POLICY_FILE=".*none.json" is invalid: cannot read it \(ENOENT\)$/,
    );
    const bad = file("bad.json", JSON.stringify({ principals: [{ ...checkout, allow: ["x/y"] }] }));
    expect(() => loadConfig({ AUTH_MODE: "token", AUTH_POLICY_FILE: bad })).toThrow(
      /^AUTH_POLICY_FILE=".*bad.json" is invalid: principals\[0\]\.allow\[0\]/,
    );
    expect(() => loadConfig({ AUTH_POLICY_FILE: good })).toThrow(/^AUTH_POLICY_FILE is set but AUTH_MODE is none/);
    expect(() => loadConfig({ AUTH_MODE: "mtls", AUTH_POLICY_FILE: good })).toThrow(
      /^AUTH_MODE=mtls needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE/,
    );
  });
});

describe("SERVED_SERVICES", () => {
  it("names every service createApp mounts, plus health and both reflection versions", () => {
    const store = createStoreClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", credentials: "local" });
    try {
      const app = createApp({
        client: store,
        tables: tableNames(""),
        logger: pino({ level: "silent" }),
        pageTokenSecret: randomBytes(32),
        maxMessageBytes: 1 << 20,
        maxDeadlineMs: 1_000,
      });
      expect(SERVED_SERVICES.map((s) => s.typeName).sort()).toEqual(
        [
          ...app.services.map((s) => s.service.typeName),
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
        ].sort(),
      );
    } finally {
      store.destroy();
    }
  });
});

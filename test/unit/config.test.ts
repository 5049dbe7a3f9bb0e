import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, loadStoreConfig } from "../../src/config.js";

describe("config", () => {
  it("defaults to the embedded engine on loopback", () => {
    const c = loadConfig({});
    expect(c.store).toEqual({ kind: "embedded", dataDir: "./var" });
    expect([c.grpcHost, c.grpcPort, c.httpPort, c.metricsPort]).toEqual(["127.0.0.1", 50051, 8080, 9464]);
    expect(c.ensureTables).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("traces only when an OTLP endpoint is set and the SDK is not disabled", () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    const endpoint = "http://collector:4318";
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).tracing).toEqual({ otlpEndpoint: endpoint });
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      }).tracing,
    ).toEqual({ otlpEndpoint: `${endpoint}/v1/traces` });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: "TRUE" }).tracing).toBeUndefined();
  });

  it("never infers real AWS from a stray AWS_REGION", () => {
    expect(loadConfig({ AWS_REGION: "eu-west-1" }).store.kind).toBe("embedded");
    const aws = loadConfig({ DYNAMODB_MODE: "aws", AWS_REGION: "eu-west-1" });
    expect(aws.store.kind).toBe("aws");
    expect(aws.ensureTables).toBe(false);
    expect(loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" }).store).toEqual({
      kind: "endpoint",
      endpoint: "http://127.0.0.1:8000",
      credentials: "local",
    });
    // DynamoDB Local without -sharedDb keeps one database per access key: use the operator's.
    expect(loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000", AWS_ACCESS_KEY_ID: "me" }).store).toMatchObject({
      credentials: "chain",
    });
  });

  it.each([
    ["GRPC_PORT", "70000"],
    ["HTTP_PORT", "abc"],
    ["ENSURE_TABLES", "yes"],
    ["LOG_LEVEL", "loud"],
    ["DYNAMODB_ENDPOINT", "localhost:8000"],
    ["DYNAMODB_MODE", "cloud"],
    ["SHUTDOWN_GRACE_MS", "-1"],
    ["PAGE_TOKEN_SECRET", "short"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"],
    ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector"],
    ["OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"],
    ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"],
    ["OTEL_SDK_DISABLED", "maybe"],
  ])("a bad %s stops the start with one line naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}`));
  });

  it("serves plaintext only on loopback unless TLS is set or plaintext is explicitly allowed", () => {
    expect(() => loadConfig({ GRPC_HOST: "0.0.0.0", AUTH_MODE: "none" })).toThrow(
      new RegExp(
        '^GRPC_HOST="0.0.0.0" is not a loopback address: ' +
          "set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAINTEXT_NON_LOOPBACK=true$",
      ),
    );
    expect(() => loadConfig({ HTTP_HOST: "10.1.2.3", AUTH_MODE: "none" })).toThrow(/^HTTP_HOST/);
    expect(loadConfig({ HTTP_HOST: "10.1.2.3", HTTP_PORT: "0", METRICS_PORT: "0" }).httpHost).toBe("10.1.2.3");
    expect(
      loadConfig({ GRPC_HOST: "0.0.0.0", ALLOW_PLAINTEXT_NON_LOOPBACK: "true", AUTH_MODE: "none" })
        .plaintextNonLoopback,
    ).toBe(true);
    for (const h of ["localhost", "127.0.0.1", "127.9.9.9", "::1"])
      expect(loadConfig({ GRPC_HOST: h }).grpcHost).toBe(h);
  });

  it("needs both halves of a key pair, and readable files", () => {
    expect(() => loadConfig({ TLS_CERT_FILE: "package.json" })).toThrow(/^TLS_KEY_FILE is missing/);
    expect(() => loadConfig({ TLS_CERT_FILE: "/nonexistent.pem", TLS_KEY_FILE: "package.json" })).toThrow(
      /^TLS_CERT_FILE="\/nonexistent.pem" is invalid: cannot read it \(ENOENT\)$/,
    );
    expect(() => loadConfig({ TLS_CLIENT_CA_FILE: "package.json" })).toThrow(/^TLS_CLIENT_CA_FILE needs/);
    const c = loadConfig({
      TLS_CERT_FILE: "package.json",
      TLS_KEY_FILE: "package.json",
      GRPC_HOST: "0.0.0.0",
      AUTH_MODE: "none",
    });
    expect(c.tls?.cert.length).toBeGreaterThan(0);
  });

  it("gives commerce-admin the server's store settings, without the listener checks", () => {
    const env = { DYNAMODB_MODE: "aws", AWS_REGION: "eu-west-1", TABLE_PREFIX: "prod_", GRPC_HOST: "0.0.0.0" };
    expect(() => loadConfig(env)).toThrow(/GRPC_HOST/);
    const store = loadStoreConfig(env);
    expect(store).toEqual({ store: { kind: "aws" }, awsRegion: "eu-west-1", tablePrefix: "prod_" });
    const { store: s, awsRegion, tablePrefix } = loadConfig({ ...env, GRPC_HOST: "127.0.0.1" });
    expect({ store: s, awsRegion, tablePrefix }).toEqual(store);
    expect(() => loadStoreConfig({ TABLE_PREFIX: "a b" })).toThrow(/^TABLE_PREFIX/);
  });
});

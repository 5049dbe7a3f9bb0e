import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("config", () => {
  it("defaults to the embedded engine on loopback", () => {
    const c = loadConfig({});
    expect(c.store).toEqual({ kind: "embedded", dataDir: "./var" });
    expect([c.grpcHost, c.grpcPort, c.httpPort, c.metricsPort]).toEqual(["127.0.0.1", 50051, 8080, 9464]);
    expect(c.ensureTables).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("never infers real AWS from a stray AWS_REGION", () => {
    expect(loadConfig({ AWS_REGION: "eu-west-1" }).store.kind).toBe("embedded");
    const aws = loadConfig({ DYNAMODB_MODE: "aws", AWS_REGION: "eu-west-1" });
    expect(aws.store.kind).toBe("aws");
    expect(aws.ensureTables).toBe(false);
    expect(loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" }).store).toEqual({ kind: "endpoint", endpoint: "http://127.0.0.1:8000" });
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
  ])("a bad %s stops the start with one line naming it", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^${name}`));
  });
});

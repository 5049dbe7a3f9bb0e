/**
 * DynamoDB disappears and comes back: callers get UNAVAILABLE with a reason and RetryInfo
 * (never INTERNAL, never a hang), the breaker opens and fails fast, health says
 * NOT_SERVING, and everything recovers by itself when the store returns — with the data.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from "../../src/engine/embedded-dynamodb.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Serving } from "../../src/gen/grpc/health/v1/health_pb.js";
import { LIVENESS_SERVICE } from "../../src/server.js";
import { grpcUnary } from "../support/grpc-unary.js";
import { type Harness, startHarness } from "../support/harness.js";
import { failure } from "../support/rpc-client.js";

const M = InventoryService.method;
let engine: EmbeddedDynamoDb | undefined;
let h: Harness | undefined;
let dataDir = "";

afterAll(async () => {
  await h?.stop();
  await engine?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function healthOf(address: string): Promise<Serving> {
  return (await grpcUnary({ address }, Health.method.check, {})).status;
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch((e: unknown) => e as T);
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("store outage", () => {
  it("answers UNAVAILABLE with RetryInfo, opens the breaker, reports NOT_SERVING, and recovers", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "outage-"));
    engine = await startEmbeddedDynamoDb({ dataDir });
    const port = Number(new URL(engine.endpoint).port);
    h = await startHarness({ endpoint: engine.endpoint, breaker: { volumeThreshold: 4, resetTimeoutMs: 1_000 } });
    await h.grpc.unary(M.createItem, {
      item: { sku: "kept", name: "Kept", unitPrice: { currencyCode: "EUR", units: 1n }, quantity: 3n },
    });
    expect(await healthOf(h.grpcAddress)).toBe(Serving.SERVING);

    await engine.stop();
    const first = await failure(() => h!.grpc.unary(M.getItem, { sku: "kept" }));
    expect(first.code).toBe(Code.Unavailable);
    expect(["STORE_UNAVAILABLE", "CIRCUIT_OPEN"]).toContain(first.errorInfo?.reason);
    expect(first.retryInfo?.retryDelay).toBeDefined();
    expect(first.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Error:/);

    // Enough failures open the breaker: calls then fail fast, without touching the store.
    const open = await eventually(
      () => failure(() => h!.connect.unary(M.getItem, { sku: "kept" })),
      (f) => f.errorInfo?.reason === "CIRCUIT_OPEN",
    );
    expect(open.code).toBe(Code.Unavailable);
    expect(open.retryInfo?.retryDelay?.seconds).toBe(1n);
    expect(
      await eventually(
        () => healthOf(h!.grpcAddress),
        (s) => s === Serving.NOT_SERVING,
      ),
    ).toBe(Serving.NOT_SERVING);
    // Liveness does not follow the store: restarting the process would cure nothing.
    const liveness = await grpcUnary({ address: h.grpcAddress }, Health.method.check, { service: LIVENESS_SERVICE });
    expect(liveness.status).toBe(Serving.SERVING);

    // The store comes back on the same port with its data; nobody restarts the service.
    engine = await startEmbeddedDynamoDb({ dataDir, port });
    const back = await eventually(
      () => h!.grpc.unary(M.getItem, { sku: "kept" }),
      (r) => (r as { item?: { quantity: bigint } }).item?.quantity === 3n,
    );
    expect(back.item?.quantity).toBe(3n);
    expect(
      await eventually(
        () => healthOf(h!.grpcAddress),
        (s) => s === Serving.SERVING,
      ),
    ).toBe(Serving.SERVING);
  });
});

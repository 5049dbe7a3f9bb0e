import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { grpcUnary } from "../support/grpc-unary.js";
import { useHarness } from "../support/harness.js";
import { failure } from "../support/rpc-client.js";

const M = InventoryService.method;
const ITEMS = 2000;
const h = useHarness();

beforeAll(async () => {
  // Seeded through the API, 25 at a time: the table holds exactly these items.
  const skus = Array.from({ length: ITEMS }, (_, i) => `scan-${String(i).padStart(5, "0")}`);
  for (let i = 0; i < skus.length; i += 25) {
    await Promise.all(
      skus.slice(i, i + 25).map((sku) =>
        h().grpc.unary(M.createItem, {
          item: { sku, name: sku, unitPrice: { currencyCode: "USD", units: 1n }, quantity: 1n },
        }),
      ),
    );
  }
}, 300_000);

describe("ScanItems", () => {
  for (const totalSegments of [1, 3, 8]) {
    it(`returns each of ${ITEMS} items exactly once with total_segments ${totalSegments}`, async () => {
      const seen = new Map<string, number>();
      let batches = 0;
      for await (const batch of h().grpc.serverStream(M.scanItems, { totalSegments })) {
        batches++;
        expect(batch.items.length).toBeGreaterThan(0);
        expect(batch.items.length).toBeLessThanOrEqual(100);
        for (const item of batch.items) seen.set(item.sku, (seen.get(item.sku) ?? 0) + 1);
      }
      expect(seen.size).toBe(ITEMS);
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(batches).toBeGreaterThanOrEqual(ITEMS / 100);
    });
  }

  it("streams the same over Connect", async () => {
    let count = 0;
    for await (const batch of h().connect.serverStream(M.scanItems, { totalSegments: 0 })) count += batch.items.length;
    expect(count).toBe(ITEMS);
  });
});

describe("interop", () => {
  it("refuses undecodable bytes with INVALID_ARGUMENT on both ports, and logs and counts them", async () => {
    const counted = async () =>
      Number(
        /grpc_server_handled_total\{grpc_type="unary",grpc_service="commerce.v1.InventoryService",grpc_method="GetItem",grpc_code="InvalidArgument",principal="anonymous"\} (\d+)/.exec(
          await h().metrics.registry.metrics(),
        )?.[1] ?? 0,
      );
    const before = await counted();
    const truncated = Buffer.from([0x0a, 0x05, 0x61]); // field 1 claims 5 bytes, 1 follows
    const err = await grpcUnary({ address: h().grpcAddress }, "/commerce.v1.InventoryService/GetItem", truncated).then(
      () => undefined,
      (e: grpc.ServiceError) => e,
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    const res = await fetch(`${h().httpUrl}/commerce.v1.InventoryService/GetItem`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: truncated,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    expect(await counted()).toBe(before + 2);
  });

  it("serves OrderService on both transports: a missing order is NOT_FOUND", async () => {
    for (const client of h().clients) {
      const f = await failure(() =>
        client.unary(OrderService.method.getOrder, { customerId: "c", orderId: "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV" }),
      );
      expect(f.code, client.name).toBe(Code.NotFound);
      expect(f.errorInfo?.reason).toBe("ORDER_NOT_FOUND");
    }
  });

  it("health answers SERVING for the server and each service", async () => {
    for (const service of ["", "commerce.v1.InventoryService"]) {
      const { status } = await grpcUnary({ address: h().grpcAddress }, Health.method.check, { service });
      expect(status, service).toBe(HealthCheckResponse_ServingStatus.SERVING);
    }
  });

  it("buf curl lists the services by reflection and calls GetItem", async () => {
    const run = promisify(execFile);
    const base = ["curl", "--protocol", "grpc", "--http2-prior-knowledge"];
    const list = await run("node_modules/.bin/buf", [...base, "--list-methods", `http://${h().grpcAddress}`]);
    expect(list.stdout).toContain("commerce.v1.InventoryService/GetItem");
    expect(list.stdout).toContain("commerce.v1.AccountService/Transfer");
    expect(list.stdout).toContain("commerce.v1.OrderService/CreateOrder");
    const got = await run("node_modules/.bin/buf", [
      ...base,
      "-d",
      '{"sku":"scan-00042"}',
      `http://${h().grpcAddress}/commerce.v1.InventoryService/GetItem`,
    ]);
    expect(JSON.parse(got.stdout)).toMatchObject({
      item: { sku: "scan-00042", quantity: "1", unitPrice: { currencyCode: "USD", units: "1" } },
    });
  });
});

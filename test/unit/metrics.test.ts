import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { createRpcMetrics } from "../../src/middleware/metrics.js";

describe("metrics", () => {
  it("exposes RPC outcomes, DynamoDB operations with retries, and the breaker state", async () => {
    const metrics = createRpcMetrics();
    let state: "closed" | "open" | "half_open" = "closed";
    metrics.trackBreaker(() => state);
    const method = InventoryService.method.getItem;
    const ctx = createHandlerContext({
      service: InventoryService,
      method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "/x",
    });
    metrics.observer({ service: InventoryService, method, ctx, requestId: undefined, principal: "checkout" })(
      new ConnectError("x", Code.NotFound),
    );
    metrics.onStoreOperation({ operation: "GetItem", durationMs: 3, outcome: "OK", attempts: 3 });
    state = "open";
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'rpc_server_handled_total{method="commerce.v1.InventoryService/GetItem",code="NOT_FOUND",principal="checkout"} 1',
    );
    expect(text).toContain('dynamodb_operation_seconds_count{operation="GetItem",outcome="OK"} 1');
    expect(text).toContain('dynamodb_retries_total{operation="GetItem"} 2');
    expect(text).toContain("store_circuit_breaker_state 2");
  });
});

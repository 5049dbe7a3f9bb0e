import { Code, ConnectError, createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { createRpcMetrics } from "../../src/middleware/metrics.js";
import { wrapService } from "../../src/middleware/wrap-service.js";

const ctxOf = (method: (typeof InventoryService.methods)[number]) =>
  createHandlerContext({ service: InventoryService, method, protocolName: "grpc", requestMethod: "POST", url: "/x" });

/** The value of one sample line of the exposition, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const getItem = 'grpc_type="unary",grpc_service="commerce.v1.InventoryService",grpc_method="GetItem"';
const scanItems = 'grpc_type="server_stream",grpc_service="commerce.v1.InventoryService",grpc_method="ScanItems"';

describe("metrics", () => {
  it("exposes RPC outcomes, DynamoDB operations with retries, and the breaker state", async () => {
    const metrics = createRpcMetrics();
    let state: "closed" | "open" | "half_open" = "closed";
    metrics.trackBreaker(() => state);
    const method = InventoryService.method.getItem;
    metrics.observer({
      service: InventoryService,
      method,
      ctx: ctxOf(method),
      requestId: undefined,
      principal: "checkout",
    })(new ConnectError("x", Code.NotFound));
    metrics.onStoreOperation({ operation: "GetItem", durationMs: 3, outcome: "OK", attempts: 3 });
    state = "open";
    const text = await metrics.registry.metrics();
    expect(sample(text, `grpc_server_started_total{${getItem}}`)).toBe(1);
    expect(sample(text, `grpc_server_handled_total{${getItem},grpc_code="NotFound",principal="checkout"}`)).toBe(1);
    expect(sample(text, `grpc_server_handling_seconds_count{${getItem}}`)).toBe(1);
    expect(text).toContain('dynamodb_operation_seconds_count{operation="GetItem",outcome="OK"} 1');
    expect(text).toContain('dynamodb_retries_total{operation="GetItem"} 2');
    expect(text).toContain("store_circuit_breaker_state 2");
  });

  it("counts messages both ways, as go-grpc-prometheus: unary calls too, streams per message", async () => {
    const metrics = createRpcMetrics();
    const wrapped = wrapService(
      InventoryService,
      {
        async getItem() {
          return {};
        },
        async *scanItems() {
          yield { items: [] };
          yield { items: [] };
          yield { items: [] };
        },
      } as Partial<ServiceImpl<typeof InventoryService>>,
      [metrics.observer],
    ) as unknown as Record<string, (r: unknown, c: unknown) => unknown>;
    await wrapped["getItem"]!({ sku: "a" }, ctxOf(InventoryService.method.getItem));
    for await (const _ of wrapped["scanItems"]!({}, ctxOf(InventoryService.method.scanItems)) as AsyncIterable<unknown>)
      void _;
    const text = await metrics.registry.metrics();
    expect(sample(text, `grpc_server_msg_received_total{${getItem}}`)).toBe(1);
    expect(sample(text, `grpc_server_msg_sent_total{${getItem}}`)).toBe(1);
    expect(sample(text, `grpc_server_handled_total{${getItem},grpc_code="OK",principal="anonymous"}`)).toBe(1);
    expect(sample(text, `grpc_server_msg_received_total{${scanItems}}`)).toBe(1);
    expect(sample(text, `grpc_server_msg_sent_total{${scanItems}}`)).toBe(3);
    expect(sample(text, `grpc_server_handled_total{${scanItems},grpc_code="OK",principal="anonymous"}`)).toBe(1);
  });

  it("labels codes with grpc-go's names, which dashboards match", async () => {
    const metrics = createRpcMetrics();
    const method = InventoryService.method.getItem;
    for (const code of [Code.Canceled, Code.InvalidArgument, Code.Unavailable]) {
      metrics.observer({ service: InventoryService, method, ctx: ctxOf(method), requestId: undefined, principal: "p" })(
        new ConnectError("x", code),
      );
    }
    const text = await metrics.registry.metrics();
    for (const name of ["Canceled", "InvalidArgument", "Unavailable"]) {
      expect(sample(text, `grpc_server_handled_total{${getItem},grpc_code="${name}",principal="p"}`), name).toBe(1);
    }
  });
});

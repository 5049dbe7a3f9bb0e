/**
 * Traces from the real server on DynamoDB Local, over both ports, collected by an
 * in-memory exporter: each RPC is one SERVER span, the child of the caller's W3C
 * `traceparent`; every DynamoDB call it makes is a span under it; the RPC log line names
 * the trace. (Tracing off: tracing-off.int.test.ts. OTLP export: main-process.int.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { startTracing } from "../../src/telemetry/start-tracing.js";
import { failure, type RpcClient } from "../support/rpc-client.js";

// Tracing starts before the harness module, and with it the AWS SDK, loads: the SDK
// instrumentation patches the SDK as it loads (src/telemetry/start-tracing.ts).
const exporter = new InMemorySpanExporter();
const tracing = startTracing({ spanProcessor: new SimpleSpanProcessor({ exporter }) });
const { useHarness } = await import("../support/harness.js");

const logLines: Array<Record<string, unknown>> = [];
const logger = pino({ level: "info" }, { write: (line: string) => logLines.push(JSON.parse(line)) });
const h = useHarness({ tracing, logger });
const M = InventoryService.method;

afterAll(() => tracing.shutdown());

beforeAll(async () => {
  for (const sku of ["t-1", "t-2", "t-3"]) {
    await h().grpc.unary(M.createItem, {
      item: { sku, name: sku, unitPrice: { currencyCode: "EUR", units: 2n }, quantity: 5n },
    });
  }
});

/** A caller's span: a fresh trace id and span id, sampled, as a `traceparent` header. */
function callerSpan() {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return { traceId, spanId, headers: { traceparent: `00-${traceId}-${spanId}-01` } };
}

/** The spans of one trace, once its RPC span has ended (the client can see the answer first). */
async function spansOf(traceId: string, rpcName: string): Promise<{ rpc: ReadableSpan; all: ReadableSpan[] }> {
  let all: ReadableSpan[] = [];
  await expect
    .poll(() => {
      all = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      return all.some((s) => s.name === rpcName);
    })
    .toBe(true);
  const rpc = all.find((s) => s.name === rpcName)!;
  return { rpc, all };
}

const expectedSystem = (client: RpcClient) => (client.name === "connect" ? "connect_rpc" : "grpc");

describe("tracing", () => {
  it("patched the AWS SDK the store uses", () => {
    expect((h().store.raw.send as { __wrapped?: boolean }).__wrapped).toBe(true);
  });

  it("starts traces only at RPCs: the health probe's reads (every 500 ms here) make none", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.filter((s) => s.parentSpanContext === undefined && s.kind !== SpanKind.SERVER)).toEqual([]);
  });

  for (const client of ["grpc", "connect"] as const) {
    describe(`over ${client}`, () => {
      const c = () => (client === "grpc" ? h().grpc : h().connect);

      it("makes the RPC span a child of the caller's, with the DynamoDB spans under it, and logs the trace id", async () => {
        const caller = callerSpan();
        await c().unary(M.getItem, { sku: "t-1" }, { headers: caller.headers });
        const { rpc, all } = await spansOf(caller.traceId, "commerce.v1.InventoryService/GetItem");
        expect(rpc.kind).toBe(SpanKind.SERVER);
        expect(rpc.parentSpanContext?.spanId).toBe(caller.spanId);
        expect(rpc.parentSpanContext?.isRemote).toBe(true);
        expect(rpc.attributes).toMatchObject({
          "rpc.system": expectedSystem(c()),
          "rpc.service": "commerce.v1.InventoryService",
          "rpc.method": "GetItem",
          "rpc.grpc.status_code": 0,
        });
        expect(rpc.status.code).toBe(SpanStatusCode.UNSET);
        expect(rpc.resource.attributes["service.name"]).toBe("commerce");

        const dynamo = all.filter((s) => s.name.startsWith("DynamoDB."));
        expect(dynamo.map((s) => s.name)).toEqual(["DynamoDB.GetItem"]);
        expect(dynamo[0]!.kind).toBe(SpanKind.CLIENT);
        expect(dynamo[0]!.parentSpanContext?.spanId).toBe(rpc.spanContext().spanId);
        expect(dynamo[0]!.attributes["aws.dynamodb.table_names"]).toEqual([h().tables.inventory]);

        const line = logLines.find((l) => l["trace_id"] === caller.traceId);
        expect(line).toMatchObject({ msg: "rpc", method: "commerce.v1.InventoryService/GetItem", code: "OK" });
      });

      it("records a caller's error as the status code, not as a server failure", async () => {
        const caller = callerSpan();
        const f = await failure(() => c().unary(M.getItem, { sku: "t-missing" }, { headers: caller.headers }));
        expect(f.code).toBe(Code.NotFound);
        const { rpc } = await spansOf(caller.traceId, "commerce.v1.InventoryService/GetItem");
        expect(rpc.attributes["rpc.grpc.status_code"]).toBe(Code.NotFound);
        expect(rpc.status.code).toBe(SpanStatusCode.UNSET);
      });

      it("keeps a response stream's DynamoDB scans under its RPC span, step after step", async () => {
        const caller = callerSpan();
        let items = 0;
        for await (const batch of c().serverStream(M.scanItems, { totalSegments: 2 }, { headers: caller.headers })) {
          items += batch.items.length;
        }
        expect(items).toBeGreaterThanOrEqual(3);
        const { rpc, all } = await spansOf(caller.traceId, "commerce.v1.InventoryService/ScanItems");
        expect(rpc.parentSpanContext?.spanId).toBe(caller.spanId);
        const scans = all.filter((s) => s.name === "DynamoDB.Scan");
        // One Scan per segment at least (each segment reads until it has no more pages).
        expect(scans.length).toBeGreaterThanOrEqual(2);
        for (const scan of scans) expect(scan.parentSpanContext?.spanId).toBe(rpc.spanContext().spanId);
      });

      it("starts a trace of its own when the caller sends none", async () => {
        const before = new Set(exporter.getFinishedSpans().map((s) => s.spanContext().spanId));
        await c().unary(M.getItem, { sku: "t-2" });
        let rpc: ReadableSpan | undefined;
        await expect
          .poll(() => {
            rpc = exporter
              .getFinishedSpans()
              .find((s) => !before.has(s.spanContext().spanId) && s.name === "commerce.v1.InventoryService/GetItem");
            return rpc;
          })
          .toBeDefined();
        expect(rpc!.parentSpanContext).toBeUndefined();
        expect(logLines.some((l) => l["trace_id"] === rpc!.spanContext().traceId)).toBe(true);
      });
    });
  }
});

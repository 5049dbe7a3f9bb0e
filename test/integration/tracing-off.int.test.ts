/**
 * Tracing off (no OTLP endpoint: main never calls startTracing) is free: the AWS SDK is not
 * patched, no span is made, not even through a tracer provider someone else registered
 * globally, and log lines carry no trace id — whatever `traceparent` callers send.
 * (Tracing on: tracing.int.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { useHarness } from "../support/harness.js";

// A provider and context manager registered globally, as a host process might: any span
// the service made through the global API would land here.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const logLines: Array<Record<string, unknown>> = [];
const logger = pino({ level: "info" }, { write: (line: string) => logLines.push(JSON.parse(line)) });
const h = useHarness({ logger });
const M = InventoryService.method;

describe("tracing off", () => {
  it("leaves the AWS SDK unpatched, makes no span and logs no trace id, on both ports", async () => {
    expect((h().store.raw.send as { __wrapped?: boolean }).__wrapped).toBeUndefined();
    const traceparent = `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
    for (const client of h().clients) {
      await client.unary(
        M.createItem,
        { item: { sku: `off-${client.name}`, name: "x", unitPrice: { currencyCode: "EUR", units: 1n }, quantity: 1n } },
        { headers: { traceparent } },
      );
      await client.unary(M.getItem, { sku: `off-${client.name}` }, { headers: { traceparent } });
      for await (const _ of client.serverStream(M.scanItems, { totalSegments: 1 }, { headers: { traceparent } }))
        void _;
    }
    const rpcLines = logLines.filter((l) => l["msg"] === "rpc");
    expect(rpcLines).toHaveLength(6);
    expect(rpcLines.filter((l) => "trace_id" in l)).toEqual([]);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

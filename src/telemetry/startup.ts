/**
 * Tracing as main.ts runs it, started while this module loads: main.ts imports it before
 * anything else, so the AWS SDK instrumentation is in place before any module loads the SDK
 * (start-tracing.ts says why that order matters). Off — no OTLP endpoint configured — it
 * starts nothing.
 */

import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace";
import { ConfigError, tracingSettings } from "../config.js";
import { startTracing, type Tracing } from "./start-tracing.js";

function tracingFromConfig(): Tracing | undefined {
  try {
    if (tracingSettings() === undefined) return undefined;
  } catch (err) {
    // main's loadConfig reports the bad setting and stops the start.
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
  // The exporter takes its endpoint, headers, timeout, compression and TLS files from the
  // OTEL_EXPORTER_OTLP_* variables; the batch processor exports every 5 s, and at shutdown.
  return startTracing({ spanProcessor: new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }) });
}

/** Started tracing, or undefined when it is off. main.ts shuts it down last. */
export const tracing: Tracing | undefined = tracingFromConfig();

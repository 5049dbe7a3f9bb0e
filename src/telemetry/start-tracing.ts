/**
 * The OpenTelemetry trace SDK, started only when tracing is on (main: an OTLP endpoint is
 * configured; tests: an in-memory exporter). Off, nothing here runs: no provider, no
 * patched modules, and the RPC middleware is not installed.
 *
 * - RPC spans: the shared wrapper's observer (src/middleware/tracing.ts), both transports.
 * - DynamoDB spans: @opentelemetry/instrumentation-aws-sdk. It patches the AWS SDK's client
 *   (`@smithy/core/client`) when that module loads, through a require hook: the SDK is
 *   CommonJS, required by @aws-sdk/client-dynamodb even in this ESM service, so the hook
 *   sees it without an ESM loader hook — but only if tracing starts before anything imports
 *   the SDK ("imported first", opentelemetry-js doc/esm-support.md). Started later, it
 *   patches nothing and says nothing (checked: zero spans). Hence main.ts imports
 *   ./startup.js first, and tests start tracing before importing the harness.
 * - Context: AsyncLocalStorage (the active span follows the handler's awaits into the SDK).
 *
 * The exporter and the resource read the standard OTEL_* variables themselves (README,
 * "Tracing"); this module reads none.
 * Pinned by test/integration/tracing.int.test.ts and main-process.int.test.ts.
 */
import { context, SpanKind } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { setGlobalErrorHandler } from "@opentelemetry/core";
import { AwsInstrumentation } from "@opentelemetry/instrumentation-aws-sdk";
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import {
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { rpcTracing } from "../middleware/tracing.js";
import type { CallObserver } from "../middleware/wrap-service.js";

export interface TracingOptions {
  /** Where finished spans go: a BatchSpanProcessor over OTLP in main, a SimpleSpanProcessor in tests. */
  spanProcessor: SpanProcessor;
}

export interface Tracing {
  /** The RPC span observer, for createApp (AppOptions.tracing). */
  readonly observer: CallObserver;
  /**
   * Where the SDK's background failures go — chiefly a batch the collector did not take,
   * whose spans are lost. Unset, OpenTelemetry reports them to its diag logger, which is
   * silent until configured.
   */
  reportFailuresTo(report: (error: unknown) => void): void;
  /**
   * Exports the spans still buffered, then stops: the last step of shutdown. Against a
   * collector that does not answer it waits up to the exporter's timeout
   * (OTEL_EXPORTER_OTLP_TIMEOUT, 10 s by default).
   */
  shutdown(): Promise<void>;
}

/** Service name unless OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise. */
const SERVICE_NAME = "commerce";

/**
 * Traces start at RPCs. A span without a parent is recorded only if it is an RPC's server
 * span: the store's background calls (the health probe every 5 s, table creation at start)
 * would each be a one-span trace otherwise. Spans with a parent follow it, as the default
 * sampler does: recorded unless the caller's `traceparent` says it did not sample.
 */
const rpcRoots: Sampler = {
  shouldSample: (_context, _traceId, _name, kind) => ({
    decision: kind === SpanKind.SERVER ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD,
  }),
  toString: () => "RpcRootsOnly",
};

/** Starts tracing for this process; at most once (the context manager and the patch are process-wide). */
export function startTracing(options: TracingOptions): Tracing {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) {
    throw new Error("tracing is already started in this process");
  }
  // The resource merged in wins: the SDK's defaults, then our name, then the environment's.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE_NAME }))
    .merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: rpcRoots }),
    spanProcessors: [options.spanProcessor],
  });
  const aws = new AwsInstrumentation();
  aws.setTracerProvider(provider);
  return {
    observer: rpcTracing(provider.getTracer("commerce-rpc")),
    reportFailuresTo: (report) => setGlobalErrorHandler(report),
    async shutdown() {
      aws.disable();
      await provider.shutdown();
      context.disable();
    },
  };
}

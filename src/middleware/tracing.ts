/**
 * One OpenTelemetry SERVER span per RPC, from the shared wrapper (wrap-service.ts), so the
 * gRPC port (grpc-js) and the HTTP port (Connect, gRPC-Web) trace alike — calls refused
 * before a handler ran included. The caller's W3C `traceparent` (a gRPC metadata entry or
 * an HTTP header: ctx.requestHeader on both) makes the span its child, and the handler runs
 * with the span active, so the DynamoDB spans of its store calls are the span's children.
 *
 * Why not @opentelemetry/instrumentation-grpc plus a Connect interceptor: two code paths
 * for one span, which would have to agree on names, attributes and the calls refused
 * before a handler; and the grpc-js instrumentation patches grpc-js's Server when the
 * module loads, so it must be enabled before anything imports grpc-js. One observer in the
 * wrapper needs neither. Attribute names are the RPC conventions @opentelemetry/instrumentation-grpc
 * emits (rpc.system, rpc.service, rpc.method, rpc.grpc.status_code); semconv 1.45 has
 * newer ones at release-candidate stability (rpc.system.name, a fully-qualified
 * rpc.method), which we will follow when the JS instrumentations do. They are spelled out
 * here because @opentelemetry/semantic-conventions keeps them in its unstable "incubating"
 * entry, which its README asks instrumentations to copy rather than import.
 * Pinned by test/integration/tracing.int.test.ts.
 */
import { Code, type ConnectError, createContextKey } from "@connectrpc/connect";
import {
  type Attributes,
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { CallEnd } from "./call-scope.js";
import type { CallObserver } from "./wrap-service.js";

/** The call's trace id (32 hex digits), set while tracing is on: for the RPC log line. */
export const traceIdKey = createContextKey<string | undefined>(undefined, { description: "trace id of the RPC" });

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * Codes that mark a server span as failed, per the OpenTelemetry gRPC conventions: the
 * server's own failures. The others (NOT_FOUND, INVALID_ARGUMENT, ...) are the caller's.
 */
const SERVER_ERRORS = new Set([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/** connect-es's protocol names → rpc.system: Connect is its own RPC system; gRPC-Web is gRPC. */
function rpcSystem(protocolName: string): string {
  return protocolName === "connect" ? "connect_rpc" : "grpc";
}

export function rpcTracing(tracer: Tracer): CallObserver {
  const propagator = new W3CTraceContextPropagator();
  return ({ service, method, ctx }) => {
    const parent = propagator.extract(ROOT_CONTEXT, ctx.requestHeader, headerGetter);
    const attributes: Attributes = {
      "rpc.system": rpcSystem(ctx.protocolName),
      "rpc.service": service.typeName,
      "rpc.method": method.name,
    };
    const span = tracer.startSpan(`${service.typeName}/${method.name}`, { kind: SpanKind.SERVER, attributes }, parent);
    ctx.values.set(traceIdKey, span.spanContext().traceId);
    const active = trace.setSpan(parent, span);
    const end: CallEnd = (error: ConnectError | undefined) => {
      // Connect's codes are gRPC's, so every protocol reports the gRPC status code.
      span.setAttribute("rpc.grpc.status_code", error?.code ?? 0);
      if (error !== undefined && SERVER_ERRORS.has(error.code)) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.rawMessage });
      }
      span.end();
    };
    end.run = (fn) => context.with(active, fn);
    return end;
  };
}

/**
 * Prometheus metrics (prom-client): RPCs named and labelled as go-grpc-prometheus names
 * them (grpc-ecosystem; what gRPC dashboards query), DynamoDB operations, the store
 * breaker. The README's "Metrics" section lists every metric.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { BreakerState } from "../resilience/circuit-breaker.js";
import type { StoreOperationEvent } from "../store/dynamo.js";
import type { CallEnd } from "./call-scope.js";
import { LatencyHistogram, type LatencySeries } from "./latency-histogram.js";
import type { CallObserver } from "./wrap-service.js";

export interface RpcMetrics {
  registry: Registry;
  observer: CallObserver;
  /** DynamoDB operations: pass as the store client's onOperation. */
  onStoreOperation: (event: StoreOperationEvent) => void;
  /**
   * Exposes the store breaker's state (0 closed, 1 half-open, 2 open). Calling it again
   * replaces the source: the registry holds one gauge of that name.
   */
  trackBreaker(state: () => BreakerState): void;
}

/** go-grpc-prometheus's grpc_type values, by protobuf-es method kind. */
const GRPC_TYPE: Record<DescMethod["methodKind"], string> = {
  unary: "unary",
  client_streaming: "client_stream",
  server_streaming: "server_stream",
  bidi_streaming: "bidi_stream",
};

/**
 * A code as go-grpc-prometheus labels it: grpc-go's codes.Code String() ("OK", "NotFound",
 * "Canceled"), which is connect-es's Code enum name, so dashboards' `grpc_code!="OK"` and
 * `grpc_code="Unavailable"` match. (Log lines spell codes the proto way: NOT_FOUND.)
 */
function grpcCodeLabel(code: Code | undefined): string {
  return code === undefined ? "OK" : Code[code];
}

const METHOD_LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;

export function createRpcMetrics(): RpcMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Counts are kept per method (and per code and principal) in plain fields and added to
  // the counters when the registry is read (prom-client's collect hook): prom-client
  // validates and hashes the labels on every inc(), its labels() children included, and
  // four incs per call were about a twentieth of a trivial call's server CPU (README,
  // "Performance"). Scrapes see every call that had counted before they began.
  const perMethod = new Map<DescMethod, MethodMetrics>();
  const counter = (name: string, help: string, pending: (m: MethodMetrics) => PendingCounts) =>
    new Counter({
      name,
      help,
      labelNames: METHOD_LABELS,
      registers: [registry],
      collect() {
        for (const m of perMethod.values()) {
          const counts = pending(m);
          if (counts.value > 0) this.inc(m.labels, counts.value);
          counts.value = 0;
        }
      },
    });
  counter("grpc_server_started_total", "RPCs started, by type, service and method", (m) => m.started);
  counter(
    "grpc_server_msg_received_total",
    "Request messages received: the single one of a call, or each of a stream",
    (m) => m.received,
  );
  counter(
    "grpc_server_msg_sent_total",
    "Response messages sent: the single one of a call, or each of a stream",
    (m) => m.sent,
  );
  new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed with any status, by type, service, method, gRPC code and principal (AUTH_MODE)",
    labelNames: [...METHOD_LABELS, "grpc_code", "principal"],
    registers: [registry],
    collect() {
      for (const m of perMethod.values()) {
        for (const counts of [...m.handled.values()].flat()) {
          if (counts.value === 0) continue;
          this.inc({ ...m.labels, grpc_code: counts.code, principal: counts.principal }, counts.value);
          counts.value = 0;
        }
      }
    },
  });
  const handling = new LatencyHistogram(
    "grpc_server_handling_seconds",
    "Time from an RPC's start to its status, in seconds, streams included",
    METHOD_LABELS,
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );
  const metricsOf = (method: DescMethod): MethodMetrics => {
    let m = perMethod.get(method);
    if (m === undefined) {
      const labels = {
        grpc_type: GRPC_TYPE[method.methodKind],
        grpc_service: method.parent.typeName,
        grpc_method: method.name,
      };
      const created: MethodMetrics = {
        labels,
        handling: handling.series(labels),
        started: { value: 0 },
        received: { value: 0 },
        sent: { value: 0 },
        countReceived: () => {
          created.received.value++;
        },
        countSent: () => {
          created.sent.value++;
        },
        // Principals are the policy's few names (or "anonymous"): a bounded key set.
        handled: new Map(),
      };
      m = created;
      perMethod.set(method, m);
    }
    return m;
  };
  const storeLatency = new LatencyHistogram(
    "dynamodb_operation_seconds",
    "DynamoDB operation time including SDK retries, by operation and outcome",
    ["operation", "outcome"],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registry,
  );
  const storeRetries = new Counter({
    name: "dynamodb_retries_total",
    help: "HTTP attempts beyond the first made by the SDK (throttling, 5xx, network), by operation",
    labelNames: ["operation"],
    registers: [registry],
  });
  let breakerState: () => BreakerState = () => "closed";
  return {
    registry,
    onStoreOperation: ({ operation, durationMs, outcome, attempts }) => {
      // Operations and outcomes are the store's few names: a bounded set of series.
      storeLatency.series({ operation, outcome }).observe(durationMs / 1000);
      if (attempts > 1) storeRetries.inc({ operation }, attempts - 1);
    },
    trackBreaker(state) {
      breakerState = state;
      // prom-client throws on a second metric of the same name in one registry.
      if (registry.getSingleMetric("store_circuit_breaker_state") !== undefined) return;
      new Gauge({
        name: "store_circuit_breaker_state",
        help: "Store circuit breaker: 0 closed, 1 half-open, 2 open",
        registers: [registry],
        collect() {
          this.set({ closed: 0, half_open: 1, open: 2 }[breakerState()]);
        },
      });
    },
    observer: ({ method, principal }) => {
      const m = metricsOf(method);
      m.started.value++;
      const startedAt = performance.now();
      const end: CallEnd = (error) => {
        let byCode = m.handled.get(principal);
        if (byCode === undefined) {
          byCode = [];
          m.handled.set(principal, byCode);
        }
        const code = error?.code ?? 0;
        byCode[code] ??= { value: 0, code: grpcCodeLabel(error?.code), principal };
        byCode[code].value++;
        m.handling.observe((performance.now() - startedAt) / 1000);
      };
      // As go-grpc-prometheus: every message counts, the single ones of unary calls included.
      end.received = m.countReceived;
      end.sent = m.countSent;
      return end;
    },
  };
}

/** Calls counted since the registry was last read. */
interface PendingCounts {
  value: number;
}

interface MethodMetrics {
  labels: Record<(typeof METHOD_LABELS)[number], string>;
  handling: LatencySeries;
  started: PendingCounts;
  received: PendingCounts;
  sent: PendingCounts;
  /** The hooks every call of the method gets: made once, not per call. */
  countReceived: () => void;
  countSent: () => void;
  /** By principal, then by code (0 is OK). */
  handled: Map<string, (PendingCounts & { code: string; principal: string })[]>;
}

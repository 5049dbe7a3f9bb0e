/**
 * Prometheus metrics (prom-client): RPCs named and labelled as go-grpc-prometheus names
 * them (grpc-ecosystem; what gRPC dashboards query), DynamoDB operations, the store
 * breaker. The README's "Metrics" section lists every metric.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BreakerState } from "../resilience/circuit-breaker.js";
import type { StoreOperationEvent } from "../store/dynamo.js";
import type { CallEnd } from "./call-scope.js";
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
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started, by type, service and method",
    labelNames: METHOD_LABELS,
    registers: [registry],
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed with any status, by type, service, method, gRPC code and principal (AUTH_MODE)",
    labelNames: [...METHOD_LABELS, "grpc_code", "principal"],
    registers: [registry],
  });
  const handling = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from an RPC's start to its status, in seconds, streams included",
    labelNames: METHOD_LABELS,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const received = new Counter({
    name: "grpc_server_msg_received_total",
    help: "Request messages received: the single one of a call, or each of a stream",
    labelNames: METHOD_LABELS,
    registers: [registry],
  });
  const sent = new Counter({
    name: "grpc_server_msg_sent_total",
    help: "Response messages sent: the single one of a call, or each of a stream",
    labelNames: METHOD_LABELS,
    registers: [registry],
  });
  // Each method's label children, made once: a call then increments without hashing labels.
  const perMethod = new WeakMap<DescMethod, MethodMetrics>();
  const metricsOf = (method: DescMethod): MethodMetrics => {
    let m = perMethod.get(method);
    if (m === undefined) {
      const labels = [GRPC_TYPE[method.methodKind], method.parent.typeName, method.name];
      const byCode = new Map<string, Counter.Internal>();
      m = {
        started: started.labels(...labels),
        handling: handling.labels(...labels),
        received: received.labels(...labels),
        sent: sent.labels(...labels),
        handled: (code, principal) => {
          // Principals are the policy's few names (or "anonymous"): a bounded label set.
          const key = `${code} ${principal}`;
          let child = byCode.get(key);
          if (child === undefined) {
            child = handled.labels(...labels, code, principal);
            byCode.set(key, child);
          }
          return child;
        },
      };
      perMethod.set(method, m);
    }
    return m;
  };
  const storeLatency = new Histogram({
    name: "dynamodb_operation_seconds",
    help: "DynamoDB operation time including SDK retries, by operation and outcome",
    labelNames: ["operation", "outcome"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
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
      storeLatency.observe({ operation, outcome }, durationMs / 1000);
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
      m.started.inc();
      const stop = m.handling.startTimer();
      const end: CallEnd = (error) => {
        m.handled(grpcCodeLabel(error?.code), principal).inc();
        stop();
      };
      // As go-grpc-prometheus: every message counts, the single ones of unary calls included.
      end.received = () => m.received.inc();
      end.sent = () => m.sent.inc();
      return end;
    },
  };
}

interface MethodMetrics {
  started: Counter.Internal;
  handling: Histogram.Internal<string>;
  received: Counter.Internal;
  sent: Counter.Internal;
  handled(code: string, principal: string): Counter.Internal;
}

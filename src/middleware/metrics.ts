/** Prometheus RPC metrics: counts and latency by method and code (prom-client). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { BreakerState } from "../resilience/circuit-breaker.js";
import type { StoreOperationEvent } from "../store/dynamo.js";
import { grpcCodeName } from "./error-mapping.js";
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

export function createRpcMetrics(): RpcMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const calls = new Counter({
    name: "rpc_server_handled_total",
    help: "RPCs completed, by method, gRPC code and principal (AUTH_MODE; anonymous when none)",
    labelNames: ["method", "code", "principal"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "rpc_server_handling_seconds",
    help: "RPC handling time, by method and gRPC code",
    labelNames: ["method", "code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
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
    observer: ({ service, method, principal }) => {
      const stop = latency.startTimer();
      return (error) => {
        const labels = { method: `${service.typeName}/${method.name}`, code: grpcCodeName(error?.code) };
        calls.inc({ ...labels, principal });
        stop(labels);
      };
    },
  };
}

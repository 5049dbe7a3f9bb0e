/** Prometheus RPC metrics: counts and latency by method and code (prom-client). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { grpcCodeName } from "./error-mapping.js";
import type { CallObserver } from "./wrap-service.js";

export interface RpcMetrics {
  registry: Registry;
  observer: CallObserver;
}

export function createRpcMetrics(): RpcMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const calls = new Counter({
    name: "rpc_server_handled_total",
    help: "RPCs completed, by method and gRPC code",
    labelNames: ["method", "code"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "rpc_server_handling_seconds",
    help: "RPC handling time, by method and gRPC code",
    labelNames: ["method", "code"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observer: ({ service, method }) => {
      const stop = latency.startTimer();
      return (error) => {
        const labels = { method: `${service.typeName}/${method.name}`, code: grpcCodeName(error?.code) };
        calls.inc(labels);
        stop(labels);
      };
    },
  };
}

/**
 * Stage 1, framework overhead: the full server stack over an in-memory store
 * (servers/in-memory-service.ts) against bare servers with a constant handler
 * (servers/bare-servers.ts), both their own processes, same GetItem messages, same
 * clients: grpc-js against the bare grpc-js server, Connect (HTTP/1.1, binary) against the
 * bare connect-node server. RPS and p50/p99 at 1 and 64 calls in flight.
 */
import { randomBytes } from "node:crypto";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { checkServing, connectCaller, grpcCaller } from "../clients.js";
import type { StageResult } from "../context.js";
import { alternate, closedLoop, type LoadResult, type Rounds, warmUpLoad } from "../measure.js";
import type { BenchOptions } from "../options.js";
import { cpuSeconds, freePort, type NodeProcess, startNode } from "../processes.js";
import { type Figure, roundsFigure, type Target } from "../report.js";
import { FRAMEWORK_SKU } from "../servers/framework-item.js";

const STAGE = "1 framework";
const getItem = InventoryService.method.getItem;

export type ProfileFlags = (name: string) => string[];

export async function frameworkStage(
  options: BenchOptions,
  profileFlags: ProfileFlags,
  progress: (message: string) => void,
): Promise<StageResult> {
  const [oursGrpc, oursHttp, oursMetrics, bareGrpc, bareHttp] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const ours = {
    grpc: grpcCaller(`127.0.0.1:${oursGrpc}`),
    connect: connectCaller(`http://127.0.0.1:${oursHttp}`, InventoryService),
  };
  const bare = {
    grpc: grpcCaller(`127.0.0.1:${bareGrpc}`),
    connect: connectCaller(`http://127.0.0.1:${bareHttp}`, InventoryService),
  };
  const processes: NodeProcess[] = [];
  try {
    progress("starting the in-memory service and the bare servers");
    const oursProcess = await startNode({
      name: "in-memory-service",
      script: "var/bench-build/bench/servers/in-memory-service.js",
      env: {
        GRPC_PORT: String(oursGrpc),
        HTTP_PORT: String(oursHttp),
        METRICS_PORT: String(oursMetrics),
        LOG_LEVEL: "info",
        PAGE_TOKEN_SECRET: randomBytes(24).toString("hex"),
      },
      nodeFlags: profileFlags("in-memory-service"),
      ready: () => checkServing(ours.grpc),
    });
    processes.push(oursProcess);
    const bareProcess = await startNode({
      name: "bare-servers",
      script: "var/bench-build/bench/servers/bare-servers.js",
      args: [String(bareGrpc), String(bareHttp)],
      nodeFlags: profileFlags("bare-servers"),
      ready: () => bare.grpc.unary(getItem, { sku: FRAMEWORK_SKU }),
    });
    processes.push(bareProcess);
    const meters = (server: NodeProcess) => ({ server: () => cpuSeconds(server.pid), bench: () => cpuSeconds("self") });
    const request = { sku: FRAMEWORK_SKU };
    const callOptions = { timeoutMs: 120_000 };
    const transports = {
      grpc: { ours: () => ours.grpc.unary(getItem, request), bare: () => bare.grpc.unary(getItem, request) },
      connect: {
        ours: () => ours.connect.getItem(request, callOptions),
        bare: () => bare.connect.getItem(request, callOptions),
      },
    };
    // Both servers and the bench's clients have just started: their JIT has compiled little.
    progress(`warming up both servers, both transports, ${options.frameworkWarmUpMs / 1000} s at 64 in flight`);
    await warmUpLoad(
      Object.values(transports).flatMap((calls) => [calls.ours, calls.bare]),
      64,
      options.frameworkWarmUpMs,
    );
    const figures: Figure[] = [];
    const raw: Record<string, Rounds<LoadResult>> = {};
    for (const [name, calls] of Object.entries(transports)) {
      const baseline = name === "grpc" ? "bare grpc-js" : "bare connect-node";
      const label = name === "grpc" ? "GetItem over gRPC (grpc-js client)" : "GetItem over Connect (HTTP/1.1, binary)";
      for (const concurrency of [1, 64]) {
        const rounds = await alternate(
          options.rounds,
          () => closedLoop(calls.ours, concurrency, options.unaryMs, meters(oursProcess)),
          () => closedLoop(calls.bare, concurrency, options.unaryMs, meters(bareProcess)),
          (round) => progress(`${name}, ${concurrency} in flight: round ${round}/${options.rounds}`),
        );
        raw[`${name}@${concurrency}`] = rounds;
        const figure = (what: string, unit: string, compare: "ratio" | "difference", target?: Target) => ({
          stage: STAGE,
          label: `${label}, ${concurrency} in flight: ${what} ${baseline}`,
          unit,
          compare,
          ...(target !== undefined ? { target } : {}),
        });
        if (concurrency === 64) {
          figures.push(
            roundsFigure(rounds, (r) => r.rps, figure("RPS vs", "calls/s", "ratio", { op: ">=", value: 0.8 })),
            roundsFigure(rounds, (r) => r.cpuUsPerCall["server"]!, figure("server CPU per call vs", "µs", "ratio")),
            roundsFigure(rounds, (r) => r.p99Ms, figure("p99 vs", "ms", "ratio")),
          );
        } else {
          figures.push(
            roundsFigure(rounds, (r) => r.p50Ms, figure("p50 added to", "ms", "difference", { op: "<=", value: 0.15 })),
          );
        }
      }
    }
    return { figures, raw };
  } finally {
    ours.grpc.close();
    bare.grpc.close();
    for (const p of processes) await p.stop();
  }
}

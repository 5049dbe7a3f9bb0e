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
import { alternate, closedLoop, type LoadResult, median, medianOf, type Rounds } from "../measure.js";
import type { BenchOptions } from "../options.js";
import { cpuSeconds, freePort, type NodeProcess, startNode } from "../processes.js";
import type { Figure } from "../report.js";
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
        if (concurrency === 64) {
          const rps = medianOf(rounds, (a, b) => a.rps / b.rps);
          figures.push({
            stage: STAGE,
            label: `${label}, 64 in flight: RPS vs ${baseline}`,
            service: median(rounds.a.map((r) => r.rps)),
            baseline: median(rounds.b.map((r) => r.rps)),
            unit: "calls/s",
            value: rps.median,
            valueUnit: "×",
            perRound: rps.perRound,
            target: { op: ">=", value: 0.8 },
          });
          const cpu = medianOf(rounds, (a, b) => a.cpuUsPerCall["server"]! / b.cpuUsPerCall["server"]!);
          figures.push({
            stage: STAGE,
            label: `${label}, 64 in flight: server CPU per call vs ${baseline}`,
            service: median(rounds.a.map((r) => r.cpuUsPerCall["server"]!)),
            baseline: median(rounds.b.map((r) => r.cpuUsPerCall["server"]!)),
            unit: "µs",
            value: cpu.median,
            valueUnit: "×",
            perRound: cpu.perRound,
          });
          const p99 = medianOf(rounds, (a, b) => a.p99Ms / b.p99Ms);
          figures.push({
            stage: STAGE,
            label: `${label}, 64 in flight: p99 vs ${baseline}`,
            service: median(rounds.a.map((r) => r.p99Ms)),
            baseline: median(rounds.b.map((r) => r.p99Ms)),
            unit: "ms",
            value: p99.median,
            valueUnit: "×",
            perRound: p99.perRound,
          });
        } else {
          const added = medianOf(rounds, (a, b) => a.p50Ms - b.p50Ms);
          figures.push({
            stage: STAGE,
            label: `${label}, 1 in flight: p50 added to ${baseline}`,
            service: median(rounds.a.map((r) => r.p50Ms)),
            baseline: median(rounds.b.map((r) => r.p50Ms)),
            unit: "ms",
            value: added.median,
            valueUnit: "ms",
            perRound: added.perRound,
            target: { op: "<=", value: 0.15 },
          });
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

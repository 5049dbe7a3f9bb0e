/**
 * Starts the real service (both transports, port 0) against the test run's DynamoDB Local
 * (test/global-setup.ts) with its own table prefix, so test files never see each other's
 * data. `stop()` closes every server and client it started; `useHarness()` does both for a
 * file or describe block.
 */
import { randomBytes } from "node:crypto";
import { type Logger, pino } from "pino";
import { afterAll, beforeAll, inject } from "vitest";
import type { AuthGate } from "../../src/middleware/auth-gate.js";
import { createRpcMetrics, type RpcMetrics } from "../../src/middleware/metrics.js";
import type { StoreBreakerOptions } from "../../src/resilience/circuit-breaker.js";
import { createApp, reportHealth } from "../../src/server.js";
import { createStoreClient, type StoreClient } from "../../src/store/dynamo.js";
import { ensureTables, type TableNames, tableNames } from "../../src/store/tables.js";
import type { Tracing } from "../../src/telemetry/start-tracing.js";
import { listenGrpc } from "../../src/transport/grpc.js";
import { listenHttp } from "../../src/transport/http.js";
import { grpcCredentials, type ServerTls } from "../../src/transport/tls.js";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";
import { connectClient, grpcClient, type RpcClient } from "./rpc-client.js";

export interface Harness {
  grpcAddress: string;
  httpUrl: string;
  clients: RpcClient[];
  grpc: RpcClient;
  connect: RpcClient;
  store: StoreClient;
  tables: TableNames;
  health: ReturnType<typeof createApp>["grpc"]["health"];
  /** The server's Prometheus registry, as /metrics would show it. */
  metrics: RpcMetrics;
  stop(): Promise<void>;
}

let counter = 0;

/** The harness server's MAX_MESSAGE_BYTES (the default's 4 MiB). */
export const HARNESS_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface HarnessOptions {
  tablePrefix?: string;
  /** Another DynamoDB than the run's (fault tests start their own). */
  endpoint?: string;
  breaker?: StoreBreakerOptions;
  /** Who may call what; default AUTH_MODE=none. */
  auth?: AuthGate;
  /** TLS on both listeners (the harness's own clients are plaintext: bring your own). */
  tls?: ServerTls;
  /** RPC spans; start tracing before importing this module (start-tracing.ts says why). */
  tracing?: Tracing;
  /** The server's logger; default silent, or TEST_LOG_LEVEL. */
  logger?: Logger;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const endpoint = options.endpoint ?? inject("dynamoEndpoint");
  const prefix = options.tablePrefix ?? `t${process.pid}_${counter++}_${randomBytes(3).toString("hex")}_`;
  const store = createStoreClient({
    endpoint,
    region: "us-east-1",
    credentials: "local",
    ...(options.breaker ? { breaker: options.breaker } : {}),
  });
  const logger = options.logger ?? pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" });
  await ensureTables(store.raw, prefix);
  const tables = tableNames(prefix);
  const metrics = createRpcMetrics();
  const app = createApp({
    client: store,
    tables,
    logger,
    metrics,
    tracing: options.tracing,
    pageTokenSecret: randomBytes(32),
    maxMessageBytes: HARNESS_MAX_MESSAGE_BYTES,
    maxDeadlineMs: 60_000,
    auth: options.auth,
    tls: options.tls,
  });
  const grpcPort = await listenGrpc(app.grpc.server, "127.0.0.1", 0, grpcCredentials(options.tls));
  const httpPort = await listenHttp(app.http, "127.0.0.1", 0);
  const health = reportHealth(app, { client: store, probeTable: tables.idempotencyKeys, logger, intervalMs: 500 });
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const g = grpcClient(grpcAddress);
  const c = connectClient(httpUrl);
  return {
    grpcAddress,
    httpUrl,
    clients: [g, c],
    grpc: g,
    connect: c,
    store,
    tables,
    health: app.grpc.health,
    metrics,
    async stop() {
      health.stop();
      g.close();
      c.close();
      await new Promise<void>((resolve) => app.grpc.server.tryShutdown(() => resolve()));
      app.http.closeAllConnections();
      await new Promise<void>((resolve) => app.http.close(() => resolve()));
      store.destroy();
    },
  };
}

/**
 * One harness for the calling file (or describe block): started in beforeAll, stopped in
 * afterAll. Options given as a function are read at start, after the beforeAll hooks
 * registered before this call (a fault proxy's endpoint); afterAll hooks run in reverse,
 * so the harness stops before what it depends on.
 */
export function useHarness(options: HarnessOptions | (() => HarnessOptions) = {}): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(typeof options === "function" ? options() : options);
  });
  afterAll(async () => {
    await harness?.stop();
    harness = undefined;
  });
  return () => {
    if (harness === undefined) throw new Error("the harness runs only between its beforeAll and afterAll");
    return harness;
  };
}

/**
 * A fault proxy (fault-proxy.ts) in front of the run's DynamoDB Local, and a harness whose
 * store goes through it, for the calling file. The breaker is kept from opening, so the
 * injected faults reach the callers.
 */
export function useFaultyHarness(): { proxy: () => FaultProxy; h: () => Harness } {
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    proxy = await startFaultProxy(inject("dynamoEndpoint"));
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const started = () => {
    if (proxy === undefined) throw new Error("the fault proxy runs only between its beforeAll and afterAll");
    return proxy;
  };
  // Registered after the proxy's hooks: starts after it, stops before it.
  const h = useHarness(() => ({ endpoint: started().endpoint, breaker: { volumeThreshold: 1000 } }));
  return { proxy: started, h };
}

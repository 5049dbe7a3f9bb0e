/**
 * Bench only: the service as dist/main.js builds it — createApp, both transports, logging
 * at LOG_LEVEL, metrics — but over an in-memory store client (in-memory-store-client.ts),
 * run as its own process by the framework-overhead stage. Settings come from the same
 * environment variables (src/config.ts); the store ones are ignored. A separate entry
 * rather than a flag in main.ts, so production code has no way to run without its store.
 * What it leaves out of main.ts: DynamoDB Local, ensureTables and the /metrics listener
 * (the registry is there and updated on every call; only nobody scrapes it).
 */
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { createRpcMetrics } from "../../src/middleware/metrics.js";
import { createApp, reportHealth } from "../../src/server.js";
import { tableNames } from "../../src/store/tables.js";
import { listenGrpc } from "../../src/transport/grpc.js";
import { listenHttp } from "../../src/transport/http.js";
import { frameworkItemStored } from "./framework-item.js";
import { createInMemoryStoreClient } from "./in-memory-store-client.js";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const tables = tableNames(config.tablePrefix);
const client = createInMemoryStoreClient(tables.inventory, [frameworkItemStored()]);
const metrics = config.metricsPort !== 0 ? createRpcMetrics() : undefined;
metrics?.trackBreaker(() => client.breaker.state());
const app = createApp({
  client,
  tables,
  logger,
  metrics,
  pageTokenSecret: config.pageTokenSecret,
  maxMessageBytes: config.maxMessageBytes,
  maxDeadlineMs: config.maxDeadlineMs,
});
const grpcPort = await listenGrpc(app.grpc.server, config.grpcHost, config.grpcPort);
await listenHttp(app.http, config.httpHost, config.httpPort);
const health = reportHealth(app, { client, probeTable: tables.idempotencyKeys, logger });
logger.info({ port: grpcPort, pid: process.pid, node: process.version }, "gRPC listening (in-memory store)");

process.on("SIGTERM", () => {
  health.stop();
  app.grpc.server.forceShutdown();
  app.http.closeAllConnections();
  app.http.close();
  client.destroy();
  process.exit(0);
});

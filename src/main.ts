/**
 * The only place that reads the environment, wires, listens and handles signals.
 * config → (embedded DynamoDB Local) → tables → servers → SERVING; on SIGTERM/SIGINT:
 * NOT_SERVING → stop accepting → drain up to SHUTDOWN_GRACE_MS → close store and engine.
 */
import { createServer as createPlainHttpServer, type Server as PlainHttpServer } from "node:http";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { type EmbeddedDynamoDb, startEmbeddedDynamoDb } from "./engine/embedded-dynamodb.js";
import { createLogger } from "./logger.js";
import { createRpcMetrics, type RpcMetrics } from "./middleware/metrics.js";
import { createApp, reportHealth } from "./server.js";
import { createStoreClient } from "./store/dynamo.js";
import { ensureTables, tableNames } from "./store/tables.js";
import { listenGrpc } from "./transport/grpc.js";
import { listenHttp } from "./transport/http.js";
import { grpcCredentials } from "./transport/tls.js";

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`commerce: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

function serveMetrics(metrics: RpcMetrics, host: string, port: number): Promise<PlainHttpServer> {
  const server = createPlainHttpServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** host:port as a client would dial it: an IPv6 host in brackets ([::1]:8080). */
const hostPort = (host: string, port: number) => (host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`);

/** Binds, turning the platform's error into one line naming the setting to change. */
async function listening<T>(settings: string, host: string, port: number, bind: () => Promise<T>): Promise<T> {
  try {
    return await bind();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const reason = /EADDRINUSE/.test(why)
      ? "the port is in use"
      : /EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN/.test(why)
        ? "the address is not available here"
        : why;
    throw new Error(`cannot listen on ${hostPort(host, port)} (${settings}): ${reason}`, { cause: err });
  }
}

/** Stop accepting on both listeners now; force-close whatever is still running at the grace deadline. */
function drainListeners(app: ReturnType<typeof createApp>, httpListening: boolean, graceMs: number): Promise<void> {
  const grpcDone = new Promise<void>((resolve) => app.grpc.server.tryShutdown(() => resolve()));
  const httpDone = httpListening
    ? new Promise<void>((resolve) => {
        app.http.close(() => resolve());
        app.http.closeIdleConnections();
      })
    : Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      app.grpc.server.forceShutdown();
      app.http.closeAllConnections();
      resolve();
    }, graceMs);
  });
  return Promise.race([Promise.all([grpcDone, httpDone]).then(() => undefined), deadline]).finally(() =>
    clearTimeout(timer),
  );
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, "error while stopping");
      }
    }
  };

  try {
    let endpoint: string | undefined;
    let credentials: "local" | "chain" = "chain";
    if (config.store.kind === "embedded") {
      const engine: EmbeddedDynamoDb = await startEmbeddedDynamoDb({ dataDir: config.store.dataDir, logger });
      stops.push(() => engine.stop());
      endpoint = engine.endpoint;
      credentials = "local";
    } else if (config.store.kind === "endpoint") {
      endpoint = config.store.endpoint;
      credentials = config.store.credentials;
    }
    const metrics = config.metricsPort !== 0 ? createRpcMetrics() : undefined;
    const client = createStoreClient({
      region: config.awsRegion,
      credentials,
      ...(endpoint !== undefined ? { endpoint } : {}),
      ...(metrics ? { onOperation: metrics.onStoreOperation } : {}),
    });
    metrics?.trackBreaker(() => client.breaker.state());
    stops.push(() => client.destroy());
    const tables = tableNames(config.tablePrefix);
    if (config.ensureTables) {
      const created = await ensureTables(client.raw, config.tablePrefix, { logger });
      if (created.length > 0) logger.info({ created }, "tables created");
    }
    if (config.pageTokenSecretIsEphemeral) {
      logger.warn(
        "PAGE_TOKEN_SECRET is not set: page tokens are signed with a per-process key and stop working after a restart",
      );
    }

    const app = createApp({
      client,
      tables,
      logger,
      metrics,
      pageTokenSecret: config.pageTokenSecret,
      maxMessageBytes: config.maxMessageBytes,
      maxDeadlineMs: config.maxDeadlineMs,
      tls: config.tls,
    });
    if (config.plaintextNonLoopback && config.tls === undefined) {
      logger.warn(
        "ALLOW_PLAINTEXT_NON_LOOPBACK=true: serving plaintext; anyone on the network can read and forge calls",
      );
    }
    const grpcPort = await listening("GRPC_HOST/GRPC_PORT", config.grpcHost, config.grpcPort, () =>
      listenGrpc(app.grpc.server, config.grpcHost, config.grpcPort, grpcCredentials(config.tls)),
    );
    const security = config.tls === undefined ? "plaintext" : config.tls.clientCa ? "mTLS" : "TLS";
    logger.info(
      { address: hostPort(config.grpcHost, grpcPort), security, pid: process.pid, node: process.version },
      "gRPC listening",
    );
    if (config.httpPort !== 0) {
      const httpPort = await listening("HTTP_HOST/HTTP_PORT", config.httpHost, config.httpPort, () =>
        listenHttp(app.http, config.httpHost, config.httpPort),
      );
      logger.info({ address: hostPort(config.httpHost, httpPort), security }, "Connect + gRPC-Web listening");
    }
    if (metrics) {
      const server = await listening("HTTP_HOST/METRICS_PORT", config.httpHost, config.metricsPort, () =>
        serveMetrics(metrics, config.httpHost, config.metricsPort),
      );
      stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      logger.info({ address: hostPort(config.httpHost, config.metricsPort) }, "metrics listening");
    }
    // Both listeners stop accepting at once and drain in parallel against one deadline.
    stops.push(() => drainListeners(app, config.httpPort !== 0, config.shutdownGraceMs));
    const health = reportHealth(app, { client, probeTable: tables.idempotencyKeys, logger });
    stops.push(() => health.stop());

    let stopping = false;
    const shutdown = (signal: string) => {
      // Launchers (npm, tsx watch) relay a signal that may also reach us directly, so a repeat
      // is expected; the drain is bounded by SHUTDOWN_GRACE_MS either way.
      if (stopping) return;
      stopping = true;
      logger.info({ signal, graceMs: config.shutdownGraceMs }, "shutting down");
      health.stopServing();
      void stopAll().then(() => {
        logger.info("stopped");
        process.exit(0);
      });
    };
    process.on("SIGTERM", () => shutdown("SIGTERM"));
    process.on("SIGINT", () => shutdown("SIGINT"));
  } catch (err) {
    // One clear line for the failures an operator can fix (no Java, port in use, ...),
    // on stderr as for a bad setting; the log keeps the details.
    const message = err instanceof Error ? err.message.split("\n")[0]! : "start failed";
    logger.fatal({ err }, message);
    process.stderr.write(`commerce: ${message}\n`);
    await stopAll();
    process.exit(1);
  }
}

await main();

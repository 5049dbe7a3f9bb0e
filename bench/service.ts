/**
 * The real service as the bench runs it: `node --enable-source-maps dist/main.js`, as
 * `npm start` runs it, against the bench's DynamoDB Local (DYNAMODB_ENDPOINT) under its own
 * table prefix, logging at info to var/bench/<name>.log, metrics on.
 */
import { randomBytes } from "node:crypto";
import { type TableNames, tableNames } from "../src/store/tables.js";
import { checkServing, type GrpcCaller, grpcCaller } from "./clients.js";
import { freePort, type NodeProcess, startNode } from "./processes.js";

export interface RunningService {
  process: NodeProcess;
  grpc: GrpcCaller;
  tables: TableNames;
  /** Idempotent. */
  stop(): Promise<void>;
}

export async function startService(options: {
  name: string;
  endpoint: string;
  tablePrefix: string;
  nodeFlags: string[];
}): Promise<RunningService> {
  const [grpcPort, httpPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const grpc = grpcCaller(`127.0.0.1:${grpcPort}`);
  try {
    const process = await startNode({
      name: options.name,
      script: "dist/main.js",
      env: {
        DYNAMODB_ENDPOINT: options.endpoint,
        TABLE_PREFIX: options.tablePrefix,
        GRPC_PORT: String(grpcPort),
        HTTP_PORT: String(httpPort),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: "info",
        PAGE_TOKEN_SECRET: randomBytes(24).toString("hex"),
      },
      nodeFlags: options.nodeFlags,
      ready: () => checkServing(grpc),
    });
    let stopped = false;
    return {
      process,
      grpc,
      tables: tableNames(options.tablePrefix),
      async stop() {
        if (stopped) return;
        stopped = true;
        grpc.close();
        await process.stop();
      },
    };
  } catch (err) {
    grpc.close();
    throw err;
  }
}

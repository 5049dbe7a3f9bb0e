/** What every stage against the real service is given. */
import type { TableNames } from "../src/store/tables.js";
import type { GrpcCaller } from "./clients.js";
import type { DirectClient } from "./direct.js";
import type { CpuMeters } from "./measure.js";
import type { BenchOptions } from "./options.js";
import { cpuSeconds, type NodeProcess } from "./processes.js";
import type { Figure } from "./report.js";

export interface StageContext {
  options: BenchOptions;
  /** The service, started as `npm start` runs it, against `direct`'s DynamoDB Local. */
  service: NodeProcess;
  /** DynamoDB Local's JVM. */
  enginePid: number;
  grpc: GrpcCaller;
  tables: TableNames;
  /** The bench's own SDK client of the same DynamoDB Local. */
  direct: DirectClient;
  /** One progress line (stderr). */
  progress(message: string): void;
}

/** A stage's figures for the table, and everything it measured for latest.json. */
export interface StageResult {
  figures: Figure[];
  raw: Record<string, unknown>;
}

/**
 * Where a call's CPU goes: the bench (gRPC client, or the SDK for the direct side), the
 * service, DynamoDB Local. Names as `cpuFigure` reads them.
 */
export const processMeters = (ctx: StageContext): CpuMeters => ({
  bench: () => cpuSeconds("self"),
  service: () => cpuSeconds(ctx.service.pid),
  dynamodb: () => cpuSeconds(ctx.enginePid),
});

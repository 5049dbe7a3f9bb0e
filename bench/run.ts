/**
 * `npm run bench [-- --quick] [-- --profile]`: the service measured from outside, side by
 * side with what it stands on (issue 9). Builds the service and the bench's servers, starts
 * DynamoDB Local, runs the five stages with a progress line each, prints the table with
 * every target MET or MISSED, and writes bench/results/latest.json and latest.md.
 *
 * The service runs as `npm start` runs it — `node --enable-source-maps dist/main.js` — as a
 * separate process, logging at info to var/bench/service.log, metrics on, against the
 * DynamoDB Local started here (DYNAMODB_ENDPOINT); the bench's direct SDK calls go to the
 * same DynamoDB Local. Every figure is the median of alternating rounds after a warm-up
 * (measure.ts): absolute figures move with whatever else the machine runs; the ratios
 * much less.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { startEmbeddedDynamoDb } from "../src/engine/embedded-dynamodb.js";
import { tableNames } from "../src/store/tables.js";
import { checkServing, grpcCaller } from "./clients.js";
import type { StageContext } from "./context.js";
import { seed, storedOrders } from "./data.js";
import { createDirectClient } from "./direct.js";
import type { Rounds } from "./measure.js";
import { parseOptions } from "./options.js";
import { buildAll, freePort, startNode } from "./processes.js";
import { cpuProfFlags, PROFILE_DIR, profileMarkdown, summariseProfiles } from "./profile.js";
import { type Figure, machine, markdownTable, met, RESULTS_DIR, versions, writeResults } from "./report.js";
import { frameworkStage } from "./stages/framework.js";
import { fillInventory, GROWTH_SEGMENTS, growthFigures, listPagesFigure, scanAtSize } from "./stages/growth.js";
import { storePathStage } from "./stages/store-path.js";
import { type ScanRun, streamsStage } from "./stages/streams.js";
import { writesStage } from "./stages/writes.js";

const options = parseOptions(process.argv.slice(2));
const startedAt = new Date();
const host = machine();
const t0 = performance.now();
const progress = (stage: string) => (message: string) =>
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${stage}: ${message}\n`);

mkdirSync(RESULTS_DIR, { recursive: true });
if (options.profile) {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
}
const profileFlags = (name: string) => (options.profile ? cpuProfFlags(name) : []);

progress("build")("npm run build, and the bench's servers");
buildAll();

const figures: Figure[] = [];
const raw: Record<string, unknown> = {};
const want = options.stages;

if (want.has("framework")) {
  const framework = await frameworkStage(options, profileFlags, progress("1 framework"));
  figures.push(...framework.figures);
  raw["framework"] = framework.raw;
}

if (want.has("store") || want.has("writes") || want.has("streams") || want.has("growth")) {
  progress("setup")("starting DynamoDB Local and the service");
  const engine = await startEmbeddedDynamoDb({});
  const [grpcPort, httpPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const grpc = grpcCaller(`127.0.0.1:${grpcPort}`);
  const prefix = "bench_";
  try {
    const service = await startNode({
      name: "service",
      script: "dist/main.js",
      env: {
        DYNAMODB_ENDPOINT: engine.endpoint,
        TABLE_PREFIX: prefix,
        GRPC_PORT: String(grpcPort),
        HTTP_PORT: String(httpPort),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: "info",
        PAGE_TOKEN_SECRET: randomBytes(24).toString("hex"),
      },
      nodeFlags: profileFlags("service"),
      ready: () => checkServing(grpc),
    });
    const ctx = (stage: string): StageContext => ({
      options,
      service,
      enginePid: engine.pid,
      grpc,
      tables: tableNames(prefix),
      direct: createDirectClient(engine.endpoint),
      progress: progress(stage),
    });
    try {
      if (want.has("store")) {
        const result = await storePathStage(ctx("2 store path"));
        figures.push(...result.figures);
        raw["storePath"] = result.raw;
      }
      // Streams and growth run before the writes add orders, on one Inventory table filled
      // to half the stream size, the stream size, then twice that.
      if (want.has("streams") || want.has("growth")) {
        const growth = ctx("5 growth");
        const size = options.scanItems;
        const growthRounds = [];
        await fillInventory(growth, 0, size / 2);
        if (want.has("growth")) growthRounds.push(await scanAtSize(growth));
        await fillInventory(growth, size / 2, size);
        let atSize: Rounds<ScanRun> | undefined;
        if (want.has("streams")) {
          const streams = ctx("4 streams");
          streams.progress(`seeding ${size.toLocaleString("en-US")} orders`);
          await seed(streams.direct, streams.tables.orders, storedOrders(size, 1_000, "scan"));
          const result = await streamsStage(streams);
          figures.push(...result.figures);
          raw["streams"] = result.raw;
          atSize = result.scanItemsAt[GROWTH_SEGMENTS];
        }
        if (want.has("growth")) {
          growthRounds.push(atSize ?? (await scanAtSize(growth)));
          await fillInventory(growth, size, size * 2);
          growthRounds.push(await scanAtSize(growth));
          figures.push(...growthFigures(growthRounds));
          const pages = await listPagesFigure(growth);
          figures.push(pages.figure);
          raw["growth"] = { scans: growthRounds, listOrders: pages.raw };
        }
      }
      if (want.has("writes")) {
        const result = await writesStage(ctx("3 writes"));
        figures.push(...result.figures);
        raw["writes"] = result.raw;
      }
    } finally {
      await service.stop();
    }
  } finally {
    grpc.close();
    await engine.stop();
  }
}
figures.sort((a, b) => a.stage.localeCompare(b.stage));

const profiles = options.profile ? summariseProfiles(["service", "in-memory-service", "bare-servers"]) : [];
const missed = figures.filter((f) => met(f) === false);
const seconds = Math.round((performance.now() - t0) / 1000);
const heading = [
  `## commerce bench, ${options.quick ? "--quick" : "full run"}${options.profile ? " (profiled: the servers ran under --cpu-prof, so their figures are low)" : ""}`,
  "",
  `${startedAt.toISOString()}, ${seconds} s. ${host.cpus} × ${host.cpuModel}, ${host.memoryGb} GB, ${host.kernel}; ` +
    `Node ${process.version}; load average at start ${host.loadAverageAtStart.join(" / ")}. ` +
    `Each figure: median of ${options.rounds} alternating rounds after a warm-up; "service" and "baseline" are ` +
    "the medians of each side, the result is the median of the per-round ratios (or differences).",
  "",
].join("\n");
const markdown = [
  heading,
  markdownTable(figures),
  "",
  missed.length === 0 ? "Every target MET." : `${missed.length} target(s) MISSED.`,
  ...profiles.map((p) => `\n${profileMarkdown(p)}`),
].join("\n");
process.stdout.write(`\n${markdown}\n`);
host.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
writeResults(
  {
    startedAt: startedAt.toISOString(),
    seconds,
    options,
    machine: host,
    versions: versions(),
    figures: figures.map((f) => ({ ...f, met: met(f) })),
    raw,
    profiles,
  },
  markdown,
);
process.stderr.write(`\nwrote ${RESULTS_DIR}/latest.json and latest.md\n`);

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
import { mkdirSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { startEmbeddedDynamoDb } from "../src/engine/embedded-dynamodb.js";
import type { StageContext } from "./context.js";
import { seed, storedOrders } from "./data.js";
import { createDirectClient } from "./direct.js";
import { parseOptions } from "./options.js";
import { buildAll } from "./processes.js";
import { cpuProfFlags, PROFILE_DIR, profileMarkdown, summariseProfiles } from "./profile.js";
import { type Figure, machine, markdownTable, met, RESULTS_DIR, versions, writeResults } from "./report.js";
import { type RunningService, startService } from "./service.js";
import { frameworkStage } from "./stages/framework.js";
import { fillInventory, listPagesFigures, scanGrowth } from "./stages/growth.js";
import { storePathStage } from "./stages/store-path.js";
import { streamsStage } from "./stages/streams.js";
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

const figures: Figure[] = [];
const raw: Record<string, unknown> = {};
const want = options.stages;
const againstDynamoDb = want.has("store") || want.has("writes") || want.has("streams") || want.has("growth");

progress("build")(`npm run build, and the bench's servers${againstDynamoDb ? "; DynamoDB Local starting" : ""}`);
// The JVM boots (a few seconds of CPU) while the compiler runs; it is idle by the time
// anything is measured. Stopped below whatever happens in between.
const engineStarting = againstDynamoDb ? startEmbeddedDynamoDb({}) : undefined;
engineStarting?.catch(() => undefined);
try {
  await buildAll();
  if (want.has("framework")) {
    const framework = await frameworkStage(options, profileFlags, progress("1 framework"));
    figures.push(...framework.figures);
    raw["framework"] = framework.raw;
  }
} catch (err) {
  await (await engineStarting?.catch(() => undefined))?.stop();
  throw err;
}

if (engineStarting !== undefined) {
  progress("setup")(
    `waiting for DynamoDB Local; starting the service${want.has("growth") ? " and one per growth table size" : ""}`,
  );
  const engine = await engineStarting;
  const running: RunningService[] = [];
  try {
    // Every service at once (the growth stage's stay idle until it starts); whatever
    // started is stopped at the end even if another failed.
    const started = await Promise.allSettled([
      startService({
        name: "service",
        endpoint: engine.endpoint,
        tablePrefix: "bench_",
        nodeFlags: profileFlags("service"),
      }),
      ...(want.has("growth") ? options.growthSizes : []).map((_, i) =>
        startService({
          name: `service-growth-${i + 1}`,
          endpoint: engine.endpoint,
          tablePrefix: `growth${i + 1}_`,
          nodeFlags: [],
        }),
      ),
    ]);
    running.push(...started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])));
    const failed = started.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    const [main, ...bySize] = running as [RunningService, ...RunningService[]];
    const ctx = (stage: string): StageContext => ({
      options,
      service: main.process,
      enginePid: engine.pid,
      grpc: main.grpc,
      tables: main.tables,
      direct: createDirectClient(engine.endpoint),
      progress: progress(stage),
    });
    if (want.has("store")) {
      const result = await storePathStage(ctx("2 store path"));
      figures.push(...result.figures);
      raw["storePath"] = result.raw;
    }
    // Streams and growth run before the writes stage adds orders.
    if (want.has("streams")) {
      const streams = ctx("4 streams");
      await fillInventory(streams, streams.tables.inventory, options.scanItems);
      streams.progress(`seeding ${options.scanItems.toLocaleString("en-US")} orders`);
      await seed(streams.direct, streams.tables.orders, storedOrders(options.scanItems, 1_000, "scan"));
      const result = await streamsStage(streams);
      figures.push(...result.figures);
      raw["streams"] = result.raw;
    }
    if (want.has("growth")) {
      const growth = ctx("5 growth");
      for (const [i, size] of options.growthSizes.entries()) {
        await fillInventory(growth, bySize[i]!.tables.inventory, size);
      }
      const scansBySize = await scanGrowth(growth, bySize);
      figures.push(...scansBySize.figures);
      for (const service of bySize) await service.stop();
      const pages = await listPagesFigures(growth);
      figures.push(...pages.figures);
      raw["growth"] = { scans: scansBySize.raw, listOrders: pages.raw };
    }
    if (want.has("writes")) {
      const result = await writesStage(ctx("3 writes"));
      figures.push(...result.figures);
      raw["writes"] = result.raw;
    }
  } finally {
    for (const service of running) await service.stop();
    await engine.stop();
  }
}
figures.sort((a, b) => a.stage.localeCompare(b.stage));

const profiles = options.profile ? summariseProfiles(["service", "in-memory-service", "bare-servers"]) : [];
const missed = figures.filter((f) => met(f) === false);
const seconds = Math.round((performance.now() - t0) / 1000);
host.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
// Other work on the machine shows in the load average before the bench starts its own.
const busy = host.loadAverageAtStart[0]! > host.cpus / 2;
const heading = [
  `## commerce bench, ${options.quick ? "--quick" : "full run"}${options.profile ? " (profiled: the servers ran under --cpu-prof, so their figures are low)" : ""}`,
  "",
  `${startedAt.toISOString()}, ${seconds} s. ${host.cpus} × ${host.cpuModel}, ${host.memoryGb} GB, ${host.kernel}; ` +
    `Node ${process.version}; load average ${host.loadAverageAtStart.join(" / ")} at the start, ` +
    `${host.loadAverageAtEnd.join(" / ")} at the end. ` +
    `Each figure: median of ${options.rounds} alternating rounds (${options.scanRounds} for the stream stage's ` +
    `full-table scans, ${options.growthRounds} for the growth stage's) after ` +
    'a warm-up; "service" and "baseline" are the medians of each side, the result is the median of the ' +
    "per-round ratios (or differences).",
  ...(busy
    ? [
        "",
        `**The machine was busy when the bench started (load average ${host.loadAverageAtStart[0]} on ` +
          `${host.cpus} CPUs): latencies and ratios move with that load; take reference numbers on a quiet machine.**`,
      ]
    : []),
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

/**
 * Stage 4, streams: ScanItems and ScanOrders through the service at 1, 2, 4 and 8 segments
 * vs the SDK's own parallel scan of the same table with the same page size and
 * consistency, in items per second; then the service's memory (VmRSS) before, at its peak
 * and after a full 8-segment ScanOrders read by a deliberately slow consumer.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { SCAN_PAGE_LIMIT } from "../../src/store/order-bulk-store.js";
import type { StageContext, StageResult } from "../context.js";
import { parallelScan } from "../direct.js";
import { alternate, median, type Rounds } from "../measure.js";
import type { Figure } from "../report.js";

const STAGE = "4 streams";
export const SEGMENT_COUNTS = [1, 2, 4, 8];
/** ScanItems' page size (inventory-store.ts scans with Limit 100, as ScanOrders does). */
const SCAN_ITEMS_LIMIT = 100;

export interface ScanRun {
  items: number;
  seconds: number;
  itemsPerSecond: number;
}

async function timedScan(scan: () => Promise<number>): Promise<ScanRun> {
  const started = performance.now();
  const items = await scan();
  const seconds = (performance.now() - started) / 1000;
  return { items, seconds, itemsPerSecond: items / seconds };
}

/** The service's ScanItems / ScanOrders and their direct scans, by segment count. */
export function scans(ctx: StageContext) {
  const { grpc, direct, tables } = ctx;
  return {
    ScanItems: {
      service: (segments: number) =>
        timedScan(async () => {
          let n = 0;
          await grpc.serverStream(InventoryService.method.scanItems, { totalSegments: segments }, (m) => {
            n += m.items.length;
          });
          return n;
        }),
      direct: (segments: number) => timedScan(() => parallelScan(direct, tables.inventory, segments, SCAN_ITEMS_LIMIT)),
    },
    ScanOrders: {
      service: (segments: number) =>
        timedScan(async () => {
          let n = 0;
          await grpc.serverStream(OrderService.method.scanOrders, { totalSegments: segments }, (m) => {
            n += m.orders.length;
          });
          return n;
        }),
      direct: (segments: number) => timedScan(() => parallelScan(direct, tables.orders, segments, SCAN_PAGE_LIMIT)),
    },
  };
}

export async function streamsStage(ctx: StageContext): Promise<StageResult> {
  const { options } = ctx;
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  for (const [rpc, scan] of Object.entries(scans(ctx))) {
    const unit = rpc === "ScanItems" ? "items" : "orders";
    const bySegments: Record<number, Rounds<ScanRun>> = {};
    for (const segments of SEGMENT_COUNTS) {
      bySegments[segments] = await alternate(
        options.scanRounds,
        () => scan.service(segments),
        () => scan.direct(segments),
        (round) => ctx.progress(`${rpc}, ${segments} segments: round ${round}/${options.scanRounds}`),
        segments === SEGMENT_COUNTS[0],
      );
      const rounds = bySegments[segments];
      const ratios = rounds.a.map((a, i) => a.itemsPerSecond / rounds.b[i]!.itemsPerSecond);
      figures.push({
        stage: STAGE,
        label: `${rpc} of ${rounds.a[0]!.items.toLocaleString("en-US")} ${unit}, ${segments} segments`,
        service: median(rounds.a.map((r) => r.itemsPerSecond)),
        baseline: median(rounds.b.map((r) => r.itemsPerSecond)),
        unit: `${unit}/s`,
        value: median(ratios),
        valueUnit: "×",
        perRound: ratios,
      });
    }
    // Each side at its own best segment count, round by round.
    const perRound = Array.from({ length: options.scanRounds }, (_, i) => {
      const best = (side: "a" | "b") => Math.max(...SEGMENT_COUNTS.map((s) => bySegments[s]![side][i]!.itemsPerSecond));
      return best("a") / best("b");
    });
    const bestOf = (side: "a" | "b") =>
      Math.max(...SEGMENT_COUNTS.map((s) => median(bySegments[s]![side].map((r) => r.itemsPerSecond))));
    figures.push({
      stage: STAGE,
      label: `${rpc}: ${unit}/s at the best segment count vs the direct scan at its best`,
      service: bestOf("a"),
      baseline: bestOf("b"),
      unit: `${unit}/s`,
      value: median(perRound),
      valueUnit: "×",
      perRound,
      target: { op: ">=", value: 0.8 },
    });
    raw[rpc] = bySegments;
  }

  ctx.progress(`ScanOrders, 8 segments, read slowly (${options.slowConsumerPauseMs} ms a message): memory`);
  const memory = await slowConsumerMemory(ctx);
  raw["slowConsumer"] = memory;
  figures.push({
    stage: STAGE,
    label: `ScanOrders, 8 segments, slow consumer: server RSS growth (before ${memory.beforeMb.toFixed(0)} MB, peak ${memory.peakMb.toFixed(0)} MB, after ${memory.afterMb.toFixed(0)} MB, ${memory.seconds.toFixed(1)} s)`,
    value: memory.peakMb - memory.beforeMb,
    valueUnit: "MB",
    target: { op: "<=", value: 64 },
  });
  return { figures, raw };
}

async function slowConsumerMemory(ctx: StageContext) {
  const { service, grpc, options } = ctx;
  const beforeMb = service.rssMb();
  let peakMb = beforeMb;
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, service.rssMb());
  }, 50);
  const started = performance.now();
  let orders = 0;
  try {
    await grpc.serverStream(OrderService.method.scanOrders, { totalSegments: 8 }, async (m) => {
      orders += m.orders.length;
      await sleep(options.slowConsumerPauseMs);
    });
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  peakMb = Math.max(peakMb, service.rssMb());
  await sleep(1_000);
  return { orders, seconds, beforeMb, peakMb, afterMb: service.rssMb() };
}

/**
 * Stage 5, growth: does the cost grow with the data only as it must?
 * - ScanItems time per item at three table sizes (growthSizes: 25k, 50k, 100k in the full
 *   run). Each size is its own service process with its own tables, so the three are
 *   measured in the same rounds, one after another (order rotated each round), like every
 *   other figure; a full scan is linear, so the time per item should stay flat. The direct
 *   scan of each table runs next to it, to tell DynamoDB Local's own growth from ours.
 * - ListOrders latency for page 1 vs page 100 of one customer (1 in flight): a page is one
 *   Query from the token's key, so page 100 should cost what page 1 does. The same two
 *   Queries sent directly show what DynamoDB Local itself charges for reading from a key.
 */
import { performance } from "node:perf_hooks";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { orderToStored } from "../../src/store/order-mapping.js";
import type { DynamoKey } from "../../src/store/page-token.js";
import type { StageContext, StageResult } from "../context.js";
import { item, order, seed } from "../data.js";
import { listOrdersQuery, parallelScan } from "../direct.js";
import { alternate, median, medianOf } from "../measure.js";
import type { Figure } from "../report.js";
import type { RunningService } from "../service.js";

const STAGE = "5 growth";
const SEGMENTS = 4;
/** ScanItems' page size (inventory-store.ts scans with Limit 100). */
const PAGE = 100;

/** Puts `count` scan items into `table`. */
export async function fillInventory(ctx: StageContext, table: string, count: number): Promise<void> {
  ctx.progress(`seeding ${count.toLocaleString("en-US")} inventory items`);
  await seed(
    ctx.direct,
    table,
    Array.from({ length: count }, (_, i) => item(`scan-${String(i).padStart(7, "0")}`, 1n)),
  );
}

interface SizeRound {
  items: number;
  /** µs per item, the service's ScanItems and the direct scan. */
  service: number;
  direct: number;
}

async function scanMicrosPerItem(scan: () => Promise<number>): Promise<{ items: number; micros: number }> {
  const started = performance.now();
  const items = await scan();
  return { items, micros: ((performance.now() - started) * 1000) / items };
}

/**
 * ScanItems per item at each size. `services[i]` holds growthSizes[i] items in its
 * Inventory table.
 */
export async function scanGrowth(ctx: StageContext, services: readonly RunningService[]): Promise<StageResult> {
  const { options } = ctx;
  const measureSize = async (s: RunningService, serviceFirst: boolean): Promise<SizeRound> => {
    const viaService = () =>
      scanMicrosPerItem(async () => {
        let n = 0;
        await s.grpc.serverStream(InventoryService.method.scanItems, { totalSegments: SEGMENTS }, (m) => {
          n += m.items.length;
        });
        return n;
      });
    const direct = () => scanMicrosPerItem(() => parallelScan(ctx.direct, s.tables.inventory, SEGMENTS, PAGE));
    const [a, b] = serviceFirst ? [await viaService(), await direct()] : [await direct(), await viaService()];
    const [svc, dir] = serviceFirst ? [a, b] : [b, a];
    return { items: svc.items, service: svc.micros, direct: dir.micros };
  };
  // One pass over every size, the order rotated by round.
  const pass = async (round: number): Promise<SizeRound[]> => {
    const out: SizeRound[] = new Array(services.length);
    for (let k = 0; k < services.length; k++) {
      const i = (k + round) % services.length;
      out[i] = await measureSize(services[i]!, round % 2 === 0);
    }
    return out;
  };
  // Each size is its own process: each is warmed up on as many items as the largest
  // table holds (the smallest scanned four times in the full run, the largest once). With
  // one warm-up scan of the smallest table only, a full run's service took 40.4, 38.5 and
  // 26.9 µs per item at 25k, 50k and 100k items, its direct scans 26.7, 27.3 and 26.7: the
  // process that had scanned least was slowest per item (why, JIT or heap sizing, was not
  // measured).
  const largest = Math.max(...options.growthSizes);
  for (const [i, s] of services.entries()) {
    const scans = Math.ceil(largest / options.growthSizes[i]!);
    ctx.progress(
      `ScanItems at every size: warm-up, ${scans} scan(s) of ${options.growthSizes[i]!.toLocaleString("en-US")} items`,
    );
    for (let k = 0; k < scans; k++) await measureSize(s, k % 2 === 0);
  }
  const rounds: SizeRound[][] = [];
  for (let round = 1; round <= options.growthRounds; round++) {
    ctx.progress(`ScanItems at every size: round ${round}/${options.growthRounds}`);
    rounds.push(await pass(round));
  }
  const figures: Figure[] = services.map((_, i) => ({
    stage: STAGE,
    label: `ScanItems of ${rounds[0]![i]!.items.toLocaleString("en-US")} items, ${SEGMENTS} segments: µs per item`,
    service: median(rounds.map((r) => r[i]!.service)),
    baseline: median(rounds.map((r) => r[i]!.direct)),
    unit: "µs/item",
    value: median(rounds.map((r) => r[i]!.service / r[i]!.direct)),
    valueUnit: "×",
  }));
  // How far the slowest or fastest size is from the median size, each size's µs per item
  // the median of its rounds (the figures above). Taken per round instead, the largest of
  // three deviations would grow with every round's noise: in quick runs of the same code
  // its per-round values ranged from 4.5 to 38 %.
  const perSize = figures.map((f) => f.service!);
  const middle = median(perSize);
  const deviation = Math.max(...perSize.map((micros) => Math.abs(micros / middle - 1))) * 100;
  figures.push({
    stage: STAGE,
    label: "ScanItems µs per item: largest deviation of a size's median from the median size's",
    value: deviation,
    valueUnit: "%",
    target: { op: "<=", value: 20 },
  });
  return { figures, raw: { rounds } };
}

/**
 * ListOrders page 1 vs page 100 of a customer with 100 pages and a bit; next to it, the
 * same two Queries sent directly, to tell DynamoDB Local's own cost of reading from a
 * start key from ours.
 */
export async function listPagesFigures(ctx: StageContext): Promise<{ figures: Figure[]; raw: unknown }> {
  const { grpc, options } = ctx;
  const pageSize = options.listPageSize;
  const customerId = `pages-${Date.now().toString(36)}`;
  ctx.progress(`seeding ${pageSize * 100 + pageSize} orders of one customer`);
  await seed(
    ctx.direct,
    ctx.tables.orders,
    Array.from({ length: pageSize * 100 + pageSize }, (_, i) => orderToStored(order(customerId, i))),
  );
  let token = "";
  for (let page = 1; page < 100; page++) {
    const answer = await grpc.unary(OrderService.method.listOrders, { customerId, pageSize, pageToken: token });
    token = answer.nextPageToken;
    if (token === "") throw new Error(`ListOrders ended at page ${page}`);
  }
  const pageOf = (pageToken: string) => async () => {
    const answer = await grpc.unary(OrderService.method.listOrders, { customerId, pageSize, pageToken });
    if (answer.orders.length !== pageSize) throw new Error(`a page of ${answer.orders.length} orders`);
    return answer;
  };
  // The p50 of listCalls calls, one at a time.
  const calls = (page: () => Promise<unknown>) => async () => {
    const latencies: number[] = [];
    for (let i = 0; i < options.listCalls; i++) {
      const started = performance.now();
      await page();
      latencies.push(performance.now() - started);
    }
    return median(latencies);
  };
  const rounds = await alternate(options.rounds, calls(pageOf(token)), calls(pageOf("")), (round) =>
    ctx.progress(`ListOrders page 100 vs page 1: round ${round}/${options.rounds}`),
  );
  const ratio = medianOf(rounds, (a, b) => a / b);
  // The direct Query reads what the service's does: pageSize + 1 items (one past the page
  // says whether there is more), page 100 from after the 99 pages before it.
  const table = ctx.tables.orders;
  const page100Key = await listOrdersQuery(ctx.direct, table, customerId, 99 * pageSize);
  const directPage = (startKey?: DynamoKey) => () =>
    listOrdersQuery(ctx.direct, table, customerId, pageSize + 1, startKey);
  const direct = await alternate(options.rounds, calls(directPage(page100Key)), calls(directPage()), (round) =>
    ctx.progress(`the same Queries sent directly, page 100 vs page 1: round ${round}/${options.rounds}`),
  );
  const directRatio = medianOf(direct, (a, b) => a / b);
  return {
    figures: [
      {
        stage: STAGE,
        label: `ListOrders (page_size ${pageSize}), 1 in flight: page 100 p50 vs page 1 p50`,
        service: median(rounds.a),
        baseline: median(rounds.b),
        unit: "ms",
        value: ratio.median,
        valueUnit: "×",
        perRound: ratio.perRound,
        target: { op: "<=", value: 1.2 },
      },
      {
        stage: STAGE,
        label: "ListOrders' Query sent directly to DynamoDB Local, 1 in flight: page 100 p50 vs page 1 p50",
        service: median(direct.a),
        baseline: median(direct.b),
        unit: "ms",
        value: directRatio.median,
        valueUnit: "×",
        perRound: directRatio.perRound,
      },
    ],
    raw: { service: rounds, direct },
  };
}

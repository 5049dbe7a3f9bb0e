/**
 * Stage 5, growth: does the cost grow with the data only as it must?
 * - ScanItems time per item at three table sizes (the stream stage's size, half and twice
 *   it): a full scan should be linear, so the time per item should stay flat. The direct
 *   scan of the same table is measured alongside, round by round, to tell DynamoDB Local's
 *   own growth from ours.
 * - ListOrders latency for page 1 vs page 100 of one customer (1 in flight): a page is one
 *   Query from the token's key, so page 100 should cost what page 1 does.
 */
import { performance } from "node:perf_hooks";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { orderToStored } from "../../src/store/order-mapping.js";
import type { StageContext } from "../context.js";
import { item, order, seed } from "../data.js";
import { alternate, median, medianOf, type Rounds } from "../measure.js";
import type { Figure } from "../report.js";
import { type ScanRun, scans } from "./streams.js";

const STAGE = "5 growth";
/** The growth scans read as the stream stage's 4-segment ScanItems does (which gives the middle size). */
export const GROWTH_SEGMENTS = 4;

/** Puts scan items number `from` to `to` - 1 into the Inventory table. */
export async function fillInventory(ctx: StageContext, from: number, to: number): Promise<void> {
  ctx.progress(`seeding inventory items ${from.toLocaleString("en-US")}–${to.toLocaleString("en-US")}`);
  const items = [];
  for (let i = from; i < to; i++) items.push(item(`scan-${String(i).padStart(7, "0")}`, 1n));
  await seed(ctx.direct, ctx.tables.inventory, items);
}

/** ScanItems (service and direct, 4 segments) at the table's current size. */
export function scanAtSize(ctx: StageContext): Promise<Rounds<ScanRun>> {
  const scan = scans(ctx).ScanItems;
  return alternate(
    ctx.options.scanRounds,
    () => scan.service(GROWTH_SEGMENTS),
    () => scan.direct(GROWTH_SEGMENTS),
    (round) => ctx.progress(`ScanItems, ${GROWTH_SEGMENTS} segments: round ${round}/${ctx.options.scanRounds}`),
  );
}

const microsPerItem = (r: ScanRun) => (r.seconds * 1e6) / r.items;

/** Time per item at each size, and how far the service's strays from its median over sizes. */
export function growthFigures(sizes: readonly Rounds<ScanRun>[]): Figure[] {
  const figures: Figure[] = sizes.map((rounds) => ({
    stage: STAGE,
    label: `ScanItems of ${rounds.a[0]!.items.toLocaleString("en-US")} items, ${GROWTH_SEGMENTS} segments: µs per item`,
    service: median(rounds.a.map(microsPerItem)),
    baseline: median(rounds.b.map(microsPerItem)),
    unit: "µs/item",
    value: medianOf(rounds, (a, b) => microsPerItem(a) / microsPerItem(b)).median,
    valueUnit: "×",
  }));
  const perItem = figures.map((f) => f.service!);
  const middle = median(perItem);
  const spread = Math.max(...perItem.map((p) => Math.abs(p / middle - 1))) * 100;
  figures.push({
    stage: STAGE,
    label: "ScanItems µs per item: largest deviation from the median over the three sizes",
    value: spread,
    valueUnit: "%",
    target: { op: "<=", value: 20 },
  });
  return figures;
}

/** ListOrders page 1 vs page 100 of a customer with 100 pages and a bit. */
export async function listPagesFigure(ctx: StageContext): Promise<{ figure: Figure; raw: unknown }> {
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
  return {
    figure: {
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
    raw: rounds,
  };
}

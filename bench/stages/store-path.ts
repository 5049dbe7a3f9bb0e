/**
 * Stage 2, the store path: GetItem and GetOrder through the service (grpc-js client) vs
 * the same GetItem sent straight to the same DynamoDB Local with the SDK. Added p50 at 1
 * in flight, throughput ratio at 32.
 */
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { orderToStored } from "../../src/store/order-mapping.js";
import { processMeters, type StageContext, type StageResult } from "../context.js";
import { item, order, seed } from "../data.js";
import { getItem } from "../direct.js";
import { alternate, closedLoop, warmUpLoad } from "../measure.js";
import { cpuFigure, type Figure, roundsFigure } from "../report.js";

const STAGE = "2 store path";
const KEYS = 64;

export async function storePathStage(ctx: StageContext): Promise<StageResult> {
  const { grpc, direct, tables, options } = ctx;
  ctx.progress("seeding items and orders to read");
  const skus = Array.from({ length: KEYS }, (_, i) => `read-${i}`);
  const orders = Array.from({ length: KEYS }, (_, i) => order(`reader-${i}`, i));
  await seed(
    direct,
    tables.inventory,
    skus.map((sku) => item(sku, 100n)),
  );
  await seed(direct, tables.orders, orders.map(orderToStored));
  let n = 0;
  const reads = {
    GetItem: {
      service: () => grpc.unary(InventoryService.method.getItem, { sku: skus[n++ % KEYS]! }),
      direct: () => getItem(direct, tables.inventory, { sku: skus[n++ % KEYS]! }),
    },
    GetOrder: {
      service: () => {
        const o = orders[n++ % KEYS]!;
        return grpc.unary(OrderService.method.getOrder, {
          customerId: o.customerId,
          orderId: o.orderId,
          consistentRead: true,
        });
      },
      direct: () => {
        const o = orders[n++ % KEYS]!;
        return getItem(direct, tables.orders, { customer_id: o.customerId, order_id: o.orderId });
      },
    },
  };
  const meters = processMeters(ctx);
  // DynamoDB Local's JIT compiles its read path, the service's V8 its own (measured: the
  // direct side's throughput rose for about 15 s of such load after DynamoDB Local started).
  ctx.progress(`warming up both sides' reads, ${options.storeWarmUpMs / 1000} s at 32 in flight`);
  await warmUpLoad(
    Object.values(reads).flatMap((calls) => [calls.service, calls.direct]),
    32,
    options.storeWarmUpMs,
  );
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  for (const [rpc, calls] of Object.entries(reads)) {
    // 32 in flight first: its rounds warm both sides up further before the figure that
    // moves most with the machine, the p50 at 1 in flight.
    for (const concurrency of [32, 1]) {
      const rounds = await alternate(
        options.rounds,
        () => closedLoop(calls.service, concurrency, options.unaryMs, meters),
        () => closedLoop(calls.direct, concurrency, options.unaryMs, meters),
        (round) => ctx.progress(`${rpc}, ${concurrency} in flight: round ${round}/${options.rounds}`),
      );
      raw[`${rpc}@${concurrency}`] = rounds;
      if (concurrency === 1) {
        figures.push(
          roundsFigure(rounds, (r) => r.p50Ms, {
            stage: STAGE,
            label: `${rpc}, 1 in flight: p50 added to a direct GetItem`,
            unit: "ms",
            compare: "difference",
            target: { op: "<=", value: 0.5 },
          }),
        );
      } else {
        figures.push(cpuFigure(rounds, { stage: STAGE, label: `${rpc}, 32 in flight` }));
        figures.push(
          roundsFigure(rounds, (r) => r.rps, {
            stage: STAGE,
            label: `${rpc}, 32 in flight: throughput vs a direct GetItem`,
            unit: "calls/s",
            compare: "ratio",
            target: { op: ">=", value: 0.85 },
          }),
        );
      }
    }
  }
  return { figures, raw };
}

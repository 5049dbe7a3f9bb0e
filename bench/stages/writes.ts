/**
 * Stage 3, writes, each against its direct form with the same writes under the same
 * conditions (direct.ts): Transfer vs its TransactWriteItems, CreateOrder vs its
 * BatchGetItem + TransactWriteItems, both at 16 in flight; ImportOrders (4 streams of
 * 100-order messages) vs 4 writers of 25-item BatchWriteItems, in orders written per second.
 */
import { performance } from "node:perf_hooks";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { orderToProto } from "../../src/handlers/order-convert.js";
import { orderToStored } from "../../src/store/order-mapping.js";
import { processMeters, type StageContext, type StageResult } from "../context.js";
import { ADDRESS, item, order, seed } from "../data.js";
import { batchPut, createOrder, transfer } from "../direct.js";
import { alternate, closedLoop, type LoadResult, median, medianOf, type Rounds, warmUpLoad } from "../measure.js";
import { cpuFigure, type Figure, roundsFigure } from "../report.js";

const STAGE = "3 writes";
const IN_FLIGHT = 16;
const PAIRS = 16;
const SKUS = 32;
const IMPORT_STREAMS = 4;
const IMPORT_MESSAGE = 100;

function throughputFigure(label: string, rounds: Rounds<LoadResult>): Figure {
  return roundsFigure(rounds, (r) => r.rps, {
    stage: STAGE,
    label,
    unit: "calls/s",
    compare: "ratio",
    target: { op: ">=", value: 0.85 },
  });
}

export async function writesStage(ctx: StageContext): Promise<StageResult> {
  const { grpc, direct, tables, options } = ctx;
  ctx.progress("opening accounts and creating items");
  const run = Date.now().toString(36);
  const accounts = Array.from({ length: PAIRS * 2 }, (_, i) => `bench-${run}-${i}`);
  await Promise.all(
    accounts.map((accountId) =>
      grpc.unary(AccountService.method.openAccount, {
        accountId,
        owner: accountId,
        currencyCode: "EUR",
        initialBalance: { currencyCode: "EUR", units: 1_000_000_000n },
      }),
    ),
  );
  const skus = Array.from({ length: SKUS }, (_, i) => `stock-${run}-${i}`);
  await seed(
    direct,
    tables.inventory,
    skus.map((sku) => item(sku, 10n ** 12n)),
  );

  let k = 0;
  const amount = { currencyCode: "EUR", units: 0n, nanos: 10_000_000 };
  const pair = (i: number) => [accounts[(i % PAIRS) * 2]!, accounts[(i % PAIRS) * 2 + 1]!] as const;
  const transferViaService = () => {
    const i = k++;
    const [from, to] = pair(i);
    return grpc.unary(AccountService.method.transfer, {
      fromAccountId: from,
      toAccountId: to,
      amount,
      requestId: `t-${run}-${i}`,
    });
  };
  const transferDirect = () => {
    const i = k++;
    const [from, to] = pair(i);
    return transfer(direct, tables, from, to, `t-${run}-${i}`);
  };
  const lines = (i: number) => [
    { sku: skus[i % SKUS]!, quantity: 1n },
    { sku: skus[(i + 1) % SKUS]!, quantity: 2n },
  ];
  const createOrderViaService = () => {
    const i = k++;
    return grpc.unary(OrderService.method.createOrder, {
      customerId: `buyer-${i % IN_FLIGHT}`,
      lines: lines(i),
      shippingAddress: ADDRESS,
      requestId: `o-${run}-${i}`,
    });
  };
  const createOrderDirect = () => {
    const i = k++;
    return createOrder(direct, tables, `buyer-${i % IN_FLIGHT}`, lines(i), ADDRESS, `o-${run}-${i}`);
  };

  ctx.progress(`warming up both sides' transactions, ${options.writesWarmUpMs / 1000} s at ${IN_FLIGHT} in flight`);
  await warmUpLoad(
    [transferViaService, transferDirect, createOrderViaService, createOrderDirect],
    IN_FLIGHT,
    options.writesWarmUpMs,
  );
  const meters = processMeters(ctx);
  // No warm-up run of their own: the same work has just run.
  const transferRounds = await alternate(
    options.rounds,
    () => closedLoop(transferViaService, IN_FLIGHT, options.writesMs, meters),
    () => closedLoop(transferDirect, IN_FLIGHT, options.writesMs, meters),
    (round) => ctx.progress(`Transfer, ${IN_FLIGHT} in flight: round ${round}/${options.rounds}`),
    false,
  );
  const orderRounds = await alternate(
    options.rounds,
    () => closedLoop(createOrderViaService, IN_FLIGHT, options.writesMs, meters),
    () => closedLoop(createOrderDirect, IN_FLIGHT, options.writesMs, meters),
    (round) => ctx.progress(`CreateOrder, ${IN_FLIGHT} in flight: round ${round}/${options.rounds}`),
    false,
  );

  // Fresh orders every run (built before the clock starts), spread over the streams.
  const perStream = Math.ceil(options.importOrders / IMPORT_STREAMS);
  const fresh = () =>
    Array.from({ length: IMPORT_STREAMS }, (_, s) =>
      Array.from({ length: perStream }, (_, i) => order(`importer-${s}-${i % 50}`, k++)),
    );
  const ordersPerSecond = async (write: () => Promise<unknown>) => {
    const started = performance.now();
    await write();
    return (perStream * IMPORT_STREAMS) / ((performance.now() - started) / 1000);
  };
  const importRounds = await alternate(
    options.rounds,
    () => {
      const messages = fresh().map((orders) => {
        const out = [];
        for (let i = 0; i < orders.length; i += IMPORT_MESSAGE) {
          out.push({ orders: orders.slice(i, i + IMPORT_MESSAGE).map(orderToProto) });
        }
        return out;
      });
      return ordersPerSecond(() =>
        Promise.all(messages.map((stream) => grpc.clientStream(OrderService.method.importOrders, stream))),
      );
    },
    () => {
      const stored = fresh().map((orders) => orders.map(orderToStored));
      return ordersPerSecond(() => Promise.all(stored.map((items) => batchPut(direct, tables.orders, items))));
    },
    (round) => ctx.progress(`ImportOrders, ${IMPORT_STREAMS} streams: round ${round}/${options.rounds}`),
  );
  const importRatio = medianOf(importRounds, (a, b) => a / b);
  return {
    figures: [
      cpuFigure(transferRounds, { stage: STAGE, label: `Transfer, ${IN_FLIGHT} in flight` }),
      throughputFigure(`Transfer, ${IN_FLIGHT} in flight: vs its direct TransactWriteItems`, transferRounds),
      cpuFigure(orderRounds, { stage: STAGE, label: `CreateOrder, ${IN_FLIGHT} in flight` }),
      throughputFigure(
        `CreateOrder, ${IN_FLIGHT} in flight: vs its direct BatchGetItem + TransactWriteItems`,
        orderRounds,
      ),
      {
        stage: STAGE,
        label: `ImportOrders, ${IMPORT_STREAMS} streams: orders/s vs direct BatchWriteItem`,
        service: median(importRounds.a),
        baseline: median(importRounds.b),
        unit: "orders/s",
        value: importRatio.median,
        valueUnit: "×",
        perRound: importRatio.perRound,
        target: { op: ">=", value: 0.85 },
      },
    ],
    raw: { transfer: transferRounds, createOrder: orderRounds, importOrders: importRounds },
  };
}

/**
 * `npm run bench`: ratios measured side by side in one run, never absolute timings
 * (machines here are shared and noisy). Each pair runs in alternating rounds against the
 * same server and the same in-memory DynamoDB Local; the report gives the median of the
 * per-round ratios, so a slow moment hits both sides of a pair alike.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { startEmbeddedDynamoDb } from "../src/engine/embedded-dynamodb.js";
import { InventoryService } from "../src/gen/commerce/v1/inventory_service_pb.js";
import { createApp } from "../src/server.js";
import { createStoreClient } from "../src/store/dynamo.js";
import { ensureTables, tableNames } from "../src/store/tables.js";
import { listenGrpc } from "../src/transport/grpc.js";
import { listenHttp } from "../src/transport/http.js";
import { connectClient, grpcClient, type RpcClient } from "../test/support/rpc-client.js";

const M = InventoryService.method;
const ROUNDS = 5;
const CALLS = 200;
const CONCURRENCY = 8;

async function timed(work: () => Promise<unknown>, calls: number, concurrency: number): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < calls) await work();
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function pair(name: string, a: [string, () => Promise<number>], b: [string, () => Promise<number>]) {
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first, so warm-up and drift do not favour one.
    let ta: number;
    let tb: number;
    if (round % 2 === 0) {
      ta = await a[1]();
      tb = await b[1]();
    } else {
      tb = await b[1]();
      ta = await a[1]();
    }
    ratios.push(tb / ta);
  }
  console.log(
    `${name.padEnd(48)} ${b[0]} takes ${median(ratios).toFixed(2)}× the time of ${a[0]}  ` +
      `(rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
  );
}

async function main() {
  const engine = await startEmbeddedDynamoDb({});
  const client = createStoreClient({ endpoint: engine.endpoint, region: "us-east-1", credentials: "local" });
  await ensureTables(client.raw, "");
  const app = createApp({
    client,
    tables: tableNames(""),
    logger: pino({ level: "silent" }),
    pageTokenSecret: randomBytes(32),
    maxMessageBytes: 4 << 20,
    maxDeadlineMs: 60_000,
  });
  const grpcPort = await listenGrpc(app.grpc.server, "127.0.0.1", 0);
  const httpPort = await listenHttp(app.http, "127.0.0.1", 0);
  const g: RpcClient = grpcClient(`127.0.0.1:${grpcPort}`);
  const c: RpcClient = connectClient(`http://127.0.0.1:${httpPort}`);
  try {
    const item = (sku: string, quantity: bigint) => ({
      item: { sku, name: sku, unitPrice: { currencyCode: "EUR", units: 1n }, quantity },
    });
    await g.unary(M.createItem, item("bench", 10n ** 12n));
    console.log(`commerce bench: ${ROUNDS} alternating rounds of ${CALLS} calls, ${CONCURRENCY} in flight\n`);

    await pair(
      "GetItem: gRPC (grpc-js) vs Connect JSON (HTTP/1.1)",
      ["gRPC", () => timed(() => g.unary(M.getItem, { sku: "bench" }), CALLS, CONCURRENCY)],
      ["Connect", () => timed(() => c.unary(M.getItem, { sku: "bench" }), CALLS, CONCURRENCY)],
    );

    let n = 0;
    await pair(
      "AdjustStock: atomic update vs with request_id",
      ["atomic", () => timed(() => g.unary(M.adjustStock, { sku: "bench", delta: -1n }), CALLS, CONCURRENCY)],
      [
        "idempotent",
        () =>
          timed(() => g.unary(M.adjustStock, { sku: "bench", delta: -1n, requestId: `b-${n++}` }), CALLS, CONCURRENCY),
      ],
    );

    // Spread over many skus: the per-key queue is not the bottleneck here.
    const skus = Array.from({ length: 32 }, (_, i) => `spread-${i}`);
    for (const s of skus) await g.unary(M.createItem, item(s, 10n ** 12n));
    let k = 0;
    await pair(
      "AdjustStock with request_id: one hot sku vs 32 skus",
      [
        "32 skus",
        () =>
          timed(
            () => g.unary(M.adjustStock, { sku: skus[k++ % 32]!, delta: -1n, requestId: `s-${k}` }),
            CALLS,
            CONCURRENCY,
          ),
      ],
      [
        "hot sku",
        () =>
          timed(() => g.unary(M.adjustStock, { sku: "bench", delta: -1n, requestId: `h-${k++}` }), CALLS, CONCURRENCY),
      ],
    );

    for (let i = 0; i < 1500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => g.unary(M.createItem, item(`scan-${i + j}`, 1n))));
    }
    const scan = (segments: number) => async () => {
      const started = process.hrtime.bigint();
      let count = 0;
      for await (const batch of g.serverStream(M.scanItems, { totalSegments: segments })) count += batch.items.length;
      if (count < 1500) throw new Error(`scan saw ${count} items`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await pair("ScanItems (1,500+ items): 4 segments vs 1", ["4 segments", scan(4)], ["1 segment", scan(1)]);
  } finally {
    g.close();
    c.close();
    app.grpc.server.forceShutdown();
    app.http.closeAllConnections();
    app.http.close();
    client.destroy();
    await engine.stop();
  }
}

await main();

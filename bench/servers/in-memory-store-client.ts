/**
 * A StoreClient whose DynamoDB is a Map in this process, for the framework-overhead stage:
 * it measures everything of ours (transports, middleware, handlers, stores, the circuit
 * breaker) with the store's I/O taken out. Only GetItem is answered (the stage's RPC and
 * the health probe); any other command rejects, so a stage that strays fails loudly
 * instead of measuring nothing. The AWS SDK is not in the loop: its cost is measured by the
 * store-path stage, against the same SDK called directly.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, type GetCommandInput } from "@aws-sdk/lib-dynamodb";
import { createStoreBreaker } from "../../src/resilience/circuit-breaker.js";
import type { Stored } from "../../src/store/attributes.js";
import type { StoreClient } from "../../src/store/dynamo.js";

/** Items of the Inventory table `table`, by sku; GetItem on any other table finds nothing. */
export function createInMemoryStoreClient(table: string, items: readonly Stored[]): StoreClient {
  const bySku = new Map(items.map((item) => [String(item["sku"]), item]));
  // Never sent anything (nothing runs ensureTables against memory); a StoreClient has one.
  const raw = new DynamoDBClient({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "memory", secretAccessKey: "memory" },
  });
  const doc = DynamoDBDocumentClient.from(raw);
  const lookUp = (input: GetCommandInput) =>
    input.TableName === table ? bySku.get(String(input.Key?.["sku"])) : undefined;
  const send = async (command: unknown) => {
    if (!(command instanceof GetCommand)) {
      throw new Error(`the in-memory store answers GetItem only, not ${(command as object).constructor.name}`);
    }
    const item = lookUp(command.input);
    return item ? { $metadata: {}, Item: item } : { $metadata: {} };
  };
  doc.send = send as unknown as DynamoDBDocumentClient["send"];
  const breaker = createStoreBreaker();
  const call = <T>(fn: (d: DynamoDBDocumentClient) => Promise<T>) => breaker.run(() => fn(doc));
  return {
    doc,
    raw,
    call,
    callAtMostOnce: call,
    // Through the breaker, as the real getItem; without an SDK command, which the real one
    // does not build either (it sends its first attempt itself: direct-calls.ts).
    getItem: (input) => breaker.run(async () => lookUp(input)),
    readPage: (operation) => answersGetItemOnly(operation),
    batchGet: () => answersGetItemOnly("BatchGetItem"),
    batchWrite: () => answersGetItemOnly("BatchWriteItem"),
    transactWrite: () => answersGetItemOnly("TransactWriteItems"),
    async ping(probeTable) {
      await call((d) => d.send(new GetCommand({ TableName: probeTable, Key: { request_id: "__health_probe__" } })));
    },
    breaker,
    destroy() {
      breaker.shutdown();
      doc.destroy();
      raw.destroy();
    },
  };
}

function answersGetItemOnly(operation: string): Promise<never> {
  return Promise.reject(new Error(`the in-memory store answers GetItem only, not ${operation}`));
}

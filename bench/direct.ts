/**
 * The "direct" side of every comparison: the same DynamoDB work the service does for an
 * RPC, sent from the bench process with the AWS SDK as a caller gets it (a stock
 * DynamoDBClient: its default node:http handler and keep-alive agent, standard retries;
 * the DocumentClient with the service's number settings, wrapNumbers) to the same
 * DynamoDB Local. The service's client is tuned for its load (src/store/dynamo.ts); this
 * one is deliberately not. Requests are built with the service's own pure builders, so both sides
 * send the same writes under the same conditions.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from "@aws-sdk/lib-dynamodb";
import { type Order, type OrderLine, orderTotal } from "../src/domain/orders.js";
import { transferWrites } from "../src/store/account-store.js";
import { readMoney, type Stored } from "../src/store/attributes.js";
import { idempotencyRecordPut } from "../src/store/idempotency.js";
import { orderIdTime, timeOrderedId } from "../src/store/ids.js";
import { orderToStored } from "../src/store/order-mapping.js";
import { listOrdersRead, takeStockUpdate } from "../src/store/order-store.js";
import type { DynamoKey } from "../src/store/page-token.js";
import { afterStartKey, queryPageRequest } from "../src/store/query-page.js";
import type { TableNames } from "../src/store/tables.js";
import { clientRequestToken } from "../src/store/transact.js";

export type DirectClient = DynamoDBDocumentClient;

export function createDirectClient(endpoint: string): DirectClient {
  const raw = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 4,
    retryMode: "standard",
  });
  return DynamoDBDocumentClient.from(raw, {
    unmarshallOptions: { wrapNumbers: true },
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** GetItem, strongly consistent (as GetItem and GetOrder read by default). */
export async function getItem(doc: DirectClient, table: string, key: Record<string, unknown>): Promise<Stored> {
  const out = await doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
  if (out.Item === undefined) throw new Error(`no item ${JSON.stringify(key)} in ${table}`);
  return out.Item;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * ListOrders' Query for every order of a customer, oldest first (what a ListOrders with no
 * filter reads, built by the service's own listOrdersRead): `limit` items from
 * `startKey`; the key to read on from.
 */
export async function listOrdersQuery(
  doc: DirectClient,
  table: string,
  customerId: string,
  limit: number,
  startKey?: DynamoKey,
): Promise<DynamoKey | undefined> {
  const read = listOrdersRead(table, {
    customerId,
    status: undefined,
    created: { fromMs: undefined, toMs: undefined },
    newestFirst: false,
    pageSize: limit,
    pageToken: "",
  });
  if (read === undefined) throw new Error("ListOrders' read of all time is empty");
  const out = await doc.send(new QueryCommand(queryPageRequest(read, limit, startKey)));
  const items = afterStartKey(read, startKey, out.Items ?? []);
  if (items.length !== limit) throw new Error(`a Query of ${items.length} orders, not ${limit}`);
  return out.LastEvaluatedKey as DynamoKey | undefined;
}

/** Transfer's transaction: debit, credit, transfer record, two ledger entries, idempotency record. */
export async function transfer(
  doc: DirectClient,
  tables: TableNames,
  from: string,
  to: string,
  requestId: string,
): Promise<void> {
  const amount = { currencyCode: "EUR", units: 0n, nanos: 10_000_000 };
  const t = {
    fromAccountId: from,
    toAccountId: to,
    amount,
    requestId,
    transferId: timeOrderedId("TRF"),
    createdAt: new Date().toISOString(),
  };
  const request = { requestId, operation: "Transfer", command: { from, to, amount } };
  await doc.send(
    new TransactWriteCommand({
      TransactItems: [
        ...transferWrites(tables, t).map((w) => w.item),
        idempotencyRecordPut(tables.idempotencyKeys, request, t, nowSeconds()),
      ],
      ClientRequestToken: clientRequestToken(`${requestId}#${t.transferId}`),
    }),
  );
}

/**
 * CreateOrder's work: the lines' prices in one consistent BatchGetItem, then one
 * transaction putting the order, taking each line's stock and recording the request_id.
 */
export async function createOrder(
  doc: DirectClient,
  tables: TableNames,
  customerId: string,
  lines: readonly { sku: string; quantity: bigint }[],
  shippingAddress: Order["shippingAddress"],
  requestId: string,
): Promise<void> {
  const read = await doc.send(
    new BatchGetCommand({
      RequestItems: { [tables.inventory]: { Keys: lines.map((l) => ({ sku: l.sku })), ConsistentRead: true } },
    }),
  );
  const bySku = new Map((read.Responses?.[tables.inventory] ?? []).map((s) => [String(s["sku"]), s]));
  const priced: OrderLine[] = lines.map((l) => ({
    ...l,
    unitPrice: readMoney(bySku.get(l.sku)!, "price", "currency"),
  }));
  const orderId = timeOrderedId("ORD");
  const createdAt = new Date(orderIdTime(orderId)).toISOString();
  const order: Order = {
    customerId,
    orderId,
    lines: priced,
    total: orderTotal(priced[0]!.unitPrice.currencyCode, priced)!,
    status: "PENDING",
    shippingAddress,
    version: 1n,
    createdAt,
    updatedAt: createdAt,
  };
  const request = { requestId, operation: "CreateOrder", command: { customerId, lines, shippingAddress } };
  await doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            TableName: tables.orders,
            Item: orderToStored(order),
            ConditionExpression: "attribute_not_exists(order_id)",
          },
        },
        ...priced.map((l) => takeStockUpdate(tables.inventory, l, createdAt)),
        idempotencyRecordPut(tables.idempotencyKeys, request, order, nowSeconds()),
      ],
      ClientRequestToken: clientRequestToken(`${requestId}#${orderId}`),
    }),
  );
}

/** Puts every item, 25 a BatchWriteItem, one request after another; unprocessed items are sent again. */
export async function batchPut(doc: DirectClient, table: string, items: readonly Stored[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
    }
  }
}

/**
 * A parallel scan as the SDK's documentation shows it: every segment read page after page
 * at once, with the service's page size (`limit`) and consistency. Resolves to the items read.
 */
export async function parallelScan(doc: DirectClient, table: string, segments: number, limit: number): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await doc.send(
          new ScanCommand({
            TableName: table,
            ConsistentRead: true,
            Segment: segment,
            TotalSegments: segments,
            Limit: limit,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        count += out.Items?.length ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey !== undefined);
      return count;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

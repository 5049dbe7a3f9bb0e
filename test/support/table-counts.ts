/**
 * How many items each table holds, counted with consistent scans (Select COUNT), so a test
 * can say "this changed nothing" by comparing two counts around requests that were
 * refused.
 */
import { type DynamoDBClient, ScanCommand, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import type { TableKey, TableNames } from "../../src/store/tables.js";

export type TableCounts = Record<TableKey, number>;

async function countTable(client: DynamoDBClient, table: string): Promise<number> {
  let count = 0;
  let start: ScanCommandOutput["LastEvaluatedKey"];
  do {
    const page = await client.send(
      new ScanCommand({ TableName: table, Select: "COUNT", ConsistentRead: true, ExclusiveStartKey: start }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

export async function countItems(client: DynamoDBClient, tables: TableNames): Promise<TableCounts> {
  const keys = Object.keys(tables).filter((k): k is TableKey => k !== "statusIndex");
  const counts = await Promise.all(keys.map((k) => countTable(client, tables[k])));
  return Object.fromEntries(keys.map((k, i) => [k, counts[i]!])) as TableCounts;
}

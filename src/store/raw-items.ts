/**
 * Items in DynamoDB's own form (AttributeValues, as the raw client reads and writes them,
 * not the document client's), for the operator CLI's export and import: one page of a
 * scan, one batch of puts.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandInput,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";

export interface RawPage {
  items: Record<string, AttributeValue>[];
  lastEvaluatedKey: Record<string, AttributeValue> | undefined;
}

export async function scanRawPage(client: DynamoDBClient, request: ScanCommandInput): Promise<RawPage> {
  const out = await client.send(new ScanCommand(request));
  return { items: out.Items ?? [], lastEvaluatedKey: out.LastEvaluatedKey };
}

/** One BatchWriteItem to `table`; resolves to the writes DynamoDB left unprocessed. */
export async function batchWriteRaw(
  client: DynamoDBClient,
  table: string,
  writes: readonly WriteRequest[],
): Promise<WriteRequest[]> {
  const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: [...writes] } }));
  return out.UnprocessedItems?.[table] ?? [];
}

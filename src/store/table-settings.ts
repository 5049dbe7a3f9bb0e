/**
 * An existing table's settings, read and changed: its time to live, its provisioned
 * capacity, and the wait until it is ACTIVE again. For ensureTables (tables.ts, which owns
 * the definitions and creation) and the operator CLI (`tables set-capacity`, `tables ttl`,
 * the drift report).
 */
import {
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
  type TimeToLiveDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";

/** Per-call SDK options: the caller's abort signal. */
type Send = { abortSignal?: AbortSignal };

export async function timeToLive(
  client: DynamoDBClient,
  name: string,
  send: Send = {},
): Promise<TimeToLiveDescription | undefined> {
  return (await client.send(new DescribeTimeToLiveCommand({ TableName: name }), send)).TimeToLiveDescription;
}

/** TTL is on, or being turned on. */
export function ttlIsOn(ttl: TimeToLiveDescription | undefined): boolean {
  return ttl?.TimeToLiveStatus === "ENABLED" || ttl?.TimeToLiveStatus === "ENABLING";
}

/** Turns TTL on `attribute` on, or (enabled false) off; DynamoDB refuses a change to the current state. */
export async function setTimeToLive(
  client: DynamoDBClient,
  name: string,
  enabled: boolean,
  attribute: string | undefined,
  send: Send = {},
): Promise<void> {
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { Enabled: enabled, AttributeName: attribute },
    }),
    send,
  );
}

/** Waits until the table is ACTIVE, polling every 1–10 s, for at most `maxWaitSeconds`. */
export async function waitUntilActive(
  client: DynamoDBClient,
  name: string,
  options: { maxWaitSeconds: number; signal?: AbortSignal | undefined },
): Promise<void> {
  await waitUntilTableExists(
    {
      client,
      maxWaitTime: options.maxWaitSeconds,
      // The waiter's default minimum is 20 s between polls; far too slow for a start-up path.
      minDelay: 1,
      maxDelay: 10,
      ...(options.signal === undefined ? {} : { abortSignal: options.signal }),
    },
    { TableName: name },
  );
}

/**
 * Provisioned capacity for the table and each of its GSIs (switching an on-demand table to
 * provisioned needs both), then waits until the table is active again.
 */
export async function provisionCapacity(
  client: DynamoDBClient,
  table: TableDescription & { TableName: string },
  read: number,
  write: number,
): Promise<void> {
  const throughput = { ReadCapacityUnits: read, WriteCapacityUnits: write };
  await client.send(
    new UpdateTableCommand({
      TableName: table.TableName,
      BillingMode: "PROVISIONED",
      ProvisionedThroughput: throughput,
      ...(table.GlobalSecondaryIndexes?.length
        ? {
            GlobalSecondaryIndexUpdates: table.GlobalSecondaryIndexes.map((g) => ({
              Update: { IndexName: g.IndexName, ProvisionedThroughput: throughput },
            })),
          }
        : {}),
    }),
  );
  await waitUntilActive(client, table.TableName, { maxWaitSeconds: 600 });
}

/**
 * Changes to an existing table's settings, for the operator CLI (`tables set-capacity`,
 * `tables ttl`, and the drift report's reading of TTL): its time to live and its
 * provisioned capacity. The definitions, creation and start-up checks are tables.ts's.
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

export async function timeToLive(client: DynamoDBClient, name: string): Promise<TimeToLiveDescription | undefined> {
  return (await client.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription;
}

/** Turns TTL on `attribute` on, or (enabled false) off; DynamoDB refuses a change to the current state. */
export async function setTimeToLive(
  client: DynamoDBClient,
  name: string,
  enabled: boolean,
  attribute: string | undefined,
): Promise<void> {
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { Enabled: enabled, AttributeName: attribute },
    }),
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
  await waitUntilTableExists({ client, maxWaitTime: 600, minDelay: 1, maxDelay: 10 }, { TableName: table.TableName });
}

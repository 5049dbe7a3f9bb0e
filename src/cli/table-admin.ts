/**
 * `tables create | describe | set-capacity | ttl`: the table definitions of
 * src/store/tables.ts (the one source of truth, shared with the server), applied and
 * checked. An existing table is never changed by `create`: how it differs is reported.
 */
import {
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TimeToLiveDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import {
  type Billing,
  createTable,
  createTableInput,
  describeTable,
  ensureTtl,
  type TableDefinition,
} from "../store/tables.js";
import { type TableReport, tableDrift, tableReport } from "./table-report.js";

export interface CreateOutcome {
  table: string;
  outcome: "created" | "matches" | "differs";
  differences: string[];
}

async function timeToLive(client: DynamoDBClient, name: string): Promise<TimeToLiveDescription | undefined> {
  return (await client.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription;
}

/** Creates the table (with TTL) if missing; otherwise compares it with the definition. */
export async function createOrCompare(
  client: DynamoDBClient,
  definition: TableDefinition,
  billing: Billing,
): Promise<CreateOutcome> {
  const name = definition.create.TableName;
  const existing = await describeTable(client, name);
  if (existing === undefined && (await createTable(client, createTableInput(definition, billing)))) {
    if (definition.ttlAttribute !== undefined) await ensureTtl(client, name, definition.ttlAttribute);
    return { table: definition.logicalName, outcome: "created", differences: [] };
  }
  // Existing, or created by someone else between our describe and create.
  const table = existing ?? (await describeTable(client, name));
  if (table === undefined) throw new Error(`table ${name} disappeared while it was being checked`);
  const differences = tableDrift(definition, billing, table, await timeToLive(client, name));
  return { table: definition.logicalName, outcome: differences.length === 0 ? "matches" : "differs", differences };
}

export async function describeTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
): Promise<TableReport[]> {
  return Promise.all(
    definitions.map(async (d) => {
      const table = await describeTable(client, d.create.TableName);
      const ttl = table === undefined ? undefined : await timeToLive(client, d.create.TableName);
      return tableReport(d, table, ttl);
    }),
  );
}

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  await waitUntilTableExists({ client, maxWaitTime: 600, minDelay: 1, maxDelay: 10 }, { TableName: name });
}

/**
 * Provisioned capacity for the table and each of its GSIs (switching an on-demand table to
 * provisioned needs both). Resolves to false when it already had exactly this capacity
 * (DynamoDB refuses an update that changes nothing).
 */
export async function setCapacity(
  client: DynamoDBClient,
  definition: TableDefinition,
  read: number,
  write: number,
): Promise<boolean> {
  const name = definition.create.TableName;
  const table = await describeTable(client, name);
  if (table === undefined) throw new Error(`table ${name} does not exist: run \`tables create\` first`);
  const report = tableReport(definition, table, undefined);
  const same = (b: TableReport["billing"]) => b?.mode === "provisioned" && b.read === read && b.write === write;
  if (same(report.billing) && (report.indexes ?? []).every((i) => same(i.billing))) return false;
  const throughput = { ReadCapacityUnits: read, WriteCapacityUnits: write };
  await client.send(
    new UpdateTableCommand({
      TableName: name,
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
  await waitUntilActive(client, name);
  return true;
}

export class TtlNotDefinedError extends Error {
  override readonly name = "TtlNotDefinedError";
}

/**
 * Turns TTL on (on the definition's attribute) or off. Resolves to false when it already
 * was (DynamoDB refuses a change to the current state).
 */
export async function setTtl(client: DynamoDBClient, definition: TableDefinition, enable: boolean): Promise<boolean> {
  const name = definition.create.TableName;
  if (enable && definition.ttlAttribute === undefined) {
    throw new TtlNotDefinedError(`${definition.logicalName} has no TTL attribute in its definition`);
  }
  const current = await timeToLive(client, name);
  const on = current?.TimeToLiveStatus === "ENABLED" || current?.TimeToLiveStatus === "ENABLING";
  if (enable ? on && current?.AttributeName === definition.ttlAttribute : !on) return false;
  const attribute = enable ? definition.ttlAttribute : current?.AttributeName;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { Enabled: enable, AttributeName: attribute },
    }),
  );
  return true;
}

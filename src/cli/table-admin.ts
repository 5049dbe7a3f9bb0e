/**
 * `tables create | describe | set-capacity | ttl`: the table definitions of
 * src/store/tables.ts (the one source of truth, shared with the server), applied and
 * checked. An existing table is never changed by `create`: how it differs is reported.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { provisionCapacity, setTimeToLive, timeToLive, ttlIsOn } from "../store/table-settings.js";
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
  await provisionCapacity(client, { ...table, TableName: name }, read, write);
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
  const on = ttlIsOn(current);
  if (enable ? on && current?.AttributeName === definition.ttlAttribute : !on) return false;
  const attribute = enable ? definition.ttlAttribute : current?.AttributeName;
  await setTimeToLive(client, name, enable, attribute);
  return true;
}

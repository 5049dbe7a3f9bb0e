/**
 * The tables: their names, schemas (pure data, unit-tested in test/store/tables.test.ts)
 * and `ensureTables`, which creates whatever is missing. Only keys and indexes are
 * declared: DynamoDB is schemaless beyond them, and each store documents its attributes.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
} from "@aws-sdk/client-dynamodb";
import { setTimeToLive, timeToLive, ttlIsOn, waitUntilActive } from "./table-settings.js";

/** Every table's full name (prefix applied) and the one index name. Frozen. */
export interface TableNames {
  readonly orders: string;
  readonly inventory: string;
  readonly accounts: string;
  readonly transfers: string;
  /** Two entries per transfer, one under each account: ListTransfers in both directions. */
  readonly ledger: string;
  readonly refunds: string;
  readonly idempotencyKeys: string;
  /** GSI on Orders: hash `status`, range `created_at`. Not prefixed (index names are per table). */
  readonly statusIndex: "StatusIndex";
}

export type TableKey = Exclude<keyof TableNames, "statusIndex">;

/** The unprefixed names. Fixed: operators, scripts and IAM policies rely on them. */
const BASE_NAMES: Readonly<Record<TableKey, string>> = {
  orders: "Orders",
  inventory: "Inventory",
  accounts: "Accounts",
  transfers: "Transfers",
  ledger: "Ledger",
  refunds: "Refunds",
  idempotencyKeys: "IdempotencyKeys",
};

export const STATUS_INDEX = "StatusIndex";

/** DynamoDB table names: 3–255 of [A-Za-z0-9_.-]. */
const PREFIX_PATTERN = /^[A-Za-z0-9_.-]*$/;
const MAX_TABLE_NAME = 255;
const LONGEST_BASE = Math.max(...Object.values(BASE_NAMES).map((n) => n.length));

/** Throws on a prefix that would make an invalid table name (config validates it first). */
export function tableNames(prefix: string): TableNames {
  if (!PREFIX_PATTERN.test(prefix) || prefix.length + LONGEST_BASE > MAX_TABLE_NAME) {
    throw new RangeError(
      `table prefix must match [A-Za-z0-9_.-] and be at most ${MAX_TABLE_NAME - LONGEST_BASE} characters`,
    );
  }
  return Object.freeze({
    orders: prefix + BASE_NAMES.orders,
    inventory: prefix + BASE_NAMES.inventory,
    accounts: prefix + BASE_NAMES.accounts,
    transfers: prefix + BASE_NAMES.transfers,
    ledger: prefix + BASE_NAMES.ledger,
    refunds: prefix + BASE_NAMES.refunds,
    idempotencyKeys: prefix + BASE_NAMES.idempotencyKeys,
    statusIndex: STATUS_INDEX,
  });
}

/** A CreateTable request whose table name is known. */
export type CreateTableInput = CreateTableCommandInput & { TableName: string };

export interface TableDefinition {
  readonly key: TableKey;
  /** The unprefixed name ("Orders"): what operators and export files call the table. */
  readonly logicalName: string;
  /** The CreateTable request, complete (tags included): sent as is, on demand. */
  readonly create: CreateTableInput;
  /** Attribute DynamoDB TTL deletes items by (epoch seconds); undefined: no TTL. */
  readonly ttlAttribute: string | undefined;
}

/** A table keyed by string attributes: hash, and range if given. */
function keyed(names: TableNames, key: TableKey, hash: string, range?: string): CreateTableInput {
  return {
    TableName: names[key],
    // On demand: no capacity to plan, and DynamoDB Local ignores capacity anyway.
    BillingMode: "PAY_PER_REQUEST",
    // For cost allocation and IAM conditions. DynamoDB Local accepts tags on CreateTable but
    // cannot list them ("Tagging is not currently supported"), so nothing compares them.
    Tags: [
      { Key: "service", Value: "commerce" },
      { Key: "table", Value: BASE_NAMES[key] },
    ],
    AttributeDefinitions: [
      { AttributeName: hash, AttributeType: "S" },
      ...(range === undefined ? [] : [{ AttributeName: range, AttributeType: "S" as const }]),
    ],
    KeySchema: [
      { AttributeName: hash, KeyType: "HASH" },
      ...(range === undefined ? [] : [{ AttributeName: range, KeyType: "RANGE" as const }]),
    ],
  };
}

/** Every table's definition, in a fixed order. Pure: no I/O, a fresh object each call. */
export function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const names = tableNames(prefix);
  const orders = keyed(names, "orders", "customer_id", "order_id");
  orders.AttributeDefinitions = [
    ...(orders.AttributeDefinitions ?? []),
    { AttributeName: "status", AttributeType: "S" },
    { AttributeName: "created_at", AttributeType: "S" },
  ];
  orders.GlobalSecondaryIndexes = [
    {
      IndexName: names.statusIndex,
      KeySchema: [
        { AttributeName: "status", KeyType: "HASH" },
        // ISO-8601 UTC strings sort by time: ListOrdersByStatus bounds and orders on it.
        { AttributeName: "created_at", KeyType: "RANGE" },
      ],
      // ALL: ListOrdersByStatus returns whole orders without a read per item.
      Projection: { ProjectionType: "ALL" },
    },
  ];
  const definition = (key: TableKey, create: CreateTableInput, ttlAttribute?: string): TableDefinition => ({
    key,
    logicalName: BASE_NAMES[key],
    create,
    ttlAttribute,
  });
  return Object.freeze([
    definition("orders", orders),
    definition("inventory", keyed(names, "inventory", "sku")),
    definition("accounts", keyed(names, "accounts", "account_id")),
    definition("transfers", keyed(names, "transfers", "transfer_id")),
    // entry_key sorts by time (it starts with the transfer's timestamp), so a Query on
    // account_id pages through an account's transfers in time order, both directions.
    definition("ledger", keyed(names, "ledger", "account_id", "entry_key")),
    definition("refunds", keyed(names, "refunds", "refund_id")),
    // Keys expire after 24 h (API.md); TTL deletes them some time later, readers ignore
    // expired ones meanwhile.
    definition("idempotencyKeys", keyed(names, "idempotencyKeys", "request_id"), "expires_at"),
  ]);
}

/** How a table is billed: on demand, or provisioned with this capacity (also given to every GSI). */
export type Billing = { mode: "on-demand" } | { mode: "provisioned"; read: number; write: number };

/** The definition's CreateTable request billed as asked. Pure. */
export function createTableInput(definition: TableDefinition, billing: Billing): CreateTableInput {
  if (billing.mode === "on-demand") return definition.create;
  const throughput = { ReadCapacityUnits: billing.read, WriteCapacityUnits: billing.write };
  const { GlobalSecondaryIndexes: indexes, ...rest } = definition.create;
  return {
    ...rest,
    BillingMode: "PROVISIONED",
    ProvisionedThroughput: throughput,
    ...(indexes === undefined
      ? {}
      : { GlobalSecondaryIndexes: indexes.map((index) => ({ ...index, ProvisionedThroughput: throughput })) }),
  };
}

/**
 * The key attributes (hash, then range) of one of our tables, by its full (prefixed) name;
 * undefined for a table that is not ours. No base name ends with another, so the suffix
 * names the table. Pure.
 */
export function keyAttributesOf(tableName: string): string[] | undefined {
  for (const base of Object.values(BASE_NAMES)) {
    if (!tableName.endsWith(base)) continue;
    const prefix = tableName.slice(0, tableName.length - base.length);
    if (!PREFIX_PATTERN.test(prefix)) return undefined;
    const definition = tableDefinitions(prefix).find((d) => d.create.TableName === tableName);
    return definition?.create.KeySchema?.map((k) => String(k.AttributeName));
  }
  return undefined;
}

/**
 * How an existing table differs from its definition in what the code relies on: the key
 * schema, the key attributes' types, each index's keys and projection. Empty when it
 * matches. Pure.
 */
export function schemaDifferences(definition: TableDefinition, table: TableDescription): string[] {
  const keys = (schema: readonly KeySchemaElement[] | undefined): string =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(",");
  const differences: string[] = [];
  const want = keys(definition.create.KeySchema);
  const have = keys(table.KeySchema);
  if (want !== have) differences.push(`key schema is ${have}, expected ${want}`);
  for (const attribute of definition.create.AttributeDefinitions ?? []) {
    const found = table.AttributeDefinitions?.find((a) => a.AttributeName === attribute.AttributeName);
    if (found !== undefined && found.AttributeType !== attribute.AttributeType) {
      differences.push(
        `attribute ${attribute.AttributeName} has type ${found.AttributeType}, expected ${attribute.AttributeType}`,
      );
    }
  }
  for (const index of definition.create.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((g) => g.IndexName === index.IndexName);
    if (found === undefined) {
      differences.push(`index ${index.IndexName} is missing`);
      continue;
    }
    if (keys(found.KeySchema) !== keys(index.KeySchema)) {
      differences.push(`index ${index.IndexName} has keys ${keys(found.KeySchema)}, expected ${keys(index.KeySchema)}`);
    }
    const projection = (p: Projection | undefined) =>
      [p?.ProjectionType ?? "none", ...[...(p?.NonKeyAttributes ?? [])].sort()].join(",");
    if (projection(found.Projection) !== projection(index.Projection)) {
      differences.push(
        `index ${index.IndexName} projects ${projection(found.Projection)}, expected ${projection(index.Projection)}`,
      );
    }
  }
  return differences;
}

/** The first of schemaDifferences, or undefined when the table matches. Pure. */
export function schemaMismatch(definition: TableDefinition, table: TableDescription): string | undefined {
  return schemaDifferences(definition, table)[0];
}

/** EnsureTablesOptions as the wait until ACTIVE takes them. */
const activeWait = (options: EnsureTablesOptions) => ({
  maxWaitSeconds: options.maxWaitSeconds ?? 300,
  signal: options.signal,
});

export interface EnsureTablesOptions {
  /** Aborts every call and wait. Default: none. */
  signal?: AbortSignal;
  /** One line per table created or TTL enabled. Default: silent. */
  logger?: { info(obj: object, msg?: string): void };
  /**
   * Longest wait for one table to become ACTIVE. Default 300 s: on AWS a table with a
   * GSI can take minutes; DynamoDB Local creates tables ACTIVE at once.
   */
  maxWaitSeconds?: number;
}

/**
 * Creates every missing table (in parallel), waits until each is ACTIVE, and enables TTL
 * where defined. Returns the names it created, in definition order. Safe to run again
 * and concurrently with another instance: an existing table is checked, never changed
 * (a mismatching key schema is an error, not something to fix silently).
 */
export async function ensureTables(
  client: DynamoDBClient,
  prefix: string,
  options: EnsureTablesOptions = {},
): Promise<string[]> {
  const definitions = tableDefinitions(prefix);
  // allSettled: a failure must not leave other creations running unobserved.
  const results = await Promise.allSettled(definitions.map((d) => ensureTable(client, d, options)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return definitions
    .filter((_, i) => (results[i] as PromiseFulfilledResult<boolean>).value)
    .map((d) => d.create.TableName);
}

/** True when this call created the table. */
async function ensureTable(
  client: DynamoDBClient,
  definition: TableDefinition,
  options: EnsureTablesOptions,
): Promise<boolean> {
  const send = options.signal === undefined ? {} : { abortSignal: options.signal };
  const name = definition.create.TableName;
  const existing = await describeTable(client, name, send);
  const created = existing === undefined && (await createTable(client, definition.create, options));
  if (!created) {
    await waitUntilActive(client, name, activeWait(options));
    const table = existing ?? (await describeTable(client, name, send));
    const mismatch = table === undefined ? "it disappeared" : schemaMismatch(definition, table);
    if (mismatch !== undefined) {
      throw new Error(`table ${name} exists but does not match: ${mismatch}`);
    }
  }
  if (definition.ttlAttribute !== undefined) {
    await ensureTtl(client, name, definition.ttlAttribute, send, options);
  }
  return created;
}

/**
 * Sends CreateTable and waits until the table is ACTIVE. False when another process
 * created it between our describe and this create (then it is only waited for).
 */
export async function createTable(
  client: DynamoDBClient,
  create: CreateTableInput,
  options: EnsureTablesOptions = {},
): Promise<boolean> {
  const send = options.signal === undefined ? {} : { abortSignal: options.signal };
  let created = false;
  try {
    await client.send(new CreateTableCommand(create), send);
    created = true;
    options.logger?.info({ table: create.TableName }, "created table");
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilActive(client, create.TableName, activeWait(options));
  return created;
}

/** The table's description; undefined when it does not exist. */
export async function describeTable(
  client: DynamoDBClient,
  name: string,
  send: { abortSignal?: AbortSignal } = {},
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: name }), send)).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

/** Enables TTL on `attribute` unless it is on already (or being turned on). */
export async function ensureTtl(
  client: DynamoDBClient,
  name: string,
  attribute: string,
  send: { abortSignal?: AbortSignal } = {},
  options: EnsureTablesOptions = {},
): Promise<void> {
  const ttl = await timeToLive(client, name, send);
  if (ttlIsOn(ttl) && ttl?.AttributeName === attribute) {
    return;
  }
  try {
    await setTimeToLive(client, name, true, attribute, send);
    options.logger?.info({ table: name, attribute }, "enabled TTL");
  } catch (err) {
    // A concurrent instance enabled it first: DynamoDB answers ValidationException
    // "TimeToLive is already enabled". Anything else (e.g. TTL on another attribute) is real.
    const alreadyOn =
      err instanceof Error && err.name === "ValidationException" && /already enabled/i.test(err.message);
    if (!alreadyOn) throw err;
  }
}

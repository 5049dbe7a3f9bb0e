/**
 * What `tables describe` reports and `tables create` compares, from DescribeTable and
 * DescribeTimeToLive answers. Pure (test/cli/table-report.test.ts).
 */
import type {
  AttributeDefinition,
  KeySchemaElement,
  TableDescription,
  TimeToLiveDescription,
} from "@aws-sdk/client-dynamodb";
import { ttlIsOn } from "../store/table-settings.js";
import { type Billing, schemaDifferences, type TableDefinition } from "../store/tables.js";

export interface KeyReport {
  attribute: string;
  /** S, N or B. */
  type: string;
  /** HASH or RANGE. */
  role: string;
}

export interface BillingReport {
  mode: "on-demand" | "provisioned";
  /** Provisioned capacity units; 0 on demand. */
  read: number;
  write: number;
}

export interface IndexReport {
  name: string;
  status: string;
  keys: KeyReport[];
  projection: string;
  itemCount: number;
  sizeBytes: number;
  billing: BillingReport;
}

export interface TableReport {
  table: string;
  name: string;
  /** DynamoDB's TableStatus, or MISSING. */
  status: string;
  /** DynamoDB updates these about every six hours (exact on DynamoDB Local). */
  itemCount?: number;
  sizeBytes?: number;
  keys?: KeyReport[];
  billing?: BillingReport;
  indexes?: IndexReport[];
  ttl?: { status: string; attribute: string | null };
}

function keyReports(
  schema: readonly KeySchemaElement[] | undefined,
  attributes: readonly AttributeDefinition[] | undefined,
): KeyReport[] {
  return (schema ?? []).map((k) => ({
    attribute: String(k.AttributeName),
    type: String(attributes?.find((a) => a.AttributeName === k.AttributeName)?.AttributeType ?? "?"),
    role: String(k.KeyType),
  }));
}

/** A table without BillingModeSummary was created before on-demand existed: provisioned. */
function billingOf(
  table: TableDescription,
  throughput: { ReadCapacityUnits?: number | undefined; WriteCapacityUnits?: number | undefined } | undefined,
): BillingReport {
  const onDemand = table.BillingModeSummary?.BillingMode === "PAY_PER_REQUEST";
  return onDemand
    ? { mode: "on-demand", read: 0, write: 0 }
    : {
        mode: "provisioned",
        read: throughput?.ReadCapacityUnits ?? 0,
        write: throughput?.WriteCapacityUnits ?? 0,
      };
}

export function tableReport(
  definition: TableDefinition,
  table: TableDescription | undefined,
  ttl: TimeToLiveDescription | undefined,
): TableReport {
  const base = { table: definition.logicalName, name: definition.create.TableName };
  if (table === undefined) return { ...base, status: "MISSING" };
  return {
    ...base,
    status: String(table.TableStatus),
    itemCount: table.ItemCount ?? 0,
    sizeBytes: table.TableSizeBytes ?? 0,
    keys: keyReports(table.KeySchema, table.AttributeDefinitions),
    billing: billingOf(table, table.ProvisionedThroughput),
    indexes: (table.GlobalSecondaryIndexes ?? []).map((g) => ({
      name: String(g.IndexName),
      status: String(g.IndexStatus),
      keys: keyReports(g.KeySchema, table.AttributeDefinitions),
      projection: [g.Projection?.ProjectionType ?? "?", ...(g.Projection?.NonKeyAttributes ?? [])].join(" "),
      itemCount: g.ItemCount ?? 0,
      sizeBytes: g.IndexSizeBytes ?? 0,
      billing: billingOf(table, g.ProvisionedThroughput),
    })),
    ttl: { status: String(ttl?.TimeToLiveStatus ?? "DISABLED"), attribute: ttl?.AttributeName ?? null },
  };
}

/**
 * Every way an existing table differs from its definition billed as asked: what
 * schemaDifferences checks (keys, key types, indexes and projections), indexes the
 * definition lacks, the billing mode (not capacity: `tables set-capacity` tunes that) and
 * TTL. Empty when it matches.
 */
export function tableDrift(
  definition: TableDefinition,
  billing: Billing,
  table: TableDescription,
  ttl: TimeToLiveDescription | undefined,
): string[] {
  const differences = schemaDifferences(definition, table);
  const expectedIndexes = new Set((definition.create.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
  for (const index of table.GlobalSecondaryIndexes ?? []) {
    if (!expectedIndexes.has(index.IndexName)) differences.push(`index ${index.IndexName} is not in the definition`);
  }
  const mode = billingOf(table, table.ProvisionedThroughput).mode;
  if (mode !== billing.mode) differences.push(`billing is ${mode}, expected ${billing.mode}`);
  const want = definition.ttlAttribute;
  if (want !== undefined && !(ttlIsOn(ttl) && ttl?.AttributeName === want)) {
    differences.push(`TTL is ${ttlIsOn(ttl) ? `on ${ttl?.AttributeName}` : "off"}, expected on ${want}`);
  } else if (want === undefined && ttlIsOn(ttl)) {
    differences.push(`TTL is on ${ttl?.AttributeName}, expected off`);
  }
  return differences;
}

// ---- text for people ------------------------------------------------------------------

const keysText = (keys: readonly KeyReport[]) => keys.map((k) => `${k.attribute}:${k.type} ${k.role}`).join(", ");

const billingText = (b: BillingReport) => (b.mode === "on-demand" ? "on-demand" : `provisioned ${b.read}R/${b.write}W`);

/** 1536 → "1.5 KiB". */
export function sizeText(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function alignColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** One row per table and one per index under it (marked "└"), aligned. */
export function reportsText(reports: readonly TableReport[]): string {
  const rows: string[][] = [["TABLE", "NAME", "STATUS", "ITEMS", "SIZE", "KEYS", "BILLING", "TTL"]];
  for (const r of reports) {
    if (r.status === "MISSING") {
      rows.push([r.table, r.name, r.status, "-", "-", "-", "-", "-"]);
      continue;
    }
    const ttl = r.ttl?.attribute ? `${r.ttl.status} (${r.ttl.attribute})` : (r.ttl?.status ?? "-");
    rows.push([
      r.table,
      r.name,
      r.status,
      String(r.itemCount),
      sizeText(r.sizeBytes ?? 0),
      keysText(r.keys ?? []),
      billingText(r.billing!),
      ttl,
    ]);
    for (const index of r.indexes ?? []) {
      rows.push([
        `└ ${index.name}`,
        `projects ${index.projection}`,
        index.status,
        String(index.itemCount),
        sizeText(index.sizeBytes),
        keysText(index.keys),
        billingText(index.billing),
        "",
      ]);
    }
  }
  return `${alignColumns(rows)}\n`;
}

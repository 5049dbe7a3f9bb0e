import type { TableDescription, TimeToLiveDescription } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { alignColumns, reportsText, sizeText, tableDrift, tableReport } from "../../src/cli/table-report.js";
import { createTableInput, tableDefinitions } from "../../src/store/tables.js";

const [orders, , , , , , keys] = tableDefinitions("p_");

/** The table as DynamoDB describes one created from `create`. */
function described(create: ReturnType<typeof createTableInput>): TableDescription {
  const provisioned = create.BillingMode === "PROVISIONED";
  return {
    TableName: create.TableName,
    TableStatus: "ACTIVE",
    KeySchema: create.KeySchema,
    AttributeDefinitions: create.AttributeDefinitions,
    BillingModeSummary: { BillingMode: create.BillingMode },
    ProvisionedThroughput: provisioned ? create.ProvisionedThroughput : { ReadCapacityUnits: 0, WriteCapacityUnits: 0 },
    ItemCount: 3,
    TableSizeBytes: 2048,
    GlobalSecondaryIndexes: create.GlobalSecondaryIndexes?.map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
      IndexStatus: "ACTIVE",
      ItemCount: 3,
      IndexSizeBytes: 2048,
      ...(provisioned ? { ProvisionedThroughput: g.ProvisionedThroughput } : {}),
    })),
  };
}

const off: TimeToLiveDescription = { TimeToLiveStatus: "DISABLED" };
const on: TimeToLiveDescription = { TimeToLiveStatus: "ENABLED", AttributeName: "expires_at" };
const onDemand = { mode: "on-demand" } as const;

describe("tableDrift", () => {
  it("finds nothing on a table created from its definition", () => {
    expect(tableDrift(orders!, onDemand, described(orders!.create), off)).toEqual([]);
    expect(tableDrift(keys!, onDemand, described(keys!.create), on)).toEqual([]);
    const provisioned = { mode: "provisioned", read: 2, write: 3 } as const;
    expect(tableDrift(orders!, provisioned, described(createTableInput(orders!, provisioned)), off)).toEqual([]);
  });

  it("reports every difference at once: keys, key types, indexes, projections, billing, TTL", () => {
    const table = described(orders!.create);
    table.KeySchema = [{ AttributeName: "customer_id", KeyType: "HASH" }];
    table.AttributeDefinitions = [
      { AttributeName: "customer_id", AttributeType: "N" },
      { AttributeName: "status", AttributeType: "S" },
      { AttributeName: "created_at", AttributeType: "S" },
    ];
    table.GlobalSecondaryIndexes = [
      { ...table.GlobalSecondaryIndexes![0]!, Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: ["total"] } },
      { IndexName: "Extra", KeySchema: [{ AttributeName: "status", KeyType: "HASH" }] },
    ];
    table.BillingModeSummary = { BillingMode: "PROVISIONED" };
    expect(tableDrift(orders!, onDemand, table, on)).toEqual([
      "key schema is customer_id:HASH, expected customer_id:HASH,order_id:RANGE",
      "attribute customer_id has type N, expected S",
      "index StatusIndex projects INCLUDE,total, expected ALL",
      "index Extra is not in the definition",
      "billing is provisioned, expected on-demand",
      "TTL is on expires_at, expected off",
    ]);
  });

  it("reports a missing index, and TTL off or on another attribute", () => {
    const table = described(orders!.create);
    delete table.GlobalSecondaryIndexes;
    expect(tableDrift(orders!, onDemand, table, off)).toEqual(["index StatusIndex is missing"]);
    expect(tableDrift(keys!, onDemand, described(keys!.create), off)).toEqual(["TTL is off, expected on expires_at"]);
    expect(
      tableDrift(keys!, onDemand, described(keys!.create), { TimeToLiveStatus: "ENABLED", AttributeName: "ttl" }),
    ).toEqual(["TTL is on ttl, expected on expires_at"]);
  });

  it("counts a table without a billing summary as provisioned (made before on-demand existed)", () => {
    const table = described(orders!.create);
    delete table.BillingModeSummary;
    expect(tableDrift(orders!, onDemand, table, off)).toEqual(["billing is provisioned, expected on-demand"]);
  });
});

describe("tableReport and its text", () => {
  it("reports a missing table as MISSING", () => {
    expect(tableReport(orders!, undefined, undefined)).toEqual({
      table: "Orders",
      name: "p_Orders",
      status: "MISSING",
    });
  });

  it("reports keys with types, billing, indexes and TTL", () => {
    const provisioned = createTableInput(orders!, { mode: "provisioned", read: 5, write: 7 });
    const report = tableReport(orders!, described(provisioned), off);
    expect(report).toMatchObject({
      table: "Orders",
      status: "ACTIVE",
      itemCount: 3,
      sizeBytes: 2048,
      billing: { mode: "provisioned", read: 5, write: 7 },
      ttl: { status: "DISABLED", attribute: null },
    });
    expect(report.indexes).toEqual([
      {
        name: "StatusIndex",
        status: "ACTIVE",
        keys: [
          { attribute: "status", type: "S", role: "HASH" },
          { attribute: "created_at", type: "S", role: "RANGE" },
        ],
        projection: "ALL",
        itemCount: 3,
        sizeBytes: 2048,
        billing: { mode: "provisioned", read: 5, write: 7 },
      },
    ]);
    const text = reportsText([report, tableReport(keys!, undefined, undefined)]).split("\n");
    expect(text[1]).toMatch(/^Orders\s+p_Orders\s+ACTIVE\s+3\s+2\.0 KiB\s+customer_id:S HASH, order_id:S RANGE/);
    expect(text[1]).toMatch(/provisioned 5R\/7W\s+DISABLED$/);
    expect(text[2]).toMatch(/^└ StatusIndex\s+projects ALL\s+ACTIVE/);
    expect(text[3]).toMatch(/^IdempotencyKeys\s+p_IdempotencyKeys\s+MISSING/);
  });

  it("aligns columns and sizes in binary units", () => {
    expect(
      alignColumns([
        ["a", "bb", "c"],
        ["ccc", "d", ""],
      ]),
    ).toBe("a    bb  c\nccc  d");
    expect([sizeText(0), sizeText(1023), sizeText(1536), sizeText(5 * 1024 ** 3)]).toEqual([
      "0 B",
      "1023 B",
      "1.5 KiB",
      "5.0 GiB",
    ]);
  });
});

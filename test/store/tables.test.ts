import type { TableDescription } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import {
  createTableInput,
  schemaDifferences,
  schemaMismatch,
  type TableDefinition,
  tableDefinitions,
  tableNames,
} from "../../src/store/tables.js";

const keysOf = (d: TableDefinition) => d.create.KeySchema?.map((k) => [k.AttributeName, k.KeyType]);

describe("tableNames", () => {
  it("gives the fixed names, prefixed, and the unprefixed index name", () => {
    expect(tableNames("")).toEqual({
      orders: "Orders",
      inventory: "Inventory",
      accounts: "Accounts",
      transfers: "Transfers",
      ledger: "Ledger",
      refunds: "Refunds",
      idempotencyKeys: "IdempotencyKeys",
      statusIndex: "StatusIndex",
    });
    const names = tableNames("dev-1.");
    expect(names.orders).toBe("dev-1.Orders");
    expect(names.idempotencyKeys).toBe("dev-1.IdempotencyKeys");
    expect(names.statusIndex).toBe("StatusIndex");
  });

  it("is frozen", () => {
    expect(Object.isFrozen(tableNames("x_"))).toBe(true);
  });

  it("rejects prefixes that make invalid table names", () => {
    expect(() => tableNames("bad prefix")).toThrow(RangeError);
    expect(() => tableNames("a/b")).toThrow(RangeError);
    expect(() => tableNames("p".repeat(241))).toThrow(RangeError);
    expect(() => tableNames("p".repeat(240))).not.toThrow();
  });
});

describe("tableDefinitions", () => {
  const definitions = tableDefinitions("t_");
  const byKey = Object.fromEntries(definitions.map((d) => [d.key, d]));

  it("defines the seven tables under the prefixed names", () => {
    const names = tableNames("t_");
    expect(definitions.map((d) => d.create.TableName)).toEqual([
      names.orders,
      names.inventory,
      names.accounts,
      names.transfers,
      names.ledger,
      names.refunds,
      names.idempotencyKeys,
    ]);
    for (const d of definitions) expect(d.create.TableName).toBe(names[d.key]);
  });

  it("keys every table as specified", () => {
    expect(keysOf(byKey.orders!)).toEqual([
      ["customer_id", "HASH"],
      ["order_id", "RANGE"],
    ]);
    expect(keysOf(byKey.inventory!)).toEqual([["sku", "HASH"]]);
    expect(keysOf(byKey.accounts!)).toEqual([["account_id", "HASH"]]);
    expect(keysOf(byKey.transfers!)).toEqual([["transfer_id", "HASH"]]);
    expect(keysOf(byKey.ledger!)).toEqual([
      ["account_id", "HASH"],
      ["entry_key", "RANGE"],
    ]);
    expect(keysOf(byKey.refunds!)).toEqual([["refund_id", "HASH"]]);
    expect(keysOf(byKey.idempotencyKeys!)).toEqual([["request_id", "HASH"]]);
  });

  it("gives Orders the StatusIndex GSI (status, created_at), projecting everything", () => {
    expect(byKey.orders!.create.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: "StatusIndex",
        KeySchema: [
          { AttributeName: "status", KeyType: "HASH" },
          { AttributeName: "created_at", KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ]);
    for (const d of definitions) {
      if (d.key !== "orders") expect(d.create.GlobalSecondaryIndexes).toBeUndefined();
    }
  });

  it("declares exactly the key attributes, all strings (DynamoDB rejects unused ones)", () => {
    for (const d of definitions) {
      const keys = [
        ...(d.create.KeySchema ?? []),
        ...(d.create.GlobalSecondaryIndexes ?? []).flatMap((g) => g.KeySchema ?? []),
      ];
      const used = new Set(keys.map((k) => k.AttributeName));
      const declared = d.create.AttributeDefinitions ?? [];
      expect(new Set(declared.map((a) => a.AttributeName))).toEqual(used);
      expect(declared.length).toBe(used.size);
      for (const a of declared) expect(a.AttributeType).toBe("S");
    }
  });

  it("bills every table on demand, with no provisioned throughput", () => {
    for (const d of definitions) {
      expect(d.create.BillingMode).toBe("PAY_PER_REQUEST");
      expect(d.create.ProvisionedThroughput).toBeUndefined();
    }
  });

  it("sets TTL on IdempotencyKeys.expires_at only", () => {
    const withTtl = definitions.filter((d) => d.ttlAttribute !== undefined);
    expect(withTtl.map((d) => [d.key, d.ttlAttribute])).toEqual([["idempotencyKeys", "expires_at"]]);
  });

  it("is pure: equal results, no shared mutable state between calls", () => {
    const a = tableDefinitions("t_");
    const b = tableDefinitions("t_");
    expect(a).toEqual(b);
    a[0]!.create.AttributeDefinitions!.push({ AttributeName: "extra", AttributeType: "S" });
    expect(b[0]!.create.AttributeDefinitions).toHaveLength(4);
    expect(tableDefinitions("t_")[0]!.create.AttributeDefinitions).toHaveLength(4);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

/** The Orders table's definition, and the table DynamoDB describes when it matches it. */
const orders = tableDefinitions("")[0]!;
const asDescribed = (): TableDescription => ({
  TableName: orders.create.TableName,
  KeySchema: orders.create.KeySchema,
  AttributeDefinitions: orders.create.AttributeDefinitions,
  GlobalSecondaryIndexes: orders.create.GlobalSecondaryIndexes?.map((g) => ({
    IndexName: g.IndexName,
    KeySchema: g.KeySchema,
    Projection: g.Projection,
  })),
});

describe("schemaMismatch", () => {
  it("accepts a table as defined", () => {
    expect(schemaMismatch(orders, asDescribed())).toBeUndefined();
  });

  it("reports a different key schema", () => {
    const hashOnly = [{ AttributeName: "customer_id", KeyType: "HASH" as const }];
    expect(schemaMismatch(orders, { ...asDescribed(), KeySchema: hashOnly })).toBe(
      "key schema is customer_id:HASH, expected customer_id:HASH,order_id:RANGE",
    );
  });

  it("reports a missing or different index", () => {
    const noIndex = { ...asDescribed(), GlobalSecondaryIndexes: [] };
    expect(schemaMismatch(orders, noIndex)).toMatch(/StatusIndex is missing/);
    const statusOnly = [{ AttributeName: "status", KeyType: "HASH" as const }];
    const wrongKeys = {
      ...asDescribed(),
      GlobalSecondaryIndexes: [{ IndexName: "StatusIndex", KeySchema: statusOnly }],
    };
    expect(schemaMismatch(orders, wrongKeys)).toMatch(/StatusIndex has keys status:HASH/);
  });
});

describe("schemaDifferences", () => {
  it("lists every difference the code relies on: keys, key types, index keys and projection", () => {
    expect(schemaDifferences(orders, asDescribed())).toEqual([]);
    const table = asDescribed();
    table.AttributeDefinitions = table.AttributeDefinitions!.map((a) =>
      a.AttributeName === "order_id" ? { ...a, AttributeType: "N" } : a,
    );
    table.GlobalSecondaryIndexes = [
      { ...table.GlobalSecondaryIndexes![0]!, Projection: { ProjectionType: "KEYS_ONLY" } },
    ];
    expect(schemaDifferences(orders, table)).toEqual([
      "attribute order_id has type N, expected S",
      "index StatusIndex projects KEYS_ONLY, expected ALL",
    ]);
    expect(schemaMismatch(orders, table)).toBe("attribute order_id has type N, expected S");
  });
});

describe("definition extras", () => {
  it("names each table by its unprefixed name and tags it", () => {
    for (const d of tableDefinitions("x_")) {
      expect(d.create.TableName).toBe(`x_${d.logicalName}`);
      expect(d.create.Tags).toEqual([
        { Key: "service", Value: "commerce" },
        { Key: "table", Value: d.logicalName },
      ]);
    }
  });

  it("bills provisioned tables and their GSIs with the capacity asked, on demand as defined", () => {
    const orders = tableDefinitions("")[0]!;
    expect(createTableInput(orders, { mode: "on-demand" })).toEqual(orders.create);
    const provisioned = createTableInput(orders, { mode: "provisioned", read: 4, write: 2 });
    const throughput = { ReadCapacityUnits: 4, WriteCapacityUnits: 2 };
    expect(provisioned).toMatchObject({ BillingMode: "PROVISIONED", ProvisionedThroughput: throughput });
    expect(provisioned.GlobalSecondaryIndexes?.map((g) => g.ProvisionedThroughput)).toEqual([throughput]);
    expect(orders.create.BillingMode).toBe("PAY_PER_REQUEST");
  });
});

/**
 * commerce-admin end to end, as a separate process against the run's DynamoDB Local
 * (test/global-setup.ts), each scenario under its own TABLE_PREFIX: create → describe →
 * seed → export → wipe → import → the same items, attribute by attribute (money to the
 * nano); import into another prefix; re-import; capacity and TTL; the schema-drift report;
 * usage errors exit 2.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { seedPlan } from "../../src/cli/seed-plan.js";
import { toNanos } from "../../src/domain/money.js";
import { itemFromStored } from "../../src/store/inventory-store.js";
import { tableDefinitions } from "../../src/store/tables.js";
import { runAdmin } from "../support/admin-cli.js";

type RawItem = Record<string, AttributeValue>;

const endpoint = inject("dynamoEndpoint");
const raw = new DynamoDBClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});
const dir = mkdtempSync(path.join(tmpdir(), "commerce-admin-"));
afterAll(() => {
  raw.destroy();
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
const newPrefix = () => `cli${process.pid}_${counter++}_${randomBytes(3).toString("hex")}_`;
const admin = (prefix: string, ...args: string[]) =>
  runAdmin(args, { DYNAMODB_ENDPOINT: endpoint, TABLE_PREFIX: prefix });

/** Every item of every table under `prefix`, by logical table name, sorted by key. */
async function snapshot(prefix: string): Promise<Record<string, RawItem[]>> {
  const out: Record<string, RawItem[]> = {};
  for (const d of tableDefinitions(prefix)) {
    const items: RawItem[] = [];
    let startKey: RawItem | undefined;
    do {
      const page = await raw.send(
        new ScanCommand({ TableName: d.create.TableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    const keys = (d.create.KeySchema ?? []).map((k) => String(k.AttributeName));
    const keyOf = (item: RawItem) => JSON.stringify(keys.map((k) => item[k]));
    out[d.logicalName] = items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  }
  return out;
}

async function wipe(prefix: string): Promise<void> {
  for (const d of tableDefinitions(prefix)) {
    const keys = (d.create.KeySchema ?? []).map((k) => String(k.AttributeName));
    const items = (await snapshot(prefix))[d.logicalName]!;
    for (let i = 0; i < items.length; i += 25) {
      const deletes = items.slice(i, i + 25).map((item) => ({
        DeleteRequest: { Key: Object.fromEntries(keys.map((k) => [k, item[k]!])) },
      }));
      const out = await raw.send(new BatchWriteItemCommand({ RequestItems: { [d.create.TableName]: deletes } }));
      expect(out.UnprocessedItems?.[d.create.TableName] ?? []).toEqual([]);
    }
  }
}

const total = (s: Record<string, RawItem[]>) => Object.values(s).reduce((n, items) => n + items.length, 0);

describe("commerce-admin: the data round trip", () => {
  const prefix = newPrefix();
  const other = newPrefix();
  const counts = { customers: 4, items: 12, accounts: 6 };
  const file = path.join(dir, "all.jsonl");
  let seeded: Record<string, RawItem[]>;

  beforeAll(async () => {
    const created = await admin(prefix, "tables", "create");
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout.trim().split("\n")).toHaveLength(7);
    expect(created.stdout).not.toMatch(/exists|DIFFERS/);
  });

  it("creates every table once: a second run finds them as defined", async () => {
    const again = await admin(prefix, "tables", "create");
    expect(again.code).toBe(0);
    const lines = again.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(tableDefinitions("").map((d) => d.logicalName));
    for (const line of lines) expect(line).toMatch(/exists, matches the definition$/);
  });

  it("describes every table, as JSON and as aligned text", async () => {
    const json = await admin(prefix, "tables", "describe", "--json");
    expect(json.code).toBe(0);
    const { tables } = JSON.parse(json.stdout) as { tables: Array<Record<string, unknown>> };
    expect(tables.map((t) => t["name"])).toEqual(tableDefinitions(prefix).map((d) => d.create.TableName));
    for (const t of tables) {
      expect(t).toMatchObject({ status: "ACTIVE", itemCount: 0, billing: { mode: "on-demand" } });
    }
    const orders = tables.find((t) => t["table"] === "Orders")!;
    expect(orders["keys"]).toEqual([
      { attribute: "customer_id", type: "S", role: "HASH" },
      { attribute: "order_id", type: "S", role: "RANGE" },
    ]);
    expect(orders["indexes"]).toMatchObject([{ name: "StatusIndex", status: "ACTIVE", projection: "ALL" }]);
    expect(tables.find((t) => t["table"] === "IdempotencyKeys")!["ttl"]).toEqual({
      status: "ENABLED",
      attribute: "expires_at",
    });
    expect(orders["ttl"]).toEqual({ status: "DISABLED", attribute: null });

    const text = await admin(prefix, "tables", "describe", "orders", "Inventory");
    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TABLE\s+NAME\s+STATUS\s+ITEMS\s+SIZE\s+KEYS\s+BILLING\s+TTL$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["Orders", "└", "Inventory"]);
    // Aligned: every row's STATUS column starts where the header's does.
    const statusAt = lines[0]!.indexOf("STATUS");
    for (const line of lines.slice(1)) expect(line.slice(statusAt)).toMatch(/^ACTIVE /);
  });

  it("seeds demo data through the stores: the planned items at their exact prices, orders, accounts", async () => {
    const run = await admin(
      prefix,
      "seed",
      "--customers",
      String(counts.customers),
      "--items",
      String(counts.items),
      "--accounts",
      String(counts.accounts),
    );
    expect(run.code).toBe(0);
    const plan = seedPlan(counts);
    expect(run.stdout).toContain(`items: ${plan.items.length} created, 0 existed`);
    expect(run.stdout).toContain(`orders: ${plan.orders.length}`);
    seeded = await snapshot(prefix);
    const stored = seeded["Inventory"]!.map((item) => itemFromStored(unmarshall(item, { wrapNumbers: true })));
    expect(stored.map((i) => i.sku).sort()).toEqual(plan.items.map((i) => i.sku).sort());
    for (const want of plan.items) {
      const got = stored.find((i) => i.sku === want.sku)!;
      expect([got.unitPrice.currencyCode, toNanos(got.unitPrice)]).toEqual([
        want.unitPrice.currencyCode,
        toNanos(want.unitPrice),
      ]);
    }
    // Prices below a cent: the nanos must survive everything below.
    expect(plan.items.some((i) => i.unitPrice.units === 0n && i.unitPrice.nanos % 10_000_000 !== 0)).toBe(true);
    expect(seeded["Orders"]).toHaveLength(plan.orders.length);
    expect(seeded["Accounts"]).toHaveLength(counts.accounts);
    expect(seeded["Ledger"]).toHaveLength(2 * plan.transfers.length);
    expect(seeded["Refunds"]).toHaveLength(plan.orders.filter((o) => o.status === "CANCELLED").length);

    // Re-running writes nothing new.
    const again = await admin(prefix, "seed", ...Object.entries(counts).flatMap(([k, v]) => [`--${k}`, String(v)]));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`items: 0 created, ${plan.items.length} existed`);
    expect(await snapshot(prefix)).toEqual(seeded);
  });

  it("exports every table, wipes, imports: the same items; again into another prefix; re-import changes nothing", async () => {
    const exported = await admin(prefix, "export", "--all", "--out", file, "--segments", "3");
    expect(exported.stderr).toMatch(/export \[/); // plain progress lines: stderr is not a terminal
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain(`exported ${total(seeded)} items to ${file}`);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(total(seeded));
    const first = JSON.parse(lines[0]!) as { table: string; item: RawItem };
    expect(tableDefinitions("").map((d) => d.logicalName)).toContain(first.table);
    // Numbers as DynamoDB's exact strings, never JSON numbers.
    expect(readFileSync(file, "utf8")).not.toMatch(/"N":\d/);

    await wipe(prefix);
    expect(total(await snapshot(prefix))).toBe(0);
    const imported = await admin(prefix, "import", file);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported ${total(seeded)} items from ${file}`);
    expect(imported.stdout).toContain("; 0 not written");
    expect(await snapshot(prefix)).toEqual(seeded);

    expect((await admin(other, "tables", "create")).code).toBe(0);
    expect((await admin(other, "import", file)).code).toBe(0);
    expect(await snapshot(other)).toEqual(seeded);
    const again = await admin(other, "import", file, "--parallel", "2");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`imported ${total(seeded)} items`);
    expect(await snapshot(other)).toEqual(seeded);
  });

  it("exports one table alone", async () => {
    const one = path.join(dir, "inventory.jsonl");
    const run = await admin(prefix, "export", "inventory", "--out", one);
    expect(run.code).toBe(0);
    const tables = readFileSync(one, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { table: string }).table);
    expect(tables).toEqual(seeded["Inventory"]!.map(() => "Inventory"));
  });

  it("counts what it cannot write and exits 1, writing the rest", async () => {
    const bad = path.join(dir, "bad.jsonl");
    const good = readFileSync(file, "utf8").trimEnd().split("\n").slice(0, 3);
    writeFileSync(bad, [...good, "{not json", JSON.stringify({ table: "Nope", item: {} })].join("\n"));
    const nowhere = newPrefix();
    const noTables = await admin(nowhere, "export", "--all", "--out", path.join(dir, "none.jsonl"));
    expect(noTables.code).toBe(1);
    expect(noTables.stderr).toMatch(new RegExp(`no such table: ${nowhere}Orders, `));
    expect(existsSync(path.join(dir, "none.jsonl"))).toBe(false);
    const run = await admin(nowhere, "import", bad);
    // A fresh prefix has no tables: nothing can be written.
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("; 5 not written");
    expect(run.stderr).toMatch(/not written: line 4: /);
    expect(run.stderr).toMatch(/not written: line 5: unknown table "Nope"/);
    const partial = await admin(prefix, "import", bad);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain("imported 3 items");
    expect(partial.stdout).toContain("; 2 not written");
  });
});

describe("commerce-admin: capacity and TTL", () => {
  const prefix = newPrefix();
  beforeAll(async () => {
    expect(
      (await admin(prefix, "tables", "create", "--billing", "provisioned", "--read", "3", "--write", "4")).code,
    ).toBe(0);
  });

  it("creates provisioned tables, and sets capacity on a table and its GSI", async () => {
    const before = JSON.parse((await admin(prefix, "tables", "describe", "Orders", "--json")).stdout);
    expect(before.tables[0].billing).toEqual({ mode: "provisioned", read: 3, write: 4 });
    const set = await admin(prefix, "tables", "set-capacity", "Orders", "--read", "5", "--write", "7");
    expect(set.code).toBe(0);
    const after = JSON.parse((await admin(prefix, "tables", "describe", "Orders", "--json")).stdout);
    expect(after.tables[0].billing).toEqual({ mode: "provisioned", read: 5, write: 7 });
    expect(after.tables[0].indexes[0].billing).toEqual({ mode: "provisioned", read: 5, write: 7 });
    const same = await admin(prefix, "tables", "set-capacity", "Orders", "--read", "5", "--write", "7");
    expect([same.code, same.stdout]).toEqual([0, "Orders: already provisioned 5R/7W\n"]);
    // Provisioned tables differ from the default (on-demand) definition: reported, exit 1.
    const check = await admin(prefix, "tables", "create");
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/^Orders\s+DIFFERS: billing is provisioned, expected on-demand$/m);
  });

  it("turns TTL off and on, and refuses TTL on a table that defines none", async () => {
    const off = await admin(prefix, "tables", "ttl", "IdempotencyKeys", "--disable");
    expect([off.code, off.stdout]).toEqual([0, "IdempotencyKeys: TTL now disabled\n"]);
    const drift = await admin(prefix, "tables", "create", "--billing", "provisioned", "--read", "3", "--write", "4");
    expect(drift.stdout).toMatch(/^IdempotencyKeys\s+DIFFERS: TTL is off, expected on expires_at$/m);
    const on = await admin(prefix, "tables", "ttl", "IdempotencyKeys", "--enable");
    expect([on.code, on.stdout]).toEqual([0, "IdempotencyKeys: TTL now enabled\n"]);
    const again = await admin(prefix, "tables", "ttl", "IdempotencyKeys", "--enable");
    expect([again.code, again.stdout]).toEqual([0, "IdempotencyKeys: TTL already enabled\n"]);
    const none = await admin(prefix, "tables", "ttl", "Orders", "--enable");
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Orders has no TTL attribute/);
  });
});

describe("commerce-admin: schema drift", () => {
  it("reports every difference of a table created differently, and leaves it as it is", async () => {
    const prefix = newPrefix();
    // Orders keyed by customer alone, without its GSI; Inventory keyed by a number.
    await raw.send(
      new CreateTableCommand({
        TableName: `${prefix}Orders`,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "customer_id", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "customer_id", KeyType: "HASH" }],
      }),
    );
    await raw.send(
      new CreateTableCommand({
        TableName: `${prefix}Inventory`,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "sku", AttributeType: "N" }],
        KeySchema: [{ AttributeName: "sku", KeyType: "HASH" }],
      }),
    );
    const run = await admin(prefix, "tables", "create");
    expect(run.code).toBe(1);
    const line = (table: string) => run.stdout.split("\n").find((l) => l.startsWith(`${table} `)) ?? "";
    expect(line("Orders")).toMatch(/DIFFERS: key schema is customer_id:HASH, expected customer_id:HASH,order_id:RANGE/);
    expect(line("Orders")).toMatch(/index StatusIndex is missing/);
    expect(line("Inventory")).toMatch(/DIFFERS: attribute sku has type N, expected S$/);
    expect(line("Accounts")).toMatch(/created$/);
    const orders = await raw.send(new DescribeTableCommand({ TableName: `${prefix}Orders` }));
    expect(orders.Table?.KeySchema).toEqual([{ AttributeName: "customer_id", KeyType: "HASH" }]);
    expect(orders.Table?.GlobalSecondaryIndexes).toBeUndefined();
  });
});

describe("commerce-admin: usage", () => {
  const prefix = newPrefix();

  it.each([
    [["nosuch"], /unknown command 'nosuch'/],
    [["--bogus"], /unknown option '--bogus'/],
    [["tables"], /Usage: commerce-admin tables/],
    [["tables", "create", "--billing", "free"], /Allowed choices are on-demand, provisioned/],
    [["tables", "create", "--billing", "provisioned", "--read", "1"], /needs --read and --write/],
    [["tables", "create", "--read", "1", "--write", "1"], /need --billing provisioned/],
    [["tables", "describe", "Nope"], /unknown table 'Nope'/],
    [["tables", "set-capacity", "Orders", "--read", "0", "--write", "1"], /--read <units>' argument '0' is invalid/],
    [["tables", "set-capacity", "Orders", "--read", "1"], /required option '--write <units>'/],
    [["tables", "ttl", "Orders"], /say --enable or --disable/],
    [["tables", "ttl", "Orders", "--enable", "--disable"], /cannot be used with option '--disable'/],
    [["export", "--out", "x.jsonl"], /name one table or say --all/],
    [["export", "Orders", "--all", "--out", "x.jsonl"], /name one table or say --all/],
    [["export", "--all"], /required option '--out <file>'/],
    [["import"], /missing required argument 'file'/],
    [["import", "a.jsonl", "b.jsonl"], /too many arguments/],
    [["seed", "--items", "-1"], /unknown option '-1'|argument '-1' is invalid/],
    [["seed", "--customers", "3", "--items", "0"], /--customers needs --items > 0/],
  ])("%j is a usage error: exit 2", async (args, message) => {
    const run = await admin(prefix, ...args);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
  });

  it("a bad setting is a usage error too", async () => {
    const run = await runAdmin(["tables", "describe"], { TABLE_PREFIX: "bad prefix", DYNAMODB_ENDPOINT: endpoint });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'commerce-admin: TABLE_PREFIX="bad prefix" is invalid: expected up to 200 of [A-Za-z0-9_.-]\n',
    );
  });

  it("every command has --help (exit 0)", async () => {
    const commands = [
      [],
      ["tables"],
      ["tables", "create"],
      ["tables", "describe"],
      ["tables", "set-capacity"],
      ["tables", "ttl"],
      ["export"],
      ["import"],
      ["seed"],
    ];
    const runs = await Promise.all(commands.map((c) => runAdmin([...c, "--help"])));
    runs.forEach((run, i) => {
      expect(run.code, commands[i]!.join(" ")).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: commerce-admin ${commands[i]!.join(" ")}`.trimEnd()));
    });
  });
});

/**
 * commerce-admin's commands, on commander: parsing, `--help` on every command, and exit
 * codes scripts can trust — 0 done, 1 failed (a table differs, an item was not written,
 * the store refused), 2 usage (unknown command or option, bad value, bad setting).
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ConfigError, loadStoreConfig } from "../config.js";
import { type Billing, type TableDefinition, type TableKey, tableDefinitions } from "../store/tables.js";
import { type AdminStore, openAdminStore } from "./admin-store.js";
import { exportTables, type TableCounts } from "./export-items.js";
import { countLines, importFile } from "./import-items.js";
import { createProgress } from "./progress.js";
import { seed } from "./seed.js";
import { seedPlan } from "./seed-plan.js";
import { createOrCompare, describeTables, setCapacity, setTtl, TtlNotDefinedError } from "./table-admin.js";
import { alignColumns, reportsText } from "./table-report.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where output goes: stdout for results, stderr for progress and diagnostics. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** A failure already explained on stderr: exit 1 with nothing more to say. */
class ReportedFailure extends Error {}

function positiveInt(max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    }
    return Number(value);
  };
}

function count(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 1_000_000) {
    throw new InvalidArgumentError("expected an integer from 0 to 1000000");
  }
  return Number(value);
}

/** Capacity units: DynamoDB accepts 1 up to the account's quota (40,000 by default). */
const capacity = positiveInt(1_000_000);

/** package.json sits two levels up from both src/cli and dist/cli. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version;
}

const LOGICAL_NAMES = tableDefinitions("").map((d) => d.logicalName);

/** TABLE arguments, by logical name in any case ("orders", "Orders"). */
function tableKey(cmd: Command, name: string): TableKey {
  const found = tableDefinitions("").find((d) => d.logicalName.toLowerCase() === name.toLowerCase());
  if (found === undefined) {
    cmd.error(`error: unknown table '${name}' (tables: ${LOGICAL_NAMES.join(", ")})`, { exitCode: EXIT_USAGE });
  }
  return found.key;
}

const countsText = (counts: TableCounts) =>
  Object.entries(counts)
    .map(([table, n]) => `${table} ${n}`)
    .join(", ");

export function buildProgram(io: CliIo): Command {
  /** Opens the store (config from the environment), runs `work`, closes it. */
  async function withStore<T>(work: (store: AdminStore, definitions: readonly TableDefinition[]) => Promise<T>) {
    const store = await openAdminStore(loadStoreConfig(), { note: (line) => io.err(`${line}\n`) });
    try {
      return await work(store, tableDefinitions(store.tablePrefix));
    } finally {
      await store.close();
    }
  }
  const pick = (definitions: readonly TableDefinition[], keys: readonly TableKey[]) =>
    keys.length === 0 ? definitions : definitions.filter((d) => keys.includes(d.key));

  const program = new Command("commerce-admin")
    // Before any subcommand is added: subcommands inherit these settings.
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError("(add --help for usage)")
    .description(
      "Operate the commerce service's DynamoDB tables: create and inspect them, export and import their " +
        "data, seed demo data. Reads the server's settings: DYNAMODB_ENDPOINT or DYNAMODB_MODE=aws, " +
        "AWS_REGION, TABLE_PREFIX, DATA_DIR (see README, Operations).",
    )
    .version(packageVersion());

  const tables = program.command("tables").description("create, describe and tune the tables");

  tables
    .command("create")
    .description(
      "create every missing table (keys, GSIs, TTL, tags) as src/store/tables.ts defines it; an existing " +
        "table is compared with the definition and differences are reported (exit 1), never changed",
    )
    .addOption(
      new Option("--billing <mode>", "billing of tables created now, and the mode existing ones are expected to have")
        .choices(["on-demand", "provisioned"])
        .default("on-demand"),
    )
    .option("--read <units>", "read capacity units (provisioned only), for the table and each GSI", capacity)
    .option("--write <units>", "write capacity units (provisioned only), for the table and each GSI", capacity)
    .action(async (options: { billing: string; read?: number; write?: number }, cmd: Command) => {
      let billing: Billing = { mode: "on-demand" };
      if (options.billing === "provisioned") {
        if (options.read === undefined || options.write === undefined) {
          cmd.error("error: --billing provisioned needs --read and --write", { exitCode: EXIT_USAGE });
        }
        billing = { mode: "provisioned", read: options.read, write: options.write };
      } else if (options.read !== undefined || options.write !== undefined) {
        cmd.error("error: --read and --write need --billing provisioned", { exitCode: EXIT_USAGE });
      }
      const outcomes = await withStore(async (store, definitions) =>
        Promise.all(definitions.map((d) => createOrCompare(store.client.raw, d, billing))),
      );
      const text = (o: (typeof outcomes)[number]) =>
        o.outcome === "created"
          ? "created"
          : o.outcome === "matches"
            ? "exists, matches the definition"
            : `DIFFERS: ${o.differences.join("; ")}`;
      io.out(`${alignColumns(outcomes.map((o) => [o.table, text(o)]))}\n`);
      if (outcomes.some((o) => o.outcome === "differs")) {
        throw new ReportedFailure("a table differs from its definition");
      }
    });

  tables
    .command("describe")
    .description(
      "per table: status, item count and size (DynamoDB's estimates, updated about every 6 h), key " +
        "schema, billing and capacity, GSIs with status, TTL; exit 1 if a table is missing",
    )
    .argument("[table...]", `tables to describe (default all): ${LOGICAL_NAMES.join(", ")}`)
    .option("--json", "one JSON document for machines")
    .action(async (names: string[], options: { json?: boolean }, cmd: Command) => {
      const keys = names.map((n) => tableKey(cmd, n));
      const reports = await withStore((store, definitions) =>
        describeTables(store.client.raw, pick(definitions, keys)),
      );
      io.out(options.json ? `${JSON.stringify({ tables: reports }, null, 2)}\n` : reportsText(reports));
      if (reports.some((r) => r.status === "MISSING")) throw new ReportedFailure("a table is missing");
    });

  tables
    .command("set-capacity")
    .description("switch a table (and its GSIs) to provisioned capacity with these units")
    .argument("<table>", LOGICAL_NAMES.join(", "))
    .requiredOption("--read <units>", "read capacity units", capacity)
    .requiredOption("--write <units>", "write capacity units", capacity)
    .action(async (name: string, options: { read: number; write: number }, cmd: Command) => {
      const key = tableKey(cmd, name);
      const changed = await withStore((store, definitions) =>
        setCapacity(store.client.raw, pick(definitions, [key])[0]!, options.read, options.write),
      );
      io.out(`${name}: ${changed ? "now" : "already"} provisioned ${options.read}R/${options.write}W\n`);
    });

  tables
    .command("ttl")
    .description("turn DynamoDB TTL on (on the attribute the definition names) or off")
    .argument("<table>", LOGICAL_NAMES.join(", "))
    .addOption(new Option("--enable", "turn TTL on").conflicts("disable"))
    .addOption(new Option("--disable", "turn TTL off"))
    .action(async (name: string, options: { enable?: boolean; disable?: boolean }, cmd: Command) => {
      if (!options.enable && !options.disable) cmd.error("error: say --enable or --disable", { exitCode: EXIT_USAGE });
      const key = tableKey(cmd, name);
      const enable = options.enable === true;
      try {
        const changed = await withStore((store, definitions) =>
          setTtl(store.client.raw, pick(definitions, [key])[0]!, enable),
        );
        io.out(`${name}: TTL ${changed ? "now" : "already"} ${enable ? "enabled" : "disabled"}\n`);
      } catch (err) {
        if (err instanceof TtlNotDefinedError) cmd.error(`error: ${err.message}`, { exitCode: EXIT_USAGE });
        throw err;
      }
    });

  program
    .command("export")
    .description(
      "write every item of a table (or of all) to a JSON-lines file: one line per item naming its table, " +
        "the item in DynamoDB's JSON form (exact numbers); parallel scan, bounded memory",
    )
    .argument("[table]", LOGICAL_NAMES.join(", "))
    .option("--all", "every table")
    .requiredOption("--out <file>", "the file to write (replaced once the export is complete)")
    .option("--segments <n>", "parallel scan segments per table", positiveInt(64), 4)
    .action(async (name: string | undefined, options: { all?: boolean; out: string; segments: number }, cmd) => {
      if ((name === undefined) === (options.all === undefined)) {
        cmd.error("error: name one table or say --all", { exitCode: EXIT_USAGE });
      }
      const keys = name === undefined ? [] : [tableKey(cmd, name)];
      const counts = await withStore(async (store, definitions) => {
        const chosen = pick(definitions, keys);
        const reports = await describeTables(store.client.raw, chosen);
        const missing = reports.filter((r) => r.status === "MISSING").map((r) => r.name);
        if (missing.length > 0) throw new Error(`no such table: ${missing.join(", ")} (check TABLE_PREFIX)`);
        const estimate = reports.reduce((n, r) => n + (r.itemCount ?? 0), 0);
        const progress = createProgress("export", estimate);
        try {
          return await exportTables(store.client.raw, chosen, {
            out: options.out,
            segments: options.segments,
            progress,
          });
        } finally {
          progress.stop();
        }
      });
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      io.out(`exported ${total} items to ${options.out} (${countsText(counts)})\n`);
    });

  program
    .command("import")
    .description(
      "put every item of an export file into its table under this TABLE_PREFIX (overwriting items with " +
        "the same key, so a re-run is safe); exit 1 if any item was not written",
    )
    .argument("<file>", "a file written by export")
    .option("--parallel <n>", "BatchWriteItem requests in flight", positiveInt(64), 4)
    .action(async (file: string, options: { parallel: number }) => {
      const lines = await countLines(file);
      const result = await withStore(async (store, definitions) => {
        const progress = createProgress("import", lines);
        try {
          return await importFile(store.client.raw, definitions, file, { parallel: options.parallel, progress });
        } finally {
          progress.stop();
        }
      });
      const written = Object.values(result.written).reduce((a, b) => a + b, 0);
      io.out(`imported ${written} items from ${file} (${countsText(result.written)}); ${result.failed} not written\n`);
      if (result.failed > 0) {
        for (const reason of result.reasons) io.err(`not written: ${reason}\n`);
        throw new ReportedFailure(`${result.failed} items were not written`);
      }
    });

  program
    .command("seed")
    .description(
      "write demo data through the service's own stores: items with exact prices, accounts with " +
        "transfers, customers with orders in every status; the same counts and --seed give the same data",
    )
    .option("--customers <n>", "customers, each with 1-3 orders (needs --items > 0)", count, 20)
    .option("--items <n>", "inventory items", count, 50)
    .option("--accounts <n>", "bank accounts (about half as many transfers between them)", count, 10)
    .option("--seed <n>", "seed of the generator", positiveInt(2 ** 31), 1)
    .action(async (options: { customers: number; items: number; accounts: number; seed: number }, cmd) => {
      if (options.customers > 0 && options.items === 0) {
        cmd.error("error: --customers needs --items > 0 (orders need items)", { exitCode: EXIT_USAGE });
      }
      const plan = seedPlan(options, options.seed);
      const result = await withStore(async (store) => {
        const total = plan.items.length + plan.accounts.length + plan.transfers.length + plan.orders.length;
        const progress = createProgress("seed", total);
        try {
          return await seed(store.client, store.tablePrefix, plan, (n) => progress.add(n));
        } finally {
          progress.stop();
        }
      });
      const orders = Object.entries(result.orders)
        .map(([status, n]) => `${n} ${status}`)
        .join(", ");
      io.out(
        `items: ${result.items.created} created, ${result.items.existing} existed\n` +
          `accounts: ${result.accounts.created} created, ${result.accounts.existing} existed\n` +
          `transfers: ${result.transfers}\n` +
          `orders: ${plan.orders.length}${orders === "" ? "" : ` (${orders})`}\n`,
      );
    });

  return program;
}

/** Runs one command line (`argv` as process.argv has it); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the message (or the help) already.
      const ok = err.code === "commander.helpDisplayed" || err.code === "commander.version";
      return ok ? EXIT_OK : EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      io.err(`commerce-admin: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (!(err instanceof ReportedFailure)) {
      io.err(`commerce-admin: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return EXIT_FAILURE;
  }
}

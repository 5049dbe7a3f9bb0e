/**
 * Who runs the embedded DynamoDB Local on a data directory: `<dataDir>/dynamodb/engine.json`
 * names the owning process and, once the engine answers, its endpoint. DynamoDB Local is
 * not built for two JVMs sharing one database file, so:
 *  - starting an engine takes the lease first, exclusively (created with O_EXCL), and a
 *    second start on a directory whose owner is alive is refused (a lease whose owner died,
 *    even by SIGKILL, is stale and taken over);
 *  - commerce-admin looks here first and, with the server running, talks to its engine.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";

interface Lease {
  /** The process that started the engine (and stops it). */
  owner: number;
  /** Set once the engine answers. */
  endpoint?: string;
}

const file = (dbPath: string) => path.join(dbPath, "engine.json");

function readLease(dbPath: string): Lease | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file(dbPath), "utf8")) as Partial<Lease>;
    if (typeof parsed.owner !== "number") return undefined;
    return typeof parsed.endpoint === "string"
      ? { owner: parsed.owner, endpoint: parsed.endpoint }
      : { owner: parsed.owner };
  } catch {
    // Missing, or being rewritten this instant: nobody to attach to.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the data directory for this process. Resolves to the pid of the live process that
 * holds it instead, if there is one.
 */
export function acquireLease(dbPath: string): number | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file(dbPath), JSON.stringify({ owner: process.pid } satisfies Lease), { flag: "wx" });
      return undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const held = readLease(dbPath);
      if (held !== undefined && isAlive(held.owner)) return held.owner;
      rmSync(file(dbPath), { force: true });
    }
  }
  return readLease(dbPath)?.owner ?? -1;
}

export function publishEndpoint(dbPath: string, endpoint: string): void {
  writeFileSync(file(dbPath), JSON.stringify({ owner: process.pid, endpoint } satisfies Lease));
}

export function releaseLease(dbPath: string): void {
  if (readLease(dbPath)?.owner === process.pid) rmSync(file(dbPath), { force: true });
}

/**
 * The endpoint of the engine another live process runs on `dataDir`, waiting up to
 * `waitMs` for one that is still starting; undefined when there is none (or a stale lease).
 */
export async function findRunningEngine(dataDir: string, waitMs = 60_000): Promise<string | undefined> {
  const dbPath = path.resolve(dataDir, "dynamodb");
  const deadline = Date.now() + waitMs;
  for (;;) {
    const lease = readLease(dbPath);
    if (lease === undefined || !isAlive(lease.owner)) return undefined;
    if (lease.endpoint !== undefined) return (await answers(lease.endpoint)) ? lease.endpoint : undefined;
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Where a running embedded DynamoDB Local can be found: `<dataDir>/dynamodb/engine.json`
 * holds its endpoint and JVM pid while it runs. The server writes it when it starts the
 * engine on a data directory; commerce-admin reads it, so that with the server running it
 * talks to the server's engine instead of starting a second JVM on the same files
 * (DynamoDB Local is not built for two processes sharing one database file).
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";

export interface EngineLease {
  readonly endpoint: string;
  /** The JVM's pid. */
  readonly pid: number;
}

export function leaseFile(dbPath: string): string {
  return path.join(dbPath, "engine.json");
}

export function writeLease(dbPath: string, lease: EngineLease): void {
  writeFileSync(leaseFile(dbPath), `${JSON.stringify(lease)}\n`);
}

/** Removes the lease if it is still this engine's (another engine may have started since). */
export function removeLease(dbPath: string, pid: number): void {
  if (readLease(dbPath)?.pid === pid) rmSync(leaseFile(dbPath), { force: true });
}

function readLease(dbPath: string): EngineLease | undefined {
  try {
    const parsed = JSON.parse(readFileSync(leaseFile(dbPath), "utf8")) as Partial<EngineLease>;
    if (typeof parsed.endpoint !== "string" || typeof parsed.pid !== "number") return undefined;
    return { endpoint: parsed.endpoint, pid: parsed.pid };
  } catch {
    // Missing or half-written: no engine to attach to.
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The endpoint of the engine running on `dataDir`, if one is: its lease names a live pid
 * and the endpoint answers ListTables (which also rules out a recycled pid). Undefined
 * otherwise, a stale lease included.
 */
export async function findRunningEngine(dataDir: string): Promise<string | undefined> {
  const lease = readLease(path.resolve(dataDir, "dynamodb"));
  if (lease === undefined || !isAlive(lease.pid)) return undefined;
  const client = new DynamoDBClient({
    endpoint: lease.endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return lease.endpoint;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

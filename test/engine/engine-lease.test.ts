import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireLease, findRunningEngine, publishEndpoint, releaseLease } from "../../src/engine/engine-lease.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** A data directory as the engine lays it out: the lease sits in <dataDir>/dynamodb. */
function dataDir(): { dataDir: string; dbPath: string } {
  const d = mkdtempSync(path.join(tmpdir(), "lease-"));
  dirs.push(d);
  const dbPath = path.join(d, "dynamodb");
  mkdirSync(dbPath);
  return { dataDir: d, dbPath };
}
/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid!;
}

describe("engine lease", () => {
  it("is taken once: a second taker learns the live holder", () => {
    const { dbPath } = dataDir();
    expect(acquireLease(dbPath)).toBeUndefined();
    expect(acquireLease(dbPath)).toBe(process.pid);
    releaseLease(dbPath);
    expect(acquireLease(dbPath)).toBeUndefined();
  });

  it("takes over a lease whose owner is dead", () => {
    const { dbPath } = dataDir();
    writeFileSync(path.join(dbPath, "engine.json"), JSON.stringify({ owner: deadPid(), endpoint: "http://x" }));
    expect(acquireLease(dbPath)).toBeUndefined();
    expect(JSON.parse(readFileSync(path.join(dbPath, "engine.json"), "utf8"))).toEqual({ owner: process.pid });
  });

  it("finds no engine without a lease, with a dead owner, or when the endpoint does not answer", async () => {
    const { dataDir: d, dbPath } = dataDir();
    expect(await findRunningEngine(d)).toBeUndefined();
    writeFileSync(path.join(dbPath, "engine.json"), JSON.stringify({ owner: deadPid(), endpoint: "http://x" }));
    expect(await findRunningEngine(d)).toBeUndefined();
    rmSync(path.join(dbPath, "engine.json"));
    expect(acquireLease(dbPath)).toBeUndefined();
    // Port 9 (discard): nothing answers DynamoDB there.
    publishEndpoint(dbPath, "http://127.0.0.1:9");
    expect(await findRunningEngine(d)).toBeUndefined();
  });
});

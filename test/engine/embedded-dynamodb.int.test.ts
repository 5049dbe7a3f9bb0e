/**
 * The embedded engine against a real JVM: persistence across restarts, clean stops, the
 * one-line "no Java" failure, dying with its parent, and the shared engine that
 * test/global-setup.ts provides. Each start costs a JVM boot (~3 s here); the pure launch
 * details are unit-tested in embedded-dynamodb.test.ts.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, inject, it } from "vitest";
import { EmbeddedDynamoDbError, startEmbeddedDynamoDb } from "../../src/engine/embedded-dynamodb.js";
import { ensureTables, tableNames } from "../../src/store/tables.js";

function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

/** Signal 0 answers for a zombie too: an orphan waits for init to reap it, so ask /proc. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== "linux") return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitForDeath(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(100);
  }
  return !isAlive(pid);
}

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe("startEmbeddedDynamoDb", () => {
  it("keeps data in dataDir across a restart, and stop() leaves no process", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "embedded-ddb-"));
    tempDirs.push(dataDir);
    const names = tableNames("");

    const first = await startEmbeddedDynamoDb({ dataDir });
    expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(first.endpoint).port);
    let client = clientFor(first.endpoint);
    try {
      const { statusIndex: _index, ...tables } = names;
      expect(await ensureTables(client, "")).toEqual(Object.values(tables));
      await client.send(
        new PutItemCommand({
          TableName: names.inventory,
          Item: { sku: { S: "SKU-1" }, name: { S: "kept" } },
        }),
      );
    } finally {
      client.destroy();
    }
    await first.stop();
    expect(() => process.kill(first.pid, 0)).toThrow();
    await first.stop(); // idempotent: resolves again, signals nothing
    expect(existsSync(path.join(dataDir, "dynamodb", "shared-local-instance.db"))).toBe(true);

    // Same directory, and this time a fixed port (the one just freed).
    const second = await startEmbeddedDynamoDb({ dataDir, port });
    expect(second.endpoint).toBe(first.endpoint);
    expect(second.pid).not.toBe(first.pid);
    client = clientFor(second.endpoint);
    try {
      expect(await ensureTables(client, "")).toEqual([]);
      const got = await client.send(new GetItemCommand({ TableName: names.inventory, Key: { sku: { S: "SKU-1" } } }));
      expect(got.Item).toEqual({ sku: { S: "SKU-1" }, name: { S: "kept" } });
    } finally {
      client.destroy();
      await Promise.all([second.stop(), second.stop()]);
    }
    expect(() => process.kill(second.pid, 0)).toThrow();
  });

  it("refuses a fixed port that is taken, before starting a JVM", async () => {
    const squatter = createServer().listen(0);
    await once(squatter, "listening");
    const { port } = squatter.address() as AddressInfo;
    try {
      await expect(startEmbeddedDynamoDb({ port })).rejects.toMatchObject({
        name: "EmbeddedDynamoDbError",
        reason: "PORT_IN_USE",
      });
    } finally {
      squatter.close();
    }
  });

  it("fails with one clear line when Java is missing", async () => {
    const failure = await startEmbeddedDynamoDb({ java: "/nonexistent/bin/java" }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(EmbeddedDynamoDbError);
    const err = failure as EmbeddedDynamoDbError;
    expect(err.reason).toBe("JAVA_MISSING");
    expect(err.message).not.toContain("\n");
    expect(err.message).toMatch(/Java 17\+.*install.*DYNAMODB_ENDPOINT/);
  });

  // The engine must not outlive this process however it ends. A child Node process
  // starts one and prints its pid; then it either ends without stop() (the 'exit'
  // handler kills the JVM) or is SIGKILLed (only the kernel's parent-death signal,
  // set through setpriv on Linux, can help then).
  describe("dies with its parent", () => {
    const moduleUrl = new URL("../../src/engine/embedded-dynamodb.ts", import.meta.url).href;

    interface Started {
      parentExited: Promise<void>;
      parentPid: number;
      javaPid: number;
    }

    async function startInChild(thenScript: string): Promise<Started> {
      const script = `import { startEmbeddedDynamoDb } from ${JSON.stringify(moduleUrl)};
const db = await startEmbeddedDynamoDb({});
process.stdout.write(db.pid + "\\n");
${thenScript}`;
      const args = ["--import", "tsx", "--input-type=module", "-e", script];
      const child = spawn(process.execPath, args, {
        cwd: new URL("../..", import.meta.url),
        stdio: ["ignore", "pipe", "inherit"],
      });
      const parentExited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      let out = "";
      const javaPid = await new Promise<number>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const line = /^(\d+)\n/.exec(out);
          if (line) resolve(Number(line[1]));
        });
        void parentExited.then(() => reject(new Error(`child exited before a pid: ${out}`)));
      });
      return { parentExited, parentPid: child.pid!, javaPid };
    }

    /** Only for a failed assertion: the JVM our own child started, checked by command line. */
    function killLeftover(pid: number): void {
      if (!isAlive(pid)) return;
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("DynamoDBLocal.jar")) {
        process.kill(pid, "SIGKILL");
      }
    }

    it("when the parent ends without calling stop()", async () => {
      const { parentExited, javaPid } = await startInChild("// nothing keeps the event loop alive");
      await parentExited;
      try {
        expect(await waitForDeath(javaPid, 10_000)).toBe(true);
      } finally {
        killLeftover(javaPid);
      }
    });

    it.runIf(process.platform === "linux")("when the parent is SIGKILLed", async () => {
      const { parentExited, parentPid, javaPid } = await startInChild("setInterval(() => {}, 1000);");
      expect(isAlive(javaPid)).toBe(true);
      process.kill(parentPid, "SIGKILL");
      await parentExited;
      try {
        expect(await waitForDeath(javaPid, 10_000)).toBe(true);
      } finally {
        killLeftover(javaPid);
      }
    });
  });
});

describe("the global-setup engine", () => {
  it("answers ListTables with all seven tables", async () => {
    const client = clientFor(inject("dynamoEndpoint"));
    try {
      const { TableNames: listed } = await client.send(new ListTablesCommand({}));
      const { statusIndex: _index, ...tables } = tableNames("");
      expect(listed).toEqual(expect.arrayContaining(Object.values(tables)));
    } finally {
      client.destroy();
    }
  });
});

/**
 * The service as operators run it: `src/main.ts` as a child process on its embedded
 * DynamoDB Local with a DATA_DIR. SIGTERM ends it cleanly with no Java left behind, a
 * restart keeps the data, and a bad setting stops the start with one line naming it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { failure, grpcClient } from "../support/rpc-client.js";

const M = InventoryService.method;
const children: ChildProcess[] = [];
let dataDir = "";

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  grpcAddress: string;
  javaPid: number;
  exited: Promise<number | null>;
}

function startMain(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, HTTP_PORT: "0", METRICS_PORT: "0", GRPC_PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let javaPid = 0;
    const timer = setTimeout(() => reject(new Error("main did not start in 60 s")), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const log = JSON.parse(line) as { msg?: string; pid?: number; address?: string };
      if (log.msg === "DynamoDB Local started") javaPid = log.pid ?? 0;
      if (log.msg === "gRPC listening") {
        clearTimeout(timer);
        resolve({ child, grpcAddress: log.address!, javaPid, exited });
      }
    });
    void exited.then((code) => reject(new Error(`main exited with ${code} before listening`)));
  });
}

/** Running: exists and is not a zombie waiting for PID 1 to reap it. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("src/main.ts", () => {
  it("stops cleanly on SIGTERM, leaves no Java behind, and keeps data across a restart", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "main-"));
    const first = await startMain({ DATA_DIR: dataDir });
    expect(first.javaPid).toBeGreaterThan(0);
    const client = grpcClient(first.grpcAddress);
    await client.unary(M.createItem, { item: { sku: "durable", name: "Durable", unitPrice: { currencyCode: "EUR", units: 2n }, quantity: 9n } });
    client.close();
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(alive(first.javaPid)).toBe(false);

    const second = await startMain({ DATA_DIR: dataDir });
    const again = grpcClient(second.grpcAddress);
    expect((await again.unary(M.getItem, { sku: "durable" })).item?.quantity).toBe(9n);
    expect((await failure(() => again.unary(M.getItem, { sku: "absent" }))).errorInfo?.reason).toBe("ITEM_NOT_FOUND");
    again.close();
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
    expect(alive(second.javaPid)).toBe(false);
  });

  it("refuses a bad setting with one line naming it", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env: { ...process.env, GRPC_PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    const lines = stderr.trim().split("\n").filter((l) => !/NodeVersionSupportWarning|AWS SDK|node >=22|upgrade|a\.co|trace-warnings|^\s*$|To continue|versions published/.test(l));
    expect(lines).toEqual([expect.stringMatching(/^commerce: GRPC_PORT="not-a-port" is invalid: expected an integer from 0 to 65535$/)]);
  });

  it("stops with one line naming the setting when the port is taken, leaving no Java behind", async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const ownDir = await mkdtemp(join(tmpdir(), "taken-"));
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
        env: { ...process.env, GRPC_PORT: String(port), HTTP_PORT: "0", METRICS_PORT: "0", DATA_DIR: ownDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.push(child);
      let stderr = "";
      let javaPid = 0;
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const log = JSON.parse(line) as { msg?: string; pid?: number };
        if (log.msg === "DynamoDB Local started") javaPid = log.pid ?? 0;
      });
      expect(await new Promise<number | null>((resolve) => child.once("exit", resolve))).toBe(1);
      expect(stderr).toContain(`commerce: cannot listen on 127.0.0.1:${port} (GRPC_HOST/GRPC_PORT): the port is in use`);
      expect(javaPid).toBeGreaterThan(0);
      expect(alive(javaPid)).toBe(false);
    } finally {
      blocker.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });
});

/**
 * The service as operators run it: `npm start` (compiled JavaScript under plain `node`,
 * Node ≥ 22) on its embedded DynamoDB Local with a DATA_DIR. SIGTERM ends it cleanly with
 * no Java left behind, a restart keeps the data, a bad setting stops the start with
 * one line naming it, and with an OTLP endpoint set a call's trace reaches the collector.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { eur } from "../support/money.js";
import { failure, grpcClient } from "../support/rpc-client.js";

const M = InventoryService.method;
const children: ChildProcess[] = [];
let dataDir = "";

// What `npm ci` (prepare) and `npm run build` produce; built here so the test runs the
// code it is looking at, never a stale dist/.
beforeAll(() => {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  grpcAddress: string;
  javaPid: number;
  /** The server process itself, from its log (under `npm start`, npm's child). */
  serverPid: number;
  /** process.version of the server, from its log. */
  nodeVersion: string;
  exited: Promise<number | null>;
}

/** The compiled service under the Node running the tests (vitest runs on the project's Node). */
const serve = (env: Record<string, string>) =>
  spawn(process.execPath, ["dist/main.js"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });

/** Exactly the README's command. */
const npmStart = (env: Record<string, string>) =>
  spawn("npm", ["start", "--silent"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });

function startMain(env: Record<string, string>, launch = serve): Promise<Started> {
  const child = launch({ HTTP_PORT: "0", METRICS_PORT: "0", GRPC_PORT: "0", LOG_LEVEL: "info", ...env });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let javaPid = 0;
    const timer = setTimeout(() => reject(new Error("main did not start in 60 s")), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const log = JSON.parse(line) as { msg?: string; pid?: number; address?: string; node?: string };
      if (log.msg === "DynamoDB Local started") javaPid = log.pid ?? 0;
      if (log.msg === "gRPC listening") {
        clearTimeout(timer);
        resolve({ child, grpcAddress: log.address!, javaPid, serverPid: log.pid!, nodeVersion: log.node!, exited });
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

describe("npm start", () => {
  it("runs plain node ≥ 22, stops cleanly on SIGTERM, leaves no Java behind, keeps data across a restart", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "main-"));
    const first = await startMain({ DATA_DIR: dataDir }, npmStart);
    expect(first.javaPid).toBeGreaterThan(0);
    expect(Number(first.nodeVersion.slice(1).split(".")[0])).toBeGreaterThanOrEqual(22);
    // The process an operator signals is node running compiled JavaScript: no tsx, no loader.
    const argv = readFileSync(`/proc/${first.serverPid}/cmdline`, "utf8").split("\0");
    expect(argv.slice(1, 3)).toEqual(["--enable-source-maps", "dist/main.js"]);
    const client = grpcClient(first.grpcAddress);
    await client.unary(M.createItem, {
      item: { sku: "durable", name: "Durable", unitPrice: { currencyCode: "EUR", units: 2n }, quantity: 9n },
    });
    client.close();
    process.kill(first.serverPid, "SIGTERM");
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
    const child = serve({ GRPC_PORT: "not-a-port" });
    children.push(child);
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^commerce: GRPC_PORT="not-a-port" is invalid: expected an integer from 0 to 65535$/),
    ]);
  });

  it("stops with one line naming the setting when the port is taken, leaving no Java behind", async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    const ownDir = await mkdtemp(join(tmpdir(), "taken-"));
    try {
      const child = serve({ GRPC_PORT: String(port), HTTP_PORT: "0", METRICS_PORT: "0", DATA_DIR: ownDir });
      children.push(child);
      let stderr = "";
      let javaPid = 0;
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const log = JSON.parse(line) as { msg?: string; pid?: number };
        if (log.msg === "DynamoDB Local started") javaPid = log.pid ?? 0;
      });
      expect(await new Promise<number | null>((resolve) => child.once("exit", resolve))).toBe(1);
      expect(stderr).toContain(
        `commerce: cannot listen on 127.0.0.1:${port} (GRPC_HOST/GRPC_PORT): the port is in use`,
      );
      expect(javaPid).toBeGreaterThan(0);
      expect(alive(javaPid)).toBe(false);
    } finally {
      blocker.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });

  it("exports a call's trace over OTLP to OTEL_EXPORTER_OTLP_ENDPOINT, the last spans at SIGTERM", async () => {
    // A stand-in collector: keeps each OTLP/HTTP request body (protobuf) and answers with an
    // empty ExportTraceServiceResponse.
    const bodies: Buffer[] = [];
    const paths: string[] = [];
    const collector = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        paths.push(req.url ?? "");
        bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const ownDir = await mkdtemp(join(tmpdir(), "traced-"));
    try {
      const started = await startMain({
        DATA_DIR: ownDir,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      });
      const logLines: Array<Record<string, unknown>> = [];
      createInterface({ input: started.child.stdout! }).on("line", (line) => logLines.push(JSON.parse(line)));
      const traceId = randomBytes(16).toString("hex");
      const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
      const client = grpcClient(started.grpcAddress);
      const f = await failure(() => client.unary(M.getItem, { sku: "absent" }, { headers: { traceparent } }));
      expect(f.errorInfo?.reason).toBe("ITEM_NOT_FOUND");
      client.close();
      // The batch processor exports every 5 s: sooner than that, only the shutdown flush sends.
      process.kill(started.serverPid, "SIGTERM");
      expect(await started.exited).toBe(0);

      expect(logLines.find((l) => l["msg"] === "rpc")).toMatchObject({ trace_id: traceId, code: "NOT_FOUND" });
      expect(paths.every((p) => p === "/v1/traces")).toBe(true);
      // The protobuf carries ids as raw bytes and names as UTF-8: enough to find our trace.
      const sent = Buffer.concat(bodies);
      expect(sent.includes(Buffer.from(traceId, "hex"))).toBe(true);
      expect(sent.includes("commerce.v1.InventoryService/GetItem")).toBe(true);
      expect(sent.includes("DynamoDB.GetItem")).toBe(true);
      expect(sent.includes("commerce")).toBe(true);
    } finally {
      collector.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });
});

describe("SIGHUP", () => {
  it("reloads AUTH_POLICY_FILE without dropping connections, and keeps the old policy when the new file is bad", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    const file = join(dir, "policy.json");
    const token = randomBytes(16).toString("hex");
    const writePolicy = (allow: string[]) =>
      writeFileSync(
        file,
        JSON.stringify({
          principals: [{ name: "checkout", token_sha256: createHash("sha256").update(token).digest("hex"), allow }],
        }),
      );
    writePolicy(["commerce.v1.InventoryService/GetItem"]);
    try {
      const started = await startMain({
        DYNAMODB_ENDPOINT: inject("dynamoEndpoint"),
        TABLE_PREFIX: `hup${randomBytes(3).toString("hex")}_`,
        AUTH_MODE: "token",
        AUTH_POLICY_FILE: file,
      });
      const logged = (msg: string) =>
        new Promise<void>((resolve) => {
          const lines = createInterface({ input: started.child.stdout! });
          lines.on("line", (line) => {
            if ((JSON.parse(line) as { msg?: string }).msg?.startsWith(msg)) {
              lines.close();
              resolve();
            }
          });
        });
      const client = new grpc.Client(started.grpcAddress, grpc.credentials.createInsecure());
      const rpc = grpcClient(started.grpcAddress, { headers: { authorization: `Bearer ${token}` } });
      const sku = `hup-${randomBytes(4).toString("hex")}`;
      const create = () => rpc.unary(M.createItem, { item: { sku, name: "n", unitPrice: eur(1n), quantity: 1n } });
      try {
        expect((await failure(() => rpc.unary(M.getItem, { sku }))).code).toBe(Code.NotFound);
        expect((await failure(create)).code).toBe(Code.PermissionDenied);
        // One long-lived connection, watched across both reloads: it must never leave READY.
        await new Promise<void>((resolve, reject) =>
          client.waitForReady(Date.now() + 10_000, (e) => (e ? reject(e) : resolve())),
        );
        const states: grpc.connectivityState[] = [];
        const watch = () =>
          client.getChannel().watchConnectivityState(grpc.connectivityState.READY, Infinity, () => {
            states.push(client.getChannel().getConnectivityState(false));
          });
        watch();

        writePolicy(["commerce.v1.InventoryService/*"]);
        const reloaded = logged("auth policy reloaded");
        started.child.kill("SIGHUP");
        await reloaded;
        await create();

        writeFileSync(file, "{ not json");
        const refused = logged("auth policy not reloaded");
        started.child.kill("SIGHUP");
        await refused;
        expect((await rpc.unary(M.getItem, { sku })).item?.sku).toBe(sku); // the previous policy still holds
        expect(states).toEqual([]);
        expect(started.child.exitCode).toBeNull();
      } finally {
        client.close();
        rpc.close();
        started.child.kill("SIGTERM");
        await started.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

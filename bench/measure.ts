/**
 * How every figure is taken: closed-loop load for a fixed time (N callers, each sending its
 * next call when the last one answered), and pairs measured in alternating rounds after a
 * warm-up, reported as the median of the per-round figures. A slow moment of the (shared)
 * machine then hits both sides of a round alike, and the first side of a round alternates,
 * so neither gets the warmer caches.
 */
import { performance } from "node:perf_hooks";

export interface LoadResult {
  calls: number;
  seconds: number;
  /** Calls answered per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time per call of each watched process (user + system), µs. */
  cpuUsPerCall: Record<string, number>;
}

/** Cumulative CPU seconds of a process, by name (see processes.ts cpuSeconds). */
export type CpuMeters = Record<string, () => number>;

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/**
 * `concurrency` callers run `call` back to back for `durationMs`; every call must succeed
 * (a failure aborts the bench: a figure over failed calls would measure the failure path).
 */
export async function closedLoop(
  call: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
  meters: CpuMeters = {},
): Promise<LoadResult> {
  const latencies: number[] = [];
  const cpuAtStart = Object.fromEntries(Object.entries(meters).map(([name, read]) => [name, read()]));
  const started = performance.now();
  const end = started + durationMs;
  const caller = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await call();
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (performance.now() - started) / 1000;
  const cpuUsPerCall = Object.fromEntries(
    Object.entries(meters).map(([name, read]) => [name, ((read() - cpuAtStart[name]!) * 1e6) / latencies.length]),
  );
  return {
    calls: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuUsPerCall,
  };
}

/**
 * Load on fresh processes before a stage's first round: each of `calls` in turn, at
 * `concurrency` in flight, at most a second at a time, for `totalMs` in all. A process's JIT
 * compiles its hot paths only after thousands of calls, more than one round's warm-up run.
 */
export async function warmUpLoad(
  calls: readonly (() => Promise<unknown>)[],
  concurrency: number,
  totalMs: number,
): Promise<void> {
  const passes = Math.max(1, Math.ceil(totalMs / (calls.length * 1_000)));
  const eachMs = totalMs / (calls.length * passes);
  for (let pass = 0; pass < passes; pass++) {
    for (const call of calls) await closedLoop(call, concurrency, eachMs);
  }
}

export interface Rounds<T> {
  /** Side A's result in each round (warm-up excluded). */
  a: T[];
  b: T[];
}

/**
 * One warm-up run of each side (discarded, unless `warmUp` is false: the same work has just
 * run), then `rounds` rounds of both; even rounds run A first, odd rounds B first.
 * `onRound` reports progress.
 */
export async function alternate<T>(
  rounds: number,
  runA: () => Promise<T>,
  runB: () => Promise<T>,
  onRound: (round: number) => void = () => undefined,
  warmUp = true,
): Promise<Rounds<T>> {
  if (warmUp) {
    await runA();
    await runB();
  }
  const out: Rounds<T> = { a: [], b: [] };
  for (let round = 0; round < rounds; round++) {
    onRound(round + 1);
    if (round % 2 === 0) {
      out.a.push(await runA());
      out.b.push(await runB());
    } else {
      out.b.push(await runB());
      out.a.push(await runA());
    }
  }
  return out;
}

/**
 * For two calls down the same path (two pages of one list): `rounds` rounds after one
 * discarded, each sending `calls` calls of each side one at a time in turn (A, B, A, B,
 * ...; B first in odd rounds), and giving each side's p50, ms. A slow moment of the
 * machine then falls on both sides' calls alike, which runs of one side then the other
 * (`alternate`) leave to chance. Not for two different paths: in turn, each side's call
 * runs on the caches the other's has just used (README, "How it measures").
 */
export async function alternateInTurn(
  rounds: number,
  callA: () => Promise<unknown>,
  callB: () => Promise<unknown>,
  calls: number,
  onRound: (round: number) => void = () => undefined,
): Promise<Rounds<number>> {
  const round = async (aFirst: boolean) => {
    const a = { call: callA, latencies: [] as number[] };
    const b = { call: callB, latencies: [] as number[] };
    const order = aFirst ? [a, b] : [b, a];
    for (let i = 0; i < calls; i++) {
      for (const side of order) {
        const started = performance.now();
        await side.call();
        side.latencies.push(performance.now() - started);
      }
    }
    return { a: median(a.latencies), b: median(b.latencies) };
  };
  await round(true);
  const out: Rounds<number> = { a: [], b: [] };
  for (let r = 0; r < rounds; r++) {
    onRound(r + 1);
    const { a, b } = await round(r % 2 === 0);
    out.a.push(a);
    out.b.push(b);
  }
  return out;
}

/** The median over rounds of f(a_i, b_i): a per-round ratio or difference. */
export function medianOf<T>(rounds: Rounds<T>, f: (a: T, b: T) => number): { median: number; perRound: number[] } {
  const perRound = rounds.a.map((a, i) => f(a, rounds.b[i]!));
  return { median: median(perRound), perRound };
}

/**
 * A Prometheus histogram of durations whose series are handles the caller keeps: an
 * observation is one bucket search and three additions. Written here because prom-client's
 * Histogram validates and hashes the label values on every observe(), its labels()
 * children included (prometheus/client_js#38, open since 2016): about 6 µs of a trivial
 * call's 185 µs of server CPU (README, "Performance"). It registers in a prom-client
 * Registry, which formats it as it formats its own histograms: `_bucket` (cumulative,
 * `le`, "+Inf" last), `_sum`, `_count`. Two differences, neither reached by metrics.ts:
 * every label must be given (prom-client leaves a missing one out), and a registry's
 * reset keeps a series at zero where prom-client drops it until observed again.
 * Pinned by test/unit/latency-histogram.test.ts.
 */
import type { Metric, Registry } from "prom-client";

/** One label set's counts. */
export class LatencySeries {
  /** Observations per bucket, not cumulative; the last is above every bound (+Inf). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly upperBounds: readonly number[],
  ) {
    this.counts = new Array<number>(upperBounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    // As prom-client: a NaN would land in the first bucket and make the sum NaN for good.
    if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class LatencyHistogram {
  /** What prom-client's Registry reads of a metric besides get() and reset(). */
  readonly type = "histogram";
  readonly aggregator = "sum";
  readonly #upperBounds: readonly number[];
  readonly #series = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    if (labelNames.includes("le")) throw new Error(`${name}: "le" is the buckets' own label`);
    this.#upperBounds = [...buckets].sort((a, b) => a - b);
    // The Registry's type names prom-client's own classes only; it reads name and type and
    // calls get() (whose result carries the aggregator) and reset(), all of which are here.
    registry.registerMetric(this as unknown as Metric);
  }

  /**
   * The series of `labels` (one value per label name), made on first use. Kept by the
   * caller where it can be (one per RPC method); found by its values otherwise.
   */
  series(labels: Readonly<Record<string, string>>): LatencySeries {
    const values = this.labelNames.map((name) => labels[name]);
    if (values.includes(undefined) || Object.keys(labels).length !== values.length) {
      throw new Error(`${this.name}: labels ${Object.keys(labels).join(", ")} are not ${this.labelNames.join(", ")}`);
    }
    const key = JSON.stringify(values);
    let series = this.#series.get(key);
    if (series === undefined) {
      const own = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!]));
      series = new LatencySeries(own, this.#upperBounds);
      this.#series.set(key, series);
    }
    return series;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#upperBounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        values.push({ labels: { le, ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: "+Inf", ...series.labels }, value: series.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** Registry.resetMetrics(): every series back to zero (the handles stay valid). */
  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

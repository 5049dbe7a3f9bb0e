import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../src/middleware/latency-histogram.js";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ["operation", "outcome"] as const;

const observation = fc.record({
  operation: fc.constantFrom("GetItem", "Query", 'a "quoted"\\name'),
  outcome: fc.constantFrom("OK", "ConditionalCheckFailed"),
  // Exactly on a bound counts in that bucket (le is "less than or equal").
  seconds: fc.oneof(fc.constantFrom(...BUCKETS, 0), fc.double({ min: 0, max: 30, noNaN: true })),
});

describe("LatencyHistogram", () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const theirs = new Registry();
        const ours = new Registry();
        const histogram = new Histogram({
          name: "op_seconds",
          help: "help",
          labelNames: LABELS,
          buckets: BUCKETS,
          registers: [theirs],
        });
        const latency = new LatencyHistogram("op_seconds", "help", LABELS, BUCKETS, ours);
        for (const { operation, outcome, seconds } of observations) {
          histogram.observe({ operation, outcome }, seconds);
          latency.series({ operation, outcome }).observe(seconds);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        // prom-client's own also carry an empty exemplar per value.
        const withoutExemplars = (metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
          metrics.map(({ values, ...metric }) => ({
            ...metric,
            values: values.map((v) => ({
              labels: v.labels,
              value: v.value,
              metricName: "metricName" in v && v.metricName,
            })),
          }));
        expect(withoutExemplars(await ours.getMetricsAsJSON())).toEqual(
          withoutExemplars(await theirs.getMetricsAsJSON()),
        );
      }),
    );
  });

  it("keeps a series' handle valid across a reset, counting from zero again", async () => {
    const registry = new Registry();
    const latency = new LatencyHistogram("op_seconds", "help", LABELS, BUCKETS, registry);
    const series = latency.series({ operation: "GetItem", outcome: "OK" });
    series.observe(0.002);
    registry.resetMetrics();
    series.observe(0.2);
    expect(latency.series({ operation: "GetItem", outcome: "OK" })).toBe(series);
    const text = await registry.metrics();
    expect(text).toContain('op_seconds_bucket{le="0.0025",operation="GetItem",outcome="OK"} 0');
    expect(text).toContain('op_seconds_bucket{le="0.25",operation="GetItem",outcome="OK"} 1');
    expect(text).toContain('op_seconds_count{operation="GetItem",outcome="OK"} 1');
    expect(text).toContain('op_seconds_sum{operation="GetItem",outcome="OK"} 0.2');
  });

  it("refuses what prom-client's Histogram refuses: a value that is not finite, labels other than its own", () => {
    const registry = new Registry();
    const latency = new LatencyHistogram("op_seconds", "help", LABELS, BUCKETS, registry);
    const series = latency.series({ operation: "GetItem", outcome: "OK" });
    expect(() => series.observe(Number.NaN)).toThrow(TypeError);
    expect(() => series.observe(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => latency.series({ operation: "GetItem" })).toThrow(/labels operation are not operation, outcome/);
    expect(() => latency.series({ operation: "GetItem", outcome: "OK", extra: "x" })).toThrow(/are not/);
    expect(() => new LatencyHistogram("x_seconds", "help", ["le"], BUCKETS, registry)).toThrow(/"le"/);
    expect(series.count).toBe(0);
  });

  it("refuses a second metric of its name in a registry, as prom-client's metrics do", () => {
    const registry = new Registry();
    new LatencyHistogram("op_seconds", "help", LABELS, BUCKETS, registry);
    expect(() => new LatencyHistogram("op_seconds", "help", LABELS, BUCKETS, registry)).toThrow(
      /already been registered/,
    );
  });
});

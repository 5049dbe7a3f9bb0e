import { describe, expect, it } from "vitest";
import { createRpcMetrics } from "../../src/middleware/metrics.js";

describe("breaker metric", () => {
  it("can be tracked again: the newer source replaces the older, one gauge stays", async () => {
    const metrics = createRpcMetrics();
    metrics.trackBreaker(() => "open");
    expect(() => metrics.trackBreaker(() => "half_open")).not.toThrow();
    const text = await metrics.registry.metrics();
    expect(text).toContain("store_circuit_breaker_state 1");
    expect(text.match(/^# TYPE store_circuit_breaker_state /gm)).toHaveLength(1);
  });
});

/** The SDK clients a StoreClient runs its calls through: what their middleware stacks hold. */
import { describe, expect, it } from "vitest";
import { createStoreClient } from "../../src/store/dynamo.js";

describe("store client SDK stacks", () => {
  it("leave out the SDK's logger middleware, which would filter-copy every input and output", () => {
    const client = createStoreClient({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      credentials: "local",
      onOperation: () => undefined,
    });
    try {
      const stack = client.raw.middlewareStack.identify();
      expect(stack.some((m) => m.startsWith("loggerMiddleware"))).toBe(false);
      // Everything a call needs is still there, and our operation metrics too.
      for (const needed of [
        "serializerMiddleware",
        "retryMiddleware",
        "httpSigningMiddleware",
        "commerceOperationMetrics",
      ]) {
        expect(stack.some((m) => m.startsWith(needed))).toBe(true);
      }
      expect(client.doc.middlewareStack.identify()).toEqual(stack);
    } finally {
      client.destroy();
    }
  });
});

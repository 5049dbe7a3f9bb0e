/** The caller every resilience test plays: it retries what the contract says may succeed later. */
import { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import { isRpcFailure } from "./rpc-client.js";

/**
 * A caller that retries what the API says a retry can fix (UNAVAILABLE, ABORTED — each
 * with RetryInfo) with the same request, until success or a definite failure.
 */
export async function withRetries<T>(call: () => Promise<T>, attempts = 30): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!isRpcFailure(e) || attempt >= attempts || ![Code.Unavailable, Code.Aborted].includes(e.code)) throw e;
      expect(e.retryInfo, `${Code[e.code]} ${e.errorInfo?.reason} carries RetryInfo`).toBeDefined();
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}

/**
 * The first attempt a call was given answers only that call's first request for the same
 * operation; every other request goes to the real handler with the call's signal.
 */

import type { HttpHandler } from "@smithy/core/protocols";
import { HttpRequest, HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions } from "@smithy/types";
import { describe, expect, it } from "vitest";
import { SignalScopedHandler, withCallSignal } from "../../src/store/call-signal.js";

function requestFor(operation: string): HttpRequest {
  return new HttpRequest({
    method: "POST",
    hostname: "db",
    headers: { "x-amz-target": `DynamoDB_20120810.${operation}` },
  });
}

/** A handler that records what it is asked to send and answers each with a 200. */
function recordingHandler() {
  const sent: { target: string | undefined; signal: unknown }[] = [];
  const handler: HttpHandler<object> = {
    handle: async (request: HttpRequest, options?: HttpHandlerOptions) => {
      sent.push({ target: request.headers["x-amz-target"], signal: options?.abortSignal });
      return { response: new HttpResponse({ statusCode: 200, headers: {} }) };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
  return { handler, sent };
}

describe("SignalScopedHandler with a first attempt", () => {
  it("answers the first request for that operation with it, once; other requests are sent", async () => {
    const { handler, sent } = recordingHandler();
    const scoped = new SignalScopedHandler(handler);
    const made = new HttpResponse({ statusCode: 400, headers: { "x-made": "yes" } });
    const signal = new AbortController().signal;
    const answers = await withCallSignal(
      signal,
      async () => [
        await scoped.handle(requestFor("DescribeEndpoints")),
        await scoped.handle(requestFor("GetItem")),
        await scoped.handle(requestFor("GetItem")),
      ],
      { target: "DynamoDB_20120810.GetItem", response: made },
    );
    expect(answers.map((a) => a.response.statusCode)).toEqual([200, 400, 200]);
    expect(answers[1]?.response).toBe(made);
    expect(sent).toEqual([
      { target: "DynamoDB_20120810.DescribeEndpoints", signal },
      { target: "DynamoDB_20120810.GetItem", signal },
    ]);
  });

  it("a first attempt that failed to send throws that error, once", async () => {
    const { handler, sent } = recordingHandler();
    const scoped = new SignalScopedHandler(handler);
    const failure = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    await withCallSignal(
      undefined,
      async () => {
        await expect(scoped.handle(requestFor("GetItem"))).rejects.toBe(failure);
        await expect(scoped.handle(requestFor("GetItem"))).resolves.toBeDefined();
      },
      { target: "DynamoDB_20120810.GetItem", error: failure },
    );
    expect(sent).toHaveLength(1);
  });

  it("outside such a call every request is sent", async () => {
    const { handler, sent } = recordingHandler();
    await new SignalScopedHandler(handler).handle(requestFor("GetItem"));
    expect(sent).toEqual([{ target: "DynamoDB_20120810.GetItem", signal: undefined }]);
  });
});

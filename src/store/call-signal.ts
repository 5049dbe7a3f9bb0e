/**
 * The abort signal of the store call in progress, carried to the HTTP handler in async
 * context rather than in `send`'s options. The SDK reuses a client's resolved middleware
 * handler (`cacheMiddleware: true`) only for calls made with no per-call options at all
 * (`useHandlerCache = options === undefined` in @smithy/core's Client.send), and the abort
 * signal is such an option: passed there, it makes the SDK resolve the whole middleware
 * stack again for every call, about a tenth of the service's CPU per GetItem here
 * (README, Performance). The handler below hands the signal to the HTTP request itself, so
 * a cancelled call still ends its DynamoDB request, and sends none after.
 *
 * The same context can carry the outcome of a first attempt already made elsewhere
 * (direct-calls.ts sends a read's first attempt itself): the handler then gives the SDK that
 * outcome as its own first attempt's instead of sending again, so the SDK's error typing,
 * clock-skew correction and retries take over from there exactly as if it had sent it.
 *
 * The options also reach the SDK's retry middleware, which stops waiting between attempts
 * when the signal aborts; without them it would sleep out its backoff (seconds, after
 * throttling) before its next attempt failed. So `withCallSignal` releases the caller at
 * the abort itself, as the SDK would, and the abandoned call ends at that next attempt
 * without sending anything.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { addAbortListener } from "node:events";
import type { Readable } from "node:stream";
import type { HttpHandler, HttpRequest, HttpResponse } from "@smithy/core/protocols";
import type { HttpHandlerOptions } from "@smithy/types";

/**
 * How a first attempt already made ended: its response, or the error sending it threw.
 * `target` is its operation (the x-amz-target header): only a request for the same
 * operation is answered with it, so any other request the SDK makes in the call is sent.
 */
export type FirstAttempt = { target: string } & ({ response: HttpResponse } | { error: unknown });

interface CallScope {
  signal: AbortSignal | undefined;
  /** Given to the SDK as its first attempt's outcome, once; later attempts are sent. */
  firstAttempt: FirstAttempt | undefined;
}

const callScope = new AsyncLocalStorage<CallScope>();

/**
 * Runs `send` with `signal` as the signal of every HTTP request it makes through a
 * SignalScopedHandler (and `firstAttempt`, if given, as its first request's outcome);
 * rejects with an AbortError as soon as `signal` aborts.
 */
export async function withCallSignal<T>(
  signal: AbortSignal | undefined,
  send: () => Promise<T>,
  firstAttempt?: FirstAttempt,
): Promise<T> {
  const scope: CallScope = { signal, firstAttempt };
  const sent = callScope.run(scope, send);
  try {
    return await untilAborted(signal, sent);
  } finally {
    // A first attempt's answer the call never asked for (it failed before sending) is
    // released once the call has ended, or its unread body would hold its connection.
    if (firstAttempt !== undefined && "response" in firstAttempt) {
      const release = () => {
        if (scope.firstAttempt !== undefined)
          (firstAttempt.response.body as Partial<Readable> | undefined)?.destroy?.();
      };
      sent.then(release, release);
    }
  }
}

/** `work`'s outcome, or an AbortError as soon as `signal` aborts (`work` is then left to end unobserved). */
export async function untilAborted<T>(signal: AbortSignal | undefined, work: Promise<T>): Promise<T> {
  if (signal === undefined) return work;
  let stopListening: Disposable | undefined;
  const aborted = new Promise<never>((_, reject) => {
    stopListening = addAbortListener(signal, () => reject(abortError(signal)));
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    stopListening?.[Symbol.dispose]();
    // Abandoned at an abort, the work still ends in a rejection: observed here.
    work.catch(() => undefined);
  }
}

/** The error the SDK's own abort handling gives: an AbortError caused by the signal's reason. */
export function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error("Request aborted", { cause: signal.reason }), { name: "AbortError" });
}

/**
 * An HTTP handler that aborts each request with the signal of the call that made it, and
 * answers a call's first request for the operation of the first attempt it was given
 * with that attempt.
 */
export class SignalScopedHandler<Config extends object> implements HttpHandler<Config> {
  constructor(private readonly inner: HttpHandler<Config>) {}

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const scope = callScope.getStore();
    const made = scope?.firstAttempt;
    if (made !== undefined && scope !== undefined && request.headers["x-amz-target"] === made.target) {
      scope.firstAttempt = undefined;
      if ("error" in made) throw made.error;
      return { response: made.response };
    }
    const abortSignal = options.abortSignal ?? scope?.signal;
    return this.inner.handle(request, abortSignal === undefined ? options : { ...options, abortSignal });
  }

  updateHttpClientConfig(key: keyof Config, value: Config[typeof key]): void {
    this.inner.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): Config {
    return this.inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.inner.destroy?.();
  }
}

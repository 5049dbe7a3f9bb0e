/**
 * The abort signal of the store call in progress, carried to the HTTP handler in async
 * context rather than in `send`'s options. The SDK reuses a client's resolved middleware
 * handler (`cacheMiddleware: true`) only for calls made with no per-call options at all
 * (`useHandlerCache = options === undefined` in @smithy/core's Client.send), and the abort
 * signal is such an option: passed there, it makes the SDK resolve the whole middleware
 * stack again for every call, about a tenth of the service's CPU per GetItem here
 * (README, Performance). The handler below hands the signal to the HTTP request itself, so a
 * cancelled call still stops its DynamoDB request, and sends none after.
 *
 * One thing the options carry that this does not: the SDK's retry middleware also watches
 * the signal while it waits between attempts. A call aborted during that wait is not
 * released at once; its next attempt fails before anything is sent.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { HttpHandler, HttpRequest } from "@smithy/core/protocols";
import type { HttpHandlerOptions } from "@smithy/types";

const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/** Runs `send` with `signal` as the signal of every HTTP request it makes through a SignalScopedHandler. */
export function withCallSignal<T>(signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
  return callSignal.run(signal, send);
}

/** An HTTP handler that aborts each request with the signal of the call that made it. */
export class SignalScopedHandler<Config extends object> implements HttpHandler<Config> {
  constructor(private readonly inner: HttpHandler<Config>) {}

  handle(request: HttpRequest, options: HttpHandlerOptions = {}) {
    const abortSignal = options.abortSignal ?? callSignal.getStore();
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

/**
 * One call's view of its observers (wrap-service.ts): their ends called together, and the
 * optional hooks some of them carry — `run` (tracing: the handler runs with the RPC span
 * active) and `received` / `sent` (metrics: one request / response message passed). An
 * observer without hooks costs one property check per hook; a call none of them watches
 * for messages keeps its streams unwrapped.
 * Pinned by test/unit/call-scope.test.ts.
 */
import type { ConnectError } from "@connectrpc/connect";

/** Hooks an observer's end may carry; the wrapper calls them during the call, on both transports. */
export interface CallHooks {
  /**
   * Runs the handler, and each step of its response stream, inside whatever it sets up
   * (an async context): what the handler awaits inherits it.
   */
  run?: <T>(fn: () => T) => T;
  /** One request message reached the handler (the single request, or one of a stream). */
  received?: () => void;
  /** The handler produced one response message (the single response, or one of a stream). */
  sent?: () => void;
}

/** What an observer returns: told once how the call ended; may carry CallHooks. */
export type CallEnd = ((error: ConnectError | undefined) => void) & CallHooks;

export interface CallScope {
  end(error: ConnectError | undefined): void;
  run<T>(fn: () => T): T;
  /** Tells the observers of one request message (a call's single request). */
  received(): void;
  /** Tells the observers of one response message (a call's single response). */
  sent(): void;
  /** A request stream, each message told as the handler reads it (unchanged if nobody counts). */
  requests<T>(stream: AsyncIterable<T>): AsyncIterable<T>;
  /** A response stream, each step run by `run` and each message told (unchanged if nobody watches). */
  responses<T>(stream: AsyncIterable<T>): AsyncIterable<T>;
}

const direct = <T>(fn: () => T): T => fn();

/** The ends of one call's observers as one scope. */
export function callScope(ends: readonly CallEnd[]): CallScope {
  let run = direct;
  let onReceived: (() => void) | undefined;
  let onSent: (() => void) | undefined;
  for (const end of ends) {
    if (end.run) {
      const outer = run;
      const inner = end.run;
      run = (fn) => outer(() => inner(fn));
    }
    if (end.received) onReceived = both(onReceived, end.received);
    if (end.sent) onSent = both(onSent, end.sent);
  }
  const runs = run !== direct;
  return {
    end(error) {
      for (const end of ends) end(error);
    },
    run,
    received: onReceived ?? nothing,
    sent: onSent ?? nothing,
    requests: (stream) => (onReceived ? observeStream(stream, direct, onReceived) : stream),
    responses: (stream) => (onSent || runs ? observeStream(stream, run, onSent) : stream),
  };
}

const nothing = () => undefined;

function both(first: (() => void) | undefined, second: () => void): () => void {
  return first === undefined
    ? second
    : () => {
        first();
        second();
      };
}

/**
 * `source` with `onEach` told of every message it yields and each step run through `run`.
 * An iterator object rather than a generator, so `return()` still reaches the source when
 * its consumer stops early (the producer's finally blocks run), as with `yield*` on the
 * source itself.
 */
function observeStream<T>(
  source: AsyncIterable<T>,
  run: CallScope["run"],
  onEach: (() => void) | undefined,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      const step = (next: () => Promise<IteratorResult<T>>) =>
        run(next).then((result) => {
          if (result.done !== true) onEach?.();
          return result;
        });
      return {
        next: () => step(() => iterator.next()),
        return: (value?: unknown) =>
          iterator.return
            ? run(() => (iterator.return as (v?: unknown) => Promise<IteratorResult<T>>)(value))
            : Promise.resolve({ done: true as const, value: value as T }),
        throw: (error?: unknown) => (iterator.throw ? run(() => iterator.throw!(error)) : Promise.reject(error)),
      };
    },
  };
}

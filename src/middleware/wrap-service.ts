/**
 * Middleware written once and wrapped around the ServiceImpls, so the gRPC (grpc-js) and
 * the Connect / gRPC-Web transports share it: both mount the wrapped objects. The wrapper
 * owns the error mapping (every throw leaves as a mapped ConnectError) and tells each
 * observer (tracing, logging, metrics, auth) when a call starts and how it ended, and the
 * observers that ask for it of each message and of the handler's run (call-scope.ts).
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { principalKey } from "./auth-gate.js";
import { type CallEnd, type CallScope, callScope } from "./call-scope.js";
import { toConnectError } from "./error-mapping.js";

export interface CallInfo {
  readonly service: DescService;
  readonly method: DescMethod;
  readonly ctx: HandlerContext;
  /** The request's request_id field, when it has one (unary and server-streaming calls). */
  readonly requestId: string | undefined;
  /** Who is calling, as the transport's auth gate decided ("anonymous" in AUTH_MODE=none). */
  readonly principal: string;
}

/** Called at the start of every call; may throw (e.g. auth) to refuse it. */
export type CallObserver = (call: CallInfo) => CallEnd;

// The four method shapes, seen generically (ServiceImpl's types are per-method).
type AnyFn = (input: unknown, ctx: HandlerContext) => unknown;

function unimplemented(service: DescService, method: DescMethod): ConnectError {
  return new ConnectError(`${service.typeName}/${method.name} is not implemented`, Code.Unimplemented);
}

function requestIdOf(request: unknown): string | undefined {
  if (typeof request === "object" && request !== null && "requestId" in request) {
    const id = (request as { requestId: unknown }).requestId;
    return typeof id === "string" && id !== "" ? id : undefined;
  }
  return undefined;
}

export function wrapService<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  observers: readonly CallObserver[],
): Partial<ServiceImpl<S>> {
  const wrapped: Record<string, AnyFn> = {};
  const methods = impl as unknown as Record<string, AnyFn | undefined>;
  for (const method of service.methods) {
    // A method not built yet is still a call to log and count: it answers UNIMPLEMENTED
    // from inside the wrapper (the transports would say the same, but silently).
    const fn: AnyFn =
      methods[method.localName] ??
      (method.methodKind === "unary" || method.methodKind === "client_streaming"
        ? () => Promise.reject(unimplemented(service, method))
        : () => ({
            [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(unimplemented(service, method)) }),
          }));
    const streamsIn = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
    const begin = (input: unknown, ctx: HandlerContext): CallScope => {
      const call = { service, method, ctx, requestId: requestIdOf(input), principal: ctx.values.get(principalKey) };
      const ends: CallEnd[] = [];
      try {
        for (const observe of observers) ends.push(observe(call));
      } catch (err) {
        const mapped = toConnectError(err, ctx.signal);
        for (const end of ends) end(mapped);
        throw mapped;
      }
      const scope = callScope(ends);
      if (!streamsIn) scope.received();
      return scope;
    };
    // A request stream is counted as the handler reads it; a single request was counted in begin.
    const request = (input: unknown, scope: CallScope): unknown =>
      streamsIn ? scope.requests(input as AsyncIterable<unknown>) : input;
    const fail = (err: unknown, ctx: HandlerContext, scope: CallScope): never => {
      const mapped = toConnectError(err, ctx.signal);
      scope.end(mapped);
      throw mapped;
    };
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      wrapped[method.localName] = async (input, ctx) => {
        const scope = begin(input, ctx);
        try {
          const out = await scope.run(() => fn.call(impl, request(input, scope), ctx));
          scope.sent();
          scope.end(undefined);
          return out;
        } catch (err) {
          return fail(err, ctx, scope);
        }
      };
    } else {
      wrapped[method.localName] = async function* (input, ctx) {
        const scope = begin(input, ctx);
        let settled = false;
        try {
          const responses = scope.run(() => fn.call(impl, request(input, scope), ctx)) as AsyncIterable<unknown>;
          yield* scope.responses(responses);
          settled = true;
          scope.end(undefined);
        } catch (err) {
          settled = true;
          fail(err, ctx, scope);
        } finally {
          // The consumer stopped pulling (client gone): still one outcome per call.
          if (!settled) scope.end(toConnectError(new Error("stream abandoned"), AbortSignal.abort()));
        }
      };
    }
  }
  return wrapped as unknown as Partial<ServiceImpl<S>>;
}

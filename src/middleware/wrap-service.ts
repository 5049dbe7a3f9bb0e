/**
 * Middleware written once and wrapped around the ServiceImpls, so the gRPC (grpc-js) and
 * the Connect / gRPC-Web transports share it: both mount the wrapped objects. The wrapper
 * owns the error mapping (every throw leaves as a mapped ConnectError) and tells each
 * observer (logging, metrics, auth) when a call starts and how it ended.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { principalKey } from "./auth-gate.js";
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
export type CallObserver = (call: CallInfo) => (error: ConnectError | undefined) => void;

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
    const begin = (input: unknown, ctx: HandlerContext) => {
      const call = { service, method, ctx, requestId: requestIdOf(input), principal: ctx.values.get(principalKey) };
      const finishers: Array<(e: ConnectError | undefined) => void> = [];
      try {
        for (const observe of observers) finishers.push(observe(call));
      } catch (err) {
        const mapped = toConnectError(err, ctx.signal);
        for (const f of finishers) f(mapped);
        throw mapped;
      }
      return (e: ConnectError | undefined) => {
        for (const f of finishers) f(e);
      };
    };
    const fail = (err: unknown, ctx: HandlerContext, finish: (e: ConnectError | undefined) => void): never => {
      const mapped = toConnectError(err, ctx.signal);
      finish(mapped);
      throw mapped;
    };
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      wrapped[method.localName] = async (input, ctx) => {
        const finish = begin(input, ctx);
        try {
          const out = await fn.call(impl, input, ctx);
          finish(undefined);
          return out;
        } catch (err) {
          return fail(err, ctx, finish);
        }
      };
    } else {
      wrapped[method.localName] = async function* (input, ctx) {
        const finish = begin(input, ctx);
        let settled = false;
        try {
          yield* fn.call(impl, input, ctx) as AsyncIterable<unknown>;
          settled = true;
          finish(undefined);
        } catch (err) {
          settled = true;
          fail(err, ctx, finish);
        } finally {
          // The consumer stopped pulling (client gone): still one outcome per call.
          if (!settled) finish(toConnectError(new Error("stream abandoned"), AbortSignal.abort()));
        }
      };
    }
  }
  return wrapped as unknown as Partial<ServiceImpl<S>>;
}

/**
 * The grpc-js call adapter: runs a ServiceImpl method for a grpc-js server call, handing
 * it a HandlerContext that behaves as the one a Connect handler gets (openCall), so
 * handlers and middleware cannot tell the transports apart, with one exception: after a
 * single answer that succeeded with nothing listening to ctx.signal, the signal is left
 * as it was rather than aborted (CallScope.finish says why).
 *
 * One flow for the four method kinds: the input is the single decoded request (unary,
 * server streaming) or a stream of decoded requests (client streaming, bidi); the output
 * is one message answered through grpc-js's callback (unary, client streaming) or a
 * stream written with backpressure (server streaming, bidi).
 * Pinned by test/transport/grpc-adapter.test.ts.
 */
import { getEventListeners } from "node:events";
import type { Readable } from "node:stream";
import { type DescMessage, type DescMethod, type DescService, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { ANONYMOUS, principalKey } from "../middleware/auth-gate.js";
import { setTrailerStatus } from "./connect-internals.js";
import type { Admissions } from "./grpc-auth.js";
import { refusedAfterStart } from "./grpc-client-faults.js";
import { encode } from "./grpc-service-definition.js";
import { headersFromMetadata, metadataFromHeaders } from "./metadata.js";
import { type AnyMethodImpl, withUnimplemented } from "./registration.js";
import { undecodableMessage } from "./request-faults.js";

export interface CallSettings {
  /** Cap on a call's deadline, in ms (GrpcServerOptions.maxTimeoutMs). */
  maxTimeoutMs: number;
  /** Told of a call refused before any handler ran (GrpcServerOptions.onRefused). */
  onRefused?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
  /**
   * The auth interceptor's decisions (grpc-auth.ts), when one is installed: a call it has
   * no principal for is refused. Absent: AUTH_MODE=none, every caller is anonymous.
   */
  admissions?: Admissions | undefined;
}

/** The grpc-js handlers of one service: every method, missing ones answering UNIMPLEMENTED. */
export function createServiceHandlers(
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
  settings: CallSettings,
): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  const fns = withUnimplemented(service, impl) as unknown as Record<string, AnyMethodImpl>;
  for (const method of service.methods) {
    handlers[method.localName] = createMethodHandler(method, fns[method.localName] as AnyMethodImpl, settings);
  }
  return handlers;
}

/** Whatever grpc-js hands a handler; which members exist depends on the method kind. */
type ServerCall =
  | grpc.ServerUnaryCall<Buffer, Buffer>
  | grpc.ServerReadableStream<Buffer, Buffer>
  | grpc.ServerWritableStream<Buffer, Buffer>
  | grpc.ServerDuplexStream<Buffer, Buffer>;

function createMethodHandler(method: DescMethod, fn: AnyMethodImpl, settings: CallSettings): grpc.UntypedHandleCall {
  const requestStream = method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming";
  const responseStream = method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming";
  // grpc-js passes a callback only to the kinds that answer one message (unary, client
  // streaming). A handler's failure becomes the call's status; once the client is gone
  // nothing is sent (grpc-js would drop it anyway).
  const handle = async (call: ServerCall, callback: grpc.sendUnaryData<Buffer> | undefined) => {
    const principal = settings.admissions ? settings.admissions.get(call.metadata) : ANONYMOUS;
    const scope = openCall(call, method, settings.maxTimeoutMs, principal ?? ANONYMOUS);
    const { ctx } = scope;
    let reply: Buffer | undefined;
    let failure: { error: unknown } | undefined;
    try {
      if (principal === undefined) {
        throw new ConnectError("no authentication decision was made for this call", Code.Unauthenticated);
      }
      const input = requestStream
        ? readRequests(call as Readable, method.input, ctx.signal)
        : decodeSingle(method, (call as grpc.ServerUnaryCall<Buffer, Buffer>).request, ctx, settings);
      const output = fn(input, ctx);
      if (responseStream) await writeResponses(call as WritableCall, method, scope, output);
      else reply = encode(method.output, await output);
    } catch (error) {
      failure = { error };
    }
    if (!scope.clientGone) {
      scope.sendResponseHeader();
      const status = failure && statusOf(failure.error, ctx);
      if (callback) {
        if (status) callback(status);
        else callback(null, reply, scope.trailer());
      } else if (status) {
        // grpc-js's documented way to end a streaming call with a status (server-call.js).
        (call as WritableCall).emit("error", status);
      } else {
        (call as WritableCall).end(scope.trailer());
      }
    }
    scope.finish(responseStream || failure !== undefined);
  };
  return ((call: ServerCall, callback?: grpc.sendUnaryData<Buffer>) => {
    void handle(call, callback);
  }) as grpc.UntypedHandleCall;
}

// ---------------------------------------------------------------------------------------
// Input

function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw undecodableMessage(schema, err);
  }
}

/**
 * The single request, decoded before the handler runs; a failure there is reported,
 * since no handler (and no middleware) will see it. A stream's bad message fails inside
 * the handler's own loop instead, where the middleware sees it.
 */
function decodeSingle(method: DescMethod, bytes: Buffer, ctx: HandlerContext, settings: CallSettings) {
  try {
    return decode(method.input, bytes);
  } catch (err) {
    settings.onRefused?.(method, ctx, ConnectError.from(err));
    throw err;
  }
}

/** Decoded request messages, read on demand; ends early with the signal's reason. */
async function* readRequests(
  call: Readable,
  schema: DescMessage,
  signal: AbortSignal,
): AsyncGenerator<MessageShape<DescMessage>> {
  try {
    // destroyOnReturn false: a handler that stops reading must not destroy a bidi call's
    // writable side with it.
    for await (const chunk of call.iterator({ destroyOnReturn: false })) yield decode(schema, chunk as Buffer);
  } catch (err) {
    // grpc-js destroys the stream when the client goes away: ERR_STREAM_PREMATURE_CLOSE.
    if (signal.aborted && !(err instanceof ConnectError)) throw signal.reason;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// Context

/** What every grpc-js server call has (grpc-js does not export its ServerSurfaceCall). */
interface SurfaceCall {
  readonly metadata: grpc.Metadata;
  getDeadline(): grpc.Deadline;
  getPath(): string;
  getHost(): string;
  sendMetadata(metadata: grpc.Metadata): void;
  once(event: "cancelled", listener: () => void): unknown;
  removeListener(event: "cancelled", listener: () => void): unknown;
}

interface CallScope {
  ctx: HandlerContext;
  /** True once the client cancelled or the connection went away: nothing more to send. */
  clientGone: boolean;
  /** Sends ctx.responseHeader as initial metadata, if the handler set any. */
  sendResponseHeader(): void;
  /** ctx.responseTrailer as trailing metadata; undefined if the handler never touched it. */
  trailer(): grpc.Metadata | undefined;
  /**
   * Stops the timers and aborts ctx.signal (its documented end-of-call behaviour), but
   * after a single answer that succeeded only if anything still listens to the signal.
   * `always`: the call failed or streamed its answer, so abort in any case.
   */
  finish(always: boolean): void;
}

/**
 * How close to its deadline a cancellation still counts as the deadline. The client's
 * deadline timer starts before it sends the request, ours when grpc-js has received it,
 * so on a busy host the client's own cancellation (RST_STREAM) at its deadline can arrive
 * just before ours fires.
 */
const deadlineSlackMs = 100;

/**
 * The reason ctx.signal carries once a call has ended: an AbortError, as connect's own
 * handlers leave it (they call abort() without one). Made once: abort() without a reason
 * builds a DOMException per call, and capturing its stack was the largest single cost of
 * a trivial call (README, "Performance").
 */
const callEnded = new DOMException("the call has ended", "AbortError");

/**
 * A grpc-js call's HandlerContext. The request Headers (converted from the metadata), the
 * response Headers and the URL are made when first read, by getters on the prototype:
 * most calls read none of them, and building them was about a tenth of this adapter's own
 * time per call (README, "Performance"). The members are HandlerContext's, so the
 * compiler flags any connect adds.
 */
class GrpcHandlerContext implements HandlerContext {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(
    private readonly call: SurfaceCall,
    readonly method: DescMethod,
    readonly signal: AbortSignal,
    private readonly endsAt: number,
    readonly values: ContextValues,
  ) {}

  get service(): DescService {
    return this.method.parent;
  }

  get url(): string {
    return `http://${this.call.getHost() || "localhost"}${this.call.getPath()}`;
  }

  timeoutMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  get requestHeader(): Headers {
    this.#requestHeader ??= headersFromMetadata(this.call.metadata);
    return this.#requestHeader;
  }

  get responseHeader(): Headers {
    this.#responseHeader ??= new Headers();
    return this.#responseHeader;
  }

  get responseTrailer(): Headers {
    this.#responseTrailer ??= new Headers();
    return this.#responseTrailer;
  }

  /** The response Headers if anything has read (and so maybe set) them. */
  responseHeaderIfSet(): Headers | undefined {
    return this.#responseHeader;
  }

  responseTrailerIfSet(): Headers | undefined {
    return this.#responseTrailer;
  }
}

/**
 * The call's HandlerContext, built here rather than by connect's createHandlerContext,
 * which links a deadline AbortController and timer into a second AbortController and
 * copies the request Headers: about a tenth of a trivial call's CPU (README,
 * "Performance"). Here one AbortController carries all three endings: the cap, the
 * client's cancellation or deadline (grpc-js reports both as 'cancelled'), the end of the
 * call. A timer is set only when the cap ends the call before the client's deadline:
 * grpc-js keeps the client's deadline itself.
 */
function openCall(call: SurfaceCall, method: DescMethod, maxTimeoutMs: number, principal: string): CallScope {
  const deadline = call.getDeadline();
  const deadlineAt = deadline instanceof Date ? deadline.getTime() : deadline; // Infinity: none
  const capAt = Date.now() + maxTimeoutMs;
  const endsAt = Math.min(deadlineAt, capAt);
  const controller = new AbortController();
  const timedOut = () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  // A deadline already past when the call arrives: the handler starts with an aborted signal.
  if (endsAt <= Date.now()) timedOut();
  const capTimer = capAt < deadlineAt ? setTimeout(timedOut, maxTimeoutMs) : undefined;
  const onCancelled = () => {
    scope.clientGone = true;
    // grpc-js reports an expired deadline, its own or the client's, as a cancellation, and
    // so it reports a request stream it or grpc-client-faults.ts refused mid-stream; keep
    // the reason a handler can act on, and that the client was sent.
    controller.abort(
      refusedAfterStart.get(call.metadata) ??
        (Date.now() >= deadlineAt - deadlineSlackMs
          ? new ConnectError("the operation timed out", Code.DeadlineExceeded)
          : new ConnectError("the client cancelled the call", Code.Canceled)),
    );
  };
  call.once("cancelled", onCancelled);
  const ctx = new GrpcHandlerContext(
    call,
    method,
    controller.signal,
    endsAt,
    createContextValues().set(principalKey, principal),
  );
  const scope: CallScope = {
    ctx,
    clientGone: false,
    sendResponseHeader() {
      // grpc-js sends initial metadata once: before the first message, or with the status.
      const header = ctx.responseHeaderIfSet();
      if (header !== undefined && header.keys().next().done !== true) call.sendMetadata(metadataFromHeaders(header));
    },
    trailer() {
      const trailer = ctx.responseTrailerIfSet();
      return trailer === undefined ? undefined : metadataFromHeaders(trailer);
    },
    finish(always) {
      clearTimeout(capTimer);
      call.removeListener("cancelled", onCancelled);
      // A handler whose single answer succeeded has finished everything it awaited, and a
      // store request in flight listens to the signal until it ends; so when nothing
      // listens, no work of the call's is left for the abort to stop. Only the abort's
      // Event would be made and dispatched to nobody: about a twentieth of a trivial
      // call's server CPU (README, "Performance"). A failure or a stream may leave work
      // behind (a batch's other writes, a producer that checks signal.aborted): always.
      // The rule this relies on: a single-answer handler leaves no work it did not await,
      // and a signal derived from ctx.signal (AbortSignal.any adds no listener to its
      // sources) is derived by code that also listens to ctx.signal while it runs.
      if (always || getEventListeners(controller.signal, "abort").length > 0) controller.abort(callEnded);
    },
  };
  return scope;
}

// ---------------------------------------------------------------------------------------
// Output

interface WritableCall extends SurfaceCall {
  write(chunk: Buffer): boolean;
  end(metadata?: grpc.Metadata): void;
  emit(event: "error", status: grpc.StatusObject): boolean;
  once(event: "cancelled" | "drain", listener: () => void): unknown;
  removeListener(event: "cancelled" | "drain", listener: () => void): unknown;
}

function drained(call: WritableCall, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    };
    const onAbort = () => {
      call.removeListener("drain", onDrain);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    call.once("drain", onDrain);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Writes every response with backpressure: the next one is pulled from the handler only
 * once grpc-js takes more (write() true, or 'drain'), so a slow client slows the producer
 * instead of growing memory. Stops pulling, and return()s the iterator so the producer's
 * finally blocks run, when the call is aborted or fails.
 */
async function writeResponses(
  call: WritableCall,
  method: DescMethod,
  scope: CallScope,
  responses: unknown,
): Promise<void> {
  const { ctx } = scope;
  const iterator = (responses as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const next = await iterator.next();
      if (next.done === true) return;
      const bytes = encode(method.output, next.value);
      scope.sendResponseHeader();
      if (!call.write(bytes)) await drained(call, ctx.signal);
    }
  } catch (err) {
    // Not awaited: a producer stuck in I/O must not hold the call open; finish() aborts
    // ctx.signal right after, which is what its I/O listens to.
    Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  }
}

/**
 * The status a failed call ends with. Connect codes are gRPC codes. A ConnectError keeps
 * its code, its raw message and its details (google.rpc.Status in
 * grpc-status-details-bin, encoded by Connect's own setTrailerStatus, so both transports
 * put the same bytes on the wire); anything else is INTERNAL "internal error" — its
 * message may hold internals and never leaves the process.
 */
function statusOf(err: unknown, ctx: HandlerContext): grpc.StatusObject {
  return grpcStatus(asConnectError(err, ctx.signal), ctx.responseTrailer);
}

/** A ConnectError as the status grpc-js sends, after `trailers` (the handler's own, if any). */
export function grpcStatus(error: ConnectError, trailers: Headers = new Headers()): grpc.StatusObject {
  const trailer = setTrailerStatus(new Headers(trailers), error);
  return {
    code: error.code as number as grpc.status,
    details: error.rawMessage,
    metadata: metadataFromHeaders(trailer),
  };
}

function asConnectError(err: unknown, signal: AbortSignal): ConnectError {
  if (err instanceof ConnectError) return err;
  // A handler that stopped because its signal fired (deadline, cap, client gone) often
  // throws the platform's AbortError; the signal's reason says what happened.
  if (signal.aborted && signal.reason instanceof ConnectError) return signal.reason;
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}

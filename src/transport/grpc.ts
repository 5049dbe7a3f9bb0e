/**
 * The gRPC transport: an @grpc/grpc-js server that mounts the same ServiceImpls as the
 * Connect transport (http.ts) through a small adapter built from the generated
 * descriptors, plus grpc.health.v1 (grpc-health-check) and server reflection
 * (reflection.ts). DESIGN.md, "Why two transports over one set of handlers", says why
 * grpc-js and not connect-node serves gRPC.
 *
 * The adapter hands every handler the same HandlerContext a Connect handler gets
 * (createHandlerContext), so handlers and middleware cannot tell the transports apart.
 * Pinned by test/transport/grpc-adapter.test.ts.
 */
import type { Readable } from "node:stream";
import {
  create,
  type DescMessage,
  type DescMethod,
  type DescService,
  type FileRegistry,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { createReflectionServices, createServiceRegistry } from "./reflection.js";

/** A service and its implementation, mounted identically by both transports. */
export type ServiceRegistration = {
  service: DescService;
  /** Methods left out answer UNIMPLEMENTED ("<service>/<Method> is not implemented"). */
  impl: Partial<ServiceImpl<DescService>>;
};

/**
 * A typed impl as a ServiceRegistration. The cast lives here once: ServiceImpl<S>'s
 * methods take S's request types, which (function parameters being contravariant) are
 * not assignable to the generic DescService's.
 */
export function serviceRegistration<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
): ServiceRegistration {
  return { service, impl: impl as unknown as ServiceRegistration["impl"] };
}

export interface GrpcServerOptions {
  services: ServiceRegistration[];
  /**
   * Largest request message accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED
   * before they are decoded. Default 4 MiB, grpc-js's own default and what other gRPC
   * stacks assume, so a client never meets a surprising limit.
   */
  maxReceiveMessageBytes?: number;
  /**
   * Largest response message sent, in bytes; larger ones end the call with
   * RESOURCE_EXHAUSTED. Default 4 MiB: grpc-js sends unbounded by default, but a peer with
   * the usual 4 MiB receive limit would reject anything bigger anyway, and a bug that
   * builds a huge response should fail here, not in every client.
   */
  maxSendMessageBytes?: number;
  /**
   * Cap on a call's deadline, in ms: a call whose deadline is later, or that has none,
   * sees `ctx.signal` abort (DEADLINE_EXCEEDED) at this cap, so a client that forgets its
   * deadline cannot pin a DynamoDB scan forever. Default 5 minutes: longer than any
   * legitimate full-table stream we expect, short enough to bound leaks.
   */
  maxTimeoutMs?: number;
  /**
   * Told of a call refused before any handler ran because its request bytes do not decode
   * (answered INVALID_ARGUMENT), so the shared logging and metrics still see one outcome
   * per call. Default: nobody is told.
   */
  onUndecodable?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
  /**
   * Descriptors answered by server reflection. Default: createServiceRegistry(), the
   * commerce services, health and reflection with all their imports.
   */
  registry?: FileRegistry;
}

/** Default message size limit of both transports (see GrpcServerOptions.maxReceiveMessageBytes). */
export const defaultMaxMessageBytes = 4 * 1024 * 1024;
/** Default deadline cap of both transports (see GrpcServerOptions.maxTimeoutMs). */
export const defaultMaxTimeoutMs = 5 * 60 * 1000;

export interface GrpcServer {
  server: grpc.Server;
  /** Statuses start unknown (Check answers NOT_FOUND); main sets them once ready. */
  health: HealthImplementation;
  /** "" (the whole server) and every registered service: the names health should report. */
  serviceNames: string[];
}

/** Builds the server (does not listen; see listenGrpc). */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? defaultMaxMessageBytes,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? defaultMaxMessageBytes,
  });
  const maxTimeoutMs = options.maxTimeoutMs ?? defaultMaxTimeoutMs;
  const reflection = createReflectionServices(options.registry ?? createServiceRegistry());
  for (const { service, impl } of [...options.services, ...reflection]) {
    server.addService(
      rawServiceDefinition(service),
      createHandlers(service, impl, { maxTimeoutMs, onUndecodable: options.onUndecodable }),
    );
  }
  const health = new HealthImplementation();
  health.addToServer(server);
  return { server, health, serviceNames: ["", ...options.services.map((s) => s.service.typeName)] };
}

/** Binds (insecure unless credentials are given) and resolves the bound port (port 0: a free one). */
export function listenGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  const address = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

// ---------------------------------------------------------------------------------------
// Descriptors → grpc-js service definitions

function methodAttributes(method: DescMethod) {
  return {
    path: `/${method.parent.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
  };
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The definition a grpc-js *client* uses: messages (or init objects) in, messages out.
 * Exported for tests and in-process callers; the server uses rawServiceDefinition.
 */
export function createGrpcServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      ...methodAttributes(method),
      requestSerialize: (m) =>
        asBuffer(toBinary(method.input, create(method.input, m as MessageInitShape<DescMessage>))),
      requestDeserialize: (b) => fromBinary(method.input, b),
      responseSerialize: (m) =>
        asBuffer(toBinary(method.output, create(method.output, m as MessageInitShape<DescMessage>))),
      responseDeserialize: (b) => fromBinary(method.output, b),
    };
  }
  return definition;
}

/**
 * The server's definition passes bytes through untouched: grpc-js turns an exception in
 * `requestDeserialize` into INTERNAL "Error deserializing request"
 * (server-interceptors.js, decompressAndMaybePush), but bad request bytes are the
 * client's fault, INVALID_ARGUMENT. So the adapter decodes and encodes itself (decode /
 * encode below), and every failure goes through the one status mapping.
 */
function rawServiceDefinition(service: DescService): grpc.ServiceDefinition {
  const identity = (b: Buffer) => b;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      ...methodAttributes(method),
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
  }
  return definition;
}

function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  try {
    return fromBinary(schema, bytes);
  } catch (err) {
    throw new ConnectError(
      `invalid request: cannot decode ${schema.typeName}`,
      Code.InvalidArgument,
      undefined,
      undefined,
      err,
    );
  }
}

function encode(schema: DescMessage, init: unknown): Buffer {
  return asBuffer(toBinary(schema, create(schema, init as MessageInitShape<DescMessage>)));
}

// ---------------------------------------------------------------------------------------
// Metadata ↔ Headers, status ↔ ConnectError: the one place for each mapping.

// Owned by grpc-js / HTTP/2: a handler's Headers must not override them, and HTTP/1
// connection headers make node:http2 throw (ERR_HTTP2_INVALID_CONNECTION_HEADERS).
const reservedKeys = new Set([
  "content-type",
  "grpc-status",
  "grpc-message",
  "grpc-timeout",
  "grpc-encoding",
  "grpc-accept-encoding",
  "te",
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
]);

/** Request metadata as the Headers a handler reads. `-bin` entries are left out. */
export function headersFromMetadata(metadata: grpc.Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    if (key.endsWith("-bin")) continue;
    for (const value of values) {
      if (typeof value === "string") headers.append(key, value);
    }
  }
  return headers;
}

/**
 * Headers (a handler's response header/trailer, an error's metadata) as grpc-js Metadata.
 * `-bin` values are base64 in Headers (Connect's convention, comma-joined when repeated)
 * and raw bytes in Metadata.
 */
export function metadataFromHeaders(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  headers.forEach((value, key) => {
    if (reservedKeys.has(key)) return;
    try {
      if (key.endsWith("-bin")) {
        for (const part of value.split(",")) metadata.add(key, Buffer.from(part.trim(), "base64"));
      } else {
        metadata.add(key, value);
      }
    } catch {
      // Metadata only takes [0-9a-z_.-] keys and printable-ASCII values, Headers more;
      // an entry gRPC cannot carry is dropped rather than failing a finished call.
    }
  });
  return metadata;
}

/**
 * The status a failed call ends with. Connect codes are gRPC codes. A ConnectError keeps
 * its code, its raw message and its details (google.rpc.Status in
 * grpc-status-details-bin, encoded by Connect's own setTrailerStatus, so both transports
 * put the same bytes on the wire); anything else is INTERNAL "internal error" — its
 * message may hold internals and never leaves the process.
 */
function statusOf(err: unknown, ctx: HandlerContext): grpc.StatusObject {
  const error = asConnectError(err, ctx.signal);
  const trailer = setTrailerStatus(new Headers(ctx.responseTrailer), error);
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

// ---------------------------------------------------------------------------------------
// Calls

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

interface WritableCall extends SurfaceCall {
  write(chunk: Buffer): boolean;
  end(metadata?: grpc.Metadata): void;
  emit(event: "error", status: grpc.StatusObject): boolean;
  once(event: "cancelled" | "drain", listener: () => void): unknown;
  removeListener(event: "cancelled" | "drain", listener: () => void): unknown;
}

type Context = ReturnType<typeof createHandlerContext>;

interface CallScope {
  ctx: Context;
  /** True once the client cancelled or the connection went away: nothing more to send. */
  readonly clientGone: boolean;
  /** Stops the timers and aborts ctx.signal (its documented end-of-call behaviour). */
  finish(): void;
}

function openCall(call: SurfaceCall, method: DescMethod, maxTimeoutMs: number): CallScope {
  const deadline = call.getDeadline();
  const deadlineAt = deadline instanceof Date ? deadline.getTime() : deadline; // Infinity: none
  const request = new AbortController();
  let clientGone = false;
  const onCancelled = () => {
    clientGone = true;
    // grpc-js answers an expired deadline itself and reports it as a cancellation, just
    // before our own deadline timer; keep the reason a handler can act on.
    request.abort(
      Date.now() >= deadlineAt
        ? new ConnectError("the operation timed out", Code.DeadlineExceeded)
        : new ConnectError("the client cancelled the call", Code.Canceled),
    );
  };
  call.once("cancelled", onCancelled);
  const ctx = createHandlerContext({
    service: method.parent,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `http://${call.getHost() || "localhost"}${call.getPath()}`,
    timeoutMs: Math.max(0, Math.min(deadlineAt - Date.now(), maxTimeoutMs)),
    requestSignal: request.signal,
    requestHeader: headersFromMetadata(call.metadata),
  });
  return {
    ctx,
    get clientGone() {
      return clientGone;
    },
    finish() {
      call.removeListener("cancelled", onCancelled);
      ctx.abort();
    },
  };
}

/** Sends ctx.responseHeader as initial metadata, if the handler set any (grpc-js sends it once). */
function sendResponseHeader(call: SurfaceCall, ctx: HandlerContext): void {
  if (ctx.responseHeader.keys().next().done !== true) call.sendMetadata(metadataFromHeaders(ctx.responseHeader));
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
  ctx: HandlerContext,
  responses: unknown,
): Promise<void> {
  const iterator = (responses as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const next = await iterator.next();
      if (next.done === true) return;
      const bytes = encode(method.output, next.value);
      sendResponseHeader(call, ctx);
      if (!call.write(bytes)) await drained(call, ctx.signal);
    }
  } catch (err) {
    // Not awaited: a producer stuck in I/O must not hold the call open; finish() aborts
    // ctx.signal right after, which is what its I/O listens to.
    Promise.resolve(iterator.return?.()).catch(() => undefined);
    throw err;
  }
}

function endStream(call: WritableCall, scope: CallScope, failed: boolean, error: unknown): void {
  if (scope.clientGone) return;
  sendResponseHeader(call, scope.ctx);
  if (failed) {
    // grpc-js's documented way to end a streaming call with a status (server-call.js).
    call.emit("error", statusOf(error, scope.ctx));
  } else {
    call.end(metadataFromHeaders(scope.ctx.responseTrailer));
  }
}

function answerUnary(
  call: SurfaceCall,
  callback: grpc.sendUnaryData<Buffer>,
  scope: CallScope,
  outcome: Outcome,
): void {
  if (scope.clientGone) return;
  sendResponseHeader(call, scope.ctx);
  if (outcome.ok) callback(null, outcome.bytes, metadataFromHeaders(scope.ctx.responseTrailer));
  else callback(statusOf(outcome.error, scope.ctx));
}

type Outcome = { ok: true; bytes: Buffer } | { ok: false; error: unknown };
type AnyImpl = (input: unknown, ctx: HandlerContext) => unknown;

/**
 * The impl with every method present: a missing one throws UNIMPLEMENTED with the same
 * message on both transports ("commerce.v1.X/Method is not implemented", the method's
 * path), instead of connect's own wording on one and grpc-js's on the other.
 */
export function withUnimplemented(
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
): ServiceImpl<DescService> {
  const given = impl as Record<string, AnyImpl | undefined>;
  const full: Record<string, AnyImpl> = {};
  for (const method of service.methods) {
    const fn = given[method.localName];
    full[method.localName] =
      typeof fn === "function"
        ? fn.bind(impl)
        : () => {
            throw new ConnectError(`${service.typeName}/${method.name} is not implemented`, Code.Unimplemented);
          };
  }
  return full as unknown as ServiceImpl<DescService>;
}

interface CallSettings {
  maxTimeoutMs: number;
  onUndecodable: GrpcServerOptions["onUndecodable"];
}

function createHandlers(
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
  settings: CallSettings,
): grpc.UntypedServiceImplementation {
  const handlers: grpc.UntypedServiceImplementation = {};
  const fns = withUnimplemented(service, impl) as unknown as Record<string, AnyImpl>;
  for (const method of service.methods) {
    handlers[method.localName] = createMethodHandler(method, fns[method.localName] as AnyImpl, settings);
  }
  return handlers;
}

function createMethodHandler(method: DescMethod, fn: AnyImpl, settings: CallSettings): grpc.UntypedHandleCall {
  const { maxTimeoutMs } = settings;
  // The single request of unary and server-streaming calls is decoded before the handler
  // runs; a failure there is reported, since no handler (and no middleware) will see it.
  const decodeRequest = (bytes: Uint8Array, ctx: HandlerContext) => {
    try {
      return decode(method.input, bytes);
    } catch (err) {
      settings.onUndecodable?.(method, ctx, ConnectError.from(err));
      throw err;
    }
  };
  // Each body runs to completion inside its own try/catch; the returned promise never
  // rejects, and after the client is gone nothing is sent (grpc-js would drop it anyway).
  switch (method.methodKind) {
    case "unary":
      return ((call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const scope = openCall(call, method, maxTimeoutMs);
        void (async () => {
          let outcome: Outcome;
          try {
            outcome = {
              ok: true,
              bytes: encode(method.output, await fn(decodeRequest(call.request, scope.ctx), scope.ctx)),
            };
          } catch (error) {
            outcome = { ok: false, error };
          }
          answerUnary(call, callback, scope, outcome);
          scope.finish();
        })();
      }) satisfies grpc.handleUnaryCall<Buffer, Buffer>;
    case "client_streaming":
      return ((call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const scope = openCall(call, method, maxTimeoutMs);
        void (async () => {
          let outcome: Outcome;
          try {
            const requests = readRequests(call, method.input, scope.ctx.signal);
            outcome = { ok: true, bytes: encode(method.output, await fn(requests, scope.ctx)) };
          } catch (error) {
            outcome = { ok: false, error };
          }
          answerUnary(call, callback, scope, outcome);
          scope.finish();
        })();
      }) satisfies grpc.handleClientStreamingCall<Buffer, Buffer>;
    case "server_streaming":
      return ((call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const scope = openCall(call, method, maxTimeoutMs);
        void (async () => {
          let failed = false;
          let error: unknown;
          try {
            await writeResponses(call, method, scope.ctx, fn(decodeRequest(call.request, scope.ctx), scope.ctx));
          } catch (err) {
            failed = true;
            error = err;
          }
          endStream(call, scope, failed, error);
          scope.finish();
        })();
      }) satisfies grpc.handleServerStreamingCall<Buffer, Buffer>;
    case "bidi_streaming":
      return ((call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        const scope = openCall(call, method, maxTimeoutMs);
        void (async () => {
          let failed = false;
          let error: unknown;
          try {
            const requests = readRequests(call, method.input, scope.ctx.signal);
            await writeResponses(call, method, scope.ctx, fn(requests, scope.ctx));
          } catch (err) {
            failed = true;
            error = err;
          }
          endStream(call, scope, failed, error);
          scope.finish();
        })();
      }) satisfies grpc.handleBidiStreamingCall<Buffer, Buffer>;
  }
}

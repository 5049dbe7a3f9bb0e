/**
 * Two real clients behind one small interface, so every integration assertion runs over
 * gRPC (@grpc/grpc-js, HTTP/2) and over Connect (connect-node, HTTP/1.1) alike and the
 * transports cannot drift. Errors from either come back as one `RpcFailure` shape with
 * the decoded google.rpc details.
 */
import { once } from "node:events";
import type * as https from "node:https";
import {
  create,
  createRegistry,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { type Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  type BadRequest,
  BadRequestSchema,
  type ErrorInfo,
  ErrorInfoSchema,
  type RetryInfo,
  RetryInfoSchema,
} from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { grpcCodec, grpcPath, grpcUnary } from "./grpc-unary.js";

export interface RpcFailure {
  code: Code;
  message: string;
  errorInfo: ErrorInfo | undefined;
  badRequest: BadRequest | undefined;
  retryInfo: RetryInfo | undefined;
}

export interface CallOptions {
  timeoutMs?: number;
  /** Request headers (gRPC metadata), e.g. a W3C `traceparent`. */
  headers?: Record<string, string>;
}

export interface RpcClient {
  readonly name: "grpc" | ConnectWire;
  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>>;
  serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    request: MessageInitShape<I>,
    options?: Pick<CallOptions, "headers">,
  ): AsyncIterable<MessageShape<O>>;
  /** Sends every request (an array, or a stream the test feeds), then awaits the one answer. */
  clientStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethod & { input: I; output: O },
    requests: AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>,
    options?: { timeoutMs?: number },
  ): Promise<MessageShape<O>>;
  close(): void;
}

const detailRegistry = createRegistry(ErrorInfoSchema, BadRequestSchema, RetryInfoSchema);

export function isRpcFailure(e: unknown): e is RpcFailure {
  return typeof e === "object" && e !== null && "code" in e && "errorInfo" in e;
}

/** Runs `fn`, expecting it to fail; returns the normalised failure. */
export async function failure(fn: () => Promise<unknown>): Promise<RpcFailure> {
  try {
    await fn();
  } catch (e) {
    if (isRpcFailure(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail, and it succeeded");
}

/** A grpc-js error as an RpcFailure, its google.rpc details decoded. */
export function fromGrpcError(err: grpc.ServiceError): RpcFailure {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  const out: RpcFailure = {
    code: err.code as number as Code,
    message: err.details,
    errorInfo: undefined,
    badRequest: undefined,
    retryInfo: undefined,
  };
  if (raw instanceof Buffer) {
    const status = fromBinary(StatusSchema, raw);
    for (const any of status.details) {
      const msg = anyUnpack(any, detailRegistry);
      if (msg?.$typeName === "google.rpc.ErrorInfo") out.errorInfo = msg as ErrorInfo;
      if (msg?.$typeName === "google.rpc.BadRequest") out.badRequest = msg as BadRequest;
      if (msg?.$typeName === "google.rpc.RetryInfo") out.retryInfo = msg as RetryInfo;
    }
  }
  return out;
}

function fromConnectError(e: unknown): RpcFailure {
  const err = ConnectError.from(e);
  return {
    code: err.code,
    message: err.rawMessage,
    errorInfo: err.findDetails(ErrorInfoSchema)[0],
    badRequest: err.findDetails(BadRequestSchema)[0],
    retryInfo: err.findDetails(RetryInfoSchema)[0],
  };
}

const deadline = (options?: { timeoutMs?: number }) => new Date(Date.now() + (options?.timeoutMs ?? 30_000));

function metadataOf(headers: Record<string, string> | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers ?? {})) metadata.set(key, value);
  return metadata;
}

export interface ClientOptions {
  /** Sent with every call: gRPC metadata, HTTP headers (e.g. authorization). */
  headers?: Record<string, string>;
}

export function grpcClient(
  address: string,
  clientOptions: ClientOptions & { credentials?: grpc.ChannelCredentials } = {},
): RpcClient {
  const client = new grpc.Client(address, clientOptions.credentials ?? grpc.credentials.createInsecure());
  const headers = (perCall?: Record<string, string>) => ({ ...clientOptions.headers, ...perCall });
  return {
    name: "grpc",
    unary(method, request, options) {
      return grpcUnary(client, method, request, {
        deadline: deadline(options),
        metadata: metadataOf(headers(options?.headers)),
      }).catch((err: grpc.ServiceError) => {
        throw fromGrpcError(err);
      });
    },
    async *serverStream(method, request, options) {
      const req = create(method.input, request);
      const stream = client.makeServerStreamRequest(
        grpcPath(method),
        grpcCodec(method.input).serialize,
        grpcCodec(method.output).deserialize,
        req,
        metadataOf(headers(options?.headers)),
      );
      try {
        for await (const msg of stream) yield msg;
      } catch (e) {
        throw fromGrpcError(e as grpc.ServiceError);
      }
    },
    clientStream(method, requests, options) {
      return new Promise((resolve, reject) => {
        const call = client.makeClientStreamRequest(
          grpcPath(method),
          grpcCodec(method.input).serialize,
          grpcCodec(method.output).deserialize,
          metadataOf(clientOptions.headers),
          { deadline: deadline(options) },
          (err, res) => (err ? reject(fromGrpcError(err)) : resolve(res!)),
        );
        // Once the status is in (the server may answer before reading everything), a
        // 'drain' may never come: stop feeding then.
        let ended = false;
        const status = once(call, "status").then(() => {
          ended = true;
        });
        void (async () => {
          try {
            for await (const request of requests) {
              if (ended) return;
              if (!call.write(create(method.input, request))) await Promise.race([once(call, "drain"), status]);
            }
            call.end();
          } catch (e) {
            // The requests' own source failed: the call must not look complete.
            call.cancel();
            reject(e);
          }
        })();
      });
    },
    close: () => client.close(),
  };
}

/**
 * How a connect-node client talks to the HTTP port: the Connect protocol with JSON
 * (default, what curl sends) or binary messages, or gRPC-Web (binary, what browsers send).
 */
export type ConnectWire = "connect" | "connect-binary" | "grpc-web";

export function connectClient(
  baseUrl: string,
  options: ClientOptions & { protocol?: ConnectWire; nodeOptions?: https.RequestOptions } = {},
): RpcClient {
  // HTTP/1.1, as curl and browsers reach the HTTP port (a plain node:http server, so HTTP/2
  // would not even connect). connect-node streams a request body over HTTP/1.1, so client
  // streaming works on it; only bidi streaming (and the gRPC protocol) need HTTP/2.
  const settings = {
    baseUrl,
    httpVersion: "1.1" as const,
    ...(options.nodeOptions ? { nodeOptions: options.nodeOptions } : {}),
    ...(options.headers ? { interceptors: [withHeaders(options.headers)] } : {}),
  };
  const protocol = options.protocol ?? "connect";
  const transport =
    protocol === "grpc-web"
      ? createGrpcWebTransport({ ...settings, useBinaryFormat: true })
      : createConnectTransport({ ...settings, useBinaryFormat: protocol === "connect-binary" });
  return {
    name: protocol,
    async unary(method, request, options) {
      const client = createClient(method.parent, transport) as unknown as Record<
        string,
        (r: unknown, o: unknown) => Promise<never>
      >;
      try {
        return await client[method.localName]!(request, {
          timeoutMs: options?.timeoutMs ?? 30_000,
          ...(options?.headers ? { headers: options.headers } : {}),
        });
      } catch (e) {
        throw fromConnectError(e);
      }
    },
    async *serverStream(method, request, options) {
      const client = createClient(method.parent, transport) as unknown as Record<
        string,
        (r: unknown, o: unknown) => AsyncIterable<never>
      >;
      try {
        for await (const msg of client[method.localName]!(request, { headers: options?.headers })) yield msg;
      } catch (e) {
        throw fromConnectError(e);
      }
    },
    async clientStream(method, requests, options) {
      const client = createClient(method.parent, transport) as unknown as Record<
        string,
        (r: AsyncIterable<unknown>, o: unknown) => Promise<never>
      >;
      // connect-node takes only an AsyncIterable; an array is fed through one.
      async function* each() {
        yield* requests;
      }
      try {
        return await client[method.localName]!(each(), { timeoutMs: options?.timeoutMs ?? 30_000 });
      } catch (e) {
        throw fromConnectError(e);
      }
    },
    close: () => undefined,
  };
}

/** Adds `headers` to every request a Connect transport sends. */
function withHeaders(headers: Record<string, string>): Interceptor {
  return (next) => (req) => {
    for (const [key, value] of Object.entries(headers)) req.header.set(key, value);
    return next(req);
  };
}

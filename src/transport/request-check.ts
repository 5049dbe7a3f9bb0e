/**
 * The HTTP port reads every request message once before connect-node does — envelope,
 * compressed flag, decompression, protobuf binary — so a body the server cannot read is
 * INVALID_ARGUMENT (RESOURCE_EXHAUSTED over the size limit) on every framing, worded as
 * on the gRPC port (request-faults.ts). connect then gets the very same bytes.
 *
 * Why in front of connect: connect 2.2 answers some unreadable requests with INTERNAL —
 * its createBinarySerialization hard-codes Code.Internal for a binary parse failure (the
 * same code serves its clients, where a bad response is the server's fault),
 * transformDecompressEnvelope does for a compressed flag without an encoding, and
 * connect-node's gzip/brotli for a cut-short stream — and none of it has an option. A
 * unary request is parsed before any interceptor runs, so no interceptor could map it;
 * the Connect spec leaves these answers open (connectrpc/connectrpc.com#169). Wrapping the
 * request body covers the unary and the streaming paths of all three protocols in one
 * place, and for streams it checks each message as it arrives (nothing is buffered beyond
 * one message). The cost is a second decode of each binary message.
 * Pinned by test/transport/unreadable-requests.test.ts.
 */
import { type DescMethod, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import {
  compressedFlag,
  encodeEnvelope,
  endStreamFlag,
  headerConnectStreamEncoding,
  headerConnectUnaryEncoding,
  headerGrpcEncoding,
  parseConnectContentType,
  parseGrpcContentType,
  parseGrpcWebContentType,
  readAllBytes,
  trailerFlag,
  transformSplitEnvelope,
  type UniversalHandler,
  type UniversalServerRequest,
} from "./connect-internals.js";
import {
  compressedWithoutEncoding,
  notOneMessage,
  undecodableMessage,
  undecompressableMessage,
} from "./request-faults.js";

/**
 * connect-node's gzip and brotli, with every decompression failure but the size limit
 * answered INVALID_ARGUMENT: connect-node maps zlib's data errors so, but a cut-short
 * stream (Z_BUF_ERROR) to INTERNAL "decompression failed". The compressions the HTTP
 * port accepts (`acceptCompression`) and checks with.
 */
export const requestCompressions: readonly Compression[] = [compressionGzip, compressionBrotli].map((c) => ({
  name: c.name,
  compress: (bytes) => c.compress(bytes),
  decompress: (bytes, readMaxBytes) =>
    c.decompress(bytes, readMaxBytes).catch((err: unknown) => {
      const error = ConnectError.from(err);
      throw error.code === Code.ResourceExhausted ? error : undecompressableMessage(err);
    }),
}));

export interface RequestCheckOptions {
  readMaxBytes: number;
  compressions: readonly Compression[];
  /**
   * Told of a unary or server-streaming call refused here: no handler (and no middleware)
   * sees it. A client stream's bad message fails inside the handler's own loop instead.
   */
  onRefused?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
}

/** How a request's body carries its messages, as connect will read it. */
interface Framing {
  protocol: "connect" | "grpc-web" | "grpc";
  /** 5-byte envelopes (Connect streaming, gRPC-Web, gRPC); else the whole body is one message (Connect unary). */
  enveloped: boolean;
  /** Protobuf binary; JSON parse failures are INVALID_ARGUMENT in connect already. */
  binary: boolean;
  /** The flag of an envelope connect skips rather than parses (Connect end-stream, gRPC-Web trailers). */
  endFlag: number | undefined;
  /** The encoding the request names; null for none or identity. */
  compression: Compression | null;
}

/**
 * undefined where connect answers without reading the body, or refuses it itself with a
 * defined code: not a POST, a content type it does not serve (415), gRPC-Web text, an
 * encoding it does not accept (UNIMPLEMENTED, naming those it does).
 */
function framingOf(req: UniversalServerRequest, compressions: readonly Compression[]): Framing | undefined {
  if (req.method !== "POST") return undefined;
  const type = req.header.get("content-type");
  const connect = parseConnectContentType(type);
  const grpcWeb = connect ? undefined : parseGrpcWebContentType(type);
  const grpc = connect || grpcWeb ? undefined : parseGrpcContentType(type);
  let framing: Omit<Framing, "compression">;
  let encodingHeader: string;
  if (connect) {
    framing = { protocol: "connect", enveloped: connect.stream, binary: connect.binary, endFlag: endStreamFlag };
    encodingHeader = connect.stream ? headerConnectStreamEncoding : headerConnectUnaryEncoding;
  } else if (grpcWeb && !grpcWeb.text) {
    framing = { protocol: "grpc-web", enveloped: true, binary: grpcWeb.binary, endFlag: trailerFlag };
    encodingHeader = headerGrpcEncoding;
  } else if (grpc) {
    framing = { protocol: "grpc", enveloped: true, binary: grpc.binary, endFlag: undefined };
    encodingHeader = headerGrpcEncoding;
  } else {
    return undefined;
  }
  const encoding = req.header.get(encodingHeader);
  if (encoding === null || encoding === "identity") return { ...framing, compression: null };
  const compression = compressions.find((c) => c.name === encoding);
  return compression ? { ...framing, compression } : undefined;
}

/** `handler` with every request message checked before connect reads it. */
export function checkRequests(handler: UniversalHandler, options: RequestCheckOptions): UniversalHandler {
  const { method } = handler;
  const single = method.methodKind === "unary" || method.methodKind === "server_streaming";
  const checked = (req: UniversalServerRequest) => {
    const framing = framingOf(req, options.compressions);
    const body = req.body;
    if (framing === undefined || !isByteStream(body)) return handler(req);
    const messages = framing.enveloped
      ? checkEnvelopes(body, framing, method, single, options.readMaxBytes)
      : checkWholeBody(body, framing, method, options.readMaxBytes, req.header.get("content-length"));
    const report = options.onRefused;
    return handler({
      ...req,
      body:
        single && report
          ? reportingFailure(messages, (e) => report(method, contextOf(req, method, framing), e))
          : messages,
    });
  };
  return Object.assign(checked, handler);
}

/** A message's bytes, if binary, decode as the method's input. */
function checkDecodes(data: Uint8Array, framing: Framing, method: DescMethod): void {
  if (!framing.binary) return;
  try {
    fromBinary(method.input, data);
  } catch (err) {
    throw undecodableMessage(method.input, err);
  }
}

/** Connect unary: the body is the message. readAllBytes refuses a body over the limit or cut short. */
async function* checkWholeBody(
  body: AsyncIterable<Uint8Array>,
  framing: Framing,
  method: DescMethod,
  readMaxBytes: number,
  contentLength: string | null,
): AsyncGenerator<Uint8Array> {
  const bytes = await readAllBytes(body, readMaxBytes, contentLength);
  checkDecodes(
    framing.compression ? await framing.compression.decompress(bytes, readMaxBytes) : bytes,
    framing,
    method,
  );
  yield bytes;
}

/**
 * Enveloped messages, each checked as it arrives, in connect's order: transformSplitEnvelope
 * refuses a length prefix over the limit (RESOURCE_EXHAUSTED) and a body that ends inside
 * an envelope (INVALID_ARGUMENT); every compressed envelope is decompressed; then an
 * envelope with the protocol's end flag is skipped (as connect skips it), any other must
 * decode. A unary or server-streaming call must carry exactly one message.
 */
async function* checkEnvelopes(
  body: AsyncIterable<Uint8Array>,
  framing: Framing,
  method: DescMethod,
  single: boolean,
  readMaxBytes: number,
): AsyncGenerator<Uint8Array> {
  let count = 0;
  for await (const { flags, data } of transformSplitEnvelope(readMaxBytes)(body)) {
    let message = data;
    if ((flags & compressedFlag) === compressedFlag) {
      if (framing.compression === null) throw compressedWithoutEncoding();
      message = await framing.compression.decompress(data, readMaxBytes);
    }
    if (framing.endFlag === undefined || (flags & framing.endFlag) !== framing.endFlag) {
      count++;
      if (single && count > 1) throw notOneMessage(pathOf(method));
      checkDecodes(message, framing, method);
    }
    yield encodeEnvelope(flags, data);
  }
  if (single && count === 0) throw notOneMessage(pathOf(method));
}

const pathOf = (method: DescMethod) => `${method.parent.typeName}/${method.name}`;

async function* reportingFailure(
  messages: AsyncIterable<Uint8Array>,
  report: (error: ConnectError) => void,
): AsyncGenerator<Uint8Array> {
  try {
    yield* messages;
  } catch (err) {
    report(ConnectError.from(err));
    throw err;
  }
}

function contextOf(req: UniversalServerRequest, method: DescMethod, framing: Framing): HandlerContext {
  return createHandlerContext({
    service: method.parent,
    method,
    protocolName: framing.protocol,
    requestMethod: req.method,
    url: req.url,
    requestHeader: req.header,
    ...(req.contextValues ? { contextValues: req.contextValues } : {}),
  });
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

/**
 * What both ports answer to request bytes the server cannot read: the client's fault, so
 * INVALID_ARGUMENT, with one wording on the gRPC port (grpc-call.ts, grpc-client-faults.ts)
 * and the HTTP port (request-check.ts). The message names the message type or the rule,
 * never a parser's own words. (RESOURCE_EXHAUSTED for a message over the size limit stays
 * each transport's own answer.)
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

/** The bytes are not a valid message of `schema` (protobuf binary). */
export function undecodableMessage(schema: DescMessage, cause?: unknown): ConnectError {
  return new ConnectError(
    `invalid request: cannot decode ${schema.typeName}`,
    Code.InvalidArgument,
    undefined,
    undefined,
    cause,
  );
}

/** The message says it is compressed, but does not decompress with the named encoding. */
export function undecompressableMessage(cause?: unknown): ConnectError {
  return new ConnectError(
    "invalid request: the message does not decompress",
    Code.InvalidArgument,
    undefined,
    undefined,
    cause,
  );
}

/** The compressed flag of an envelope is set, but the request names no encoding. */
export function compressedWithoutEncoding(): ConnectError {
  return new ConnectError("invalid request: compressed message without a message encoding", Code.InvalidArgument);
}

/**
 * A unary or server-streaming call whose body holds no message (or one cut short), or
 * more than one. grpc-js and connect say UNIMPLEMENTED here, which a client reads as "no
 * such method"; the method exists, the request is malformed. `path` is
 * "package.Service/Method".
 */
export function notOneMessage(path: string): ConnectError {
  return new ConnectError(`invalid request: ${path} takes exactly one request message`, Code.InvalidArgument);
}

/**
 * The body ends inside an envelope (its length prefix promised more). connect's own
 * wording for it (transformSplitEnvelope), so both ports say the same.
 */
export function incompleteEnvelope(): ConnectError {
  return new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument);
}

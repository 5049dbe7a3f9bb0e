/**
 * One way to send the hostile-input suite's requests over any wire and read one answer
 * back: well-formed messages through the real clients (grpc-js, connect-node with Connect
 * JSON / Connect binary / gRPC-Web), or raw bytes as messages — through a grpc-js client
 * whose serializers pass bytes through on the gRPC port, and framed by hand on the HTTP
 * port (Connect unary or streaming envelopes, gRPC-Web envelopes). Streams are read to
 * their end; the answer is the call's final status.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import type { BadRequest, ErrorInfo } from "../../src/gen/google/rpc/error_details_pb.js";
import { grpcPath, grpcUnary } from "./grpc-unary.js";
import type { MessageInit } from "./hostile-messages.js";
import { envelope, postHttp } from "./raw-calls.js";
import { fromGrpcError, isRpcFailure, type RpcClient } from "./rpc-client.js";

/** A call's final status: code 0 is OK; details only when the wire carried them decoded. */
export interface Answer {
  code: number;
  message: string;
  errorInfo?: ErrorInfo | undefined;
  badRequest?: BadRequest | undefined;
}

const ok: Answer = { code: 0, message: "" };

function fromFailure(e: unknown): Answer {
  if (!isRpcFailure(e)) throw e;
  return { code: e.code, message: e.message, errorInfo: e.errorInfo, badRequest: e.badRequest };
}

/**
 * Well-formed messages through a real client: the first for a unary or server-streaming
 * method, all of them as a client stream. A failure the client raises itself (not an
 * answer from the server) is thrown.
 */
export async function callWithMessages(
  client: RpcClient,
  method: DescMethod,
  messages: MessageInit[],
): Promise<Answer> {
  const m = method as never;
  try {
    switch (method.methodKind) {
      case "unary":
        await client.unary(m, messages[0] as never);
        return ok;
      case "server_streaming":
        for await (const _ of client.serverStream(m, messages[0] as never));
        return ok;
      case "client_streaming":
        await client.clientStream(m, messages as never);
        return ok;
      case "bidi_streaming":
        throw new Error(`${method.name}: bidi streaming is not served by the commerce services`);
    }
  } catch (e) {
    return fromFailure(e);
  }
}

const passThrough = (b: Buffer) => b;

/** Raw message bytes through grpc-js on the gRPC port (framed by grpc-js, so always one message per element). */
export function grpcRawCall(client: grpc.Client, method: DescMethod, messages: Uint8Array[]): Promise<Answer> {
  const path = grpcPath(method);
  const deadline = Date.now() + 30_000;
  const failed = (e: unknown) => fromFailure(fromGrpcError(e as grpc.ServiceError));
  switch (method.methodKind) {
    case "unary":
      return grpcUnary(client, path, messages[0] ?? new Uint8Array(), { deadline }).then(() => ok, failed);
    case "server_streaming":
      return new Promise((resolve) => {
        const call = client.makeServerStreamRequest(
          path,
          passThrough,
          passThrough,
          Buffer.from(messages[0] ?? []),
          new grpc.Metadata(),
          { deadline },
        );
        call.on("data", () => undefined);
        call.on("error", (e) => resolve(failed(e)));
        call.on("end", () => resolve(ok));
      });
    case "client_streaming":
      return new Promise((resolve) => {
        const call = client.makeClientStreamRequest(
          path,
          passThrough,
          passThrough,
          new grpc.Metadata(),
          { deadline },
          (err) => resolve(err ? failed(err) : ok),
        );
        for (const m of messages) call.write(Buffer.from(m));
        call.end();
      });
    default:
      throw new Error(`${method.name}: bidi streaming is not served by the commerce services`);
  }
}

/** How raw bytes are framed on the HTTP port. */
export type HttpFraming = "connect" | "grpc-web";

/**
 * Raw message bytes to the HTTP port: a Connect unary body (unary methods) or Connect
 * streaming envelopes, or gRPC-Web envelopes.
 */
export async function httpRawCall(
  baseUrl: string,
  framing: HttpFraming,
  method: DescMethod,
  messages: Uint8Array[],
): Promise<Answer> {
  const path = `/${method.parent.typeName}/${method.name}`;
  const unaryConnect = framing === "connect" && method.methodKind === "unary";
  const body = unaryConnect ? (messages[0] ?? new Uint8Array()) : Buffer.concat(messages.map((m) => envelope(0, m)));
  const type = unaryConnect
    ? "application/proto"
    : framing === "connect"
      ? "application/connect+proto"
      : "application/grpc-web+proto";
  const answer = await postHttp(baseUrl, path, { "content-type": type }, body);
  return { code: answer.code ?? -answer.httpStatus, message: answer.message, errorInfo: answer.errorInfo };
}

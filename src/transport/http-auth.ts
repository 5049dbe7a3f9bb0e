/**
 * The auth gate on the HTTP port: decided from the request headers and the TLS socket
 * before connect reads the body, and a refusal answered in the caller's own protocol —
 * which connect would do for us only after decoding the request (its interceptors run on
 * the parsed message), so the three framings are written here:
 * - gRPC-Web (and gRPC): a trailers-only response, grpc-status in the headers;
 * - Connect streaming: HTTP 200 and one end-stream envelope carrying the error;
 * - Connect unary (POST or GET): the HTTP status of the code, the error as JSON.
 * Pinned by test/integration/auth.int.test.ts (connect-node's Connect and gRPC-Web clients
 * read each answer as the status it carries).
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { ConnectError } from "@connectrpc/connect";
import type { Credentials } from "../middleware/auth-gate.js";
import {
  codeToHttpStatus,
  createAsyncIterable,
  encodeEnvelope,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  setTrailerStatus,
  type UniversalServerResponse,
} from "./connect-internals.js";
import { peerIdentity } from "./peer-identity.js";

export function httpCredentials(req: IncomingMessage): Credentials {
  const socket = req.socket as Partial<TLSSocket>;
  // `authorized`: the handshake verified the certificate against TLS_CLIENT_CA_FILE.
  const verified = socket.encrypted === true && socket.authorized === true;
  return {
    authorization: req.headers.authorization,
    peerIdentity: verified ? peerIdentity(socket.getPeerCertificate?.()) : undefined,
  };
}

/** A unary Connect error response: HTTP status from the code, the error as JSON. */
function connectErrorResponse(error: ConnectError): UniversalServerResponse {
  return {
    status: codeToHttpStatus(error.code),
    header: new Headers({ "content-type": "application/json" }),
    body: createAsyncIterable([errorToJsonBytes(error, {})]),
  };
}

/** The refusal in the protocol the request's content type names. */
export function refusalResponse(contentType: string | undefined, error: ConnectError): UniversalServerResponse {
  const type = (contentType ?? "").toLowerCase();
  if (type.startsWith("application/grpc")) {
    // gRPC-Web (+proto, +json, -text) and gRPC: trailers-only, status in the headers.
    return { status: 200, header: setTrailerStatus(new Headers({ "content-type": type }), error) };
  }
  if (type.startsWith("application/connect+")) {
    const endStream = new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), error, undefined)));
    return {
      status: 200,
      header: new Headers({ "content-type": type }),
      body: createAsyncIterable([encodeEnvelope(endStreamFlag, endStream)]),
    };
  }
  return connectErrorResponse(error);
}

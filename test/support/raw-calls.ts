/**
 * Requests no client library would send — any headers, any body bytes — to either port,
 * and the status each answer carries, read the way each protocol carries it: Connect
 * unary (HTTP status + JSON error), Connect streaming (end-stream message), gRPC-Web
 * (trailers-only headers or the trailer frame) and gRPC (HTTP/2 trailers). For the
 * hostile-input tests: garbage, cut-short envelopes, compressed flags and encodings that
 * lie.
 */
import http from "node:http";
import http2 from "node:http2";
import { createRegistry, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { type ErrorInfo, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";

/** What came back. `code` is the gRPC status (0 OK); undefined when the answer carries none (e.g. HTTP 415). */
export interface RawAnswer {
  httpStatus: number;
  code: number | undefined;
  message: string;
  /** The google.rpc.ErrorInfo detail, when the answer carries one. */
  errorInfo?: ErrorInfo | undefined;
}

const registry = createRegistry(ErrorInfoSchema);

/** ErrorInfo out of a google.rpc.Status (grpc-status-details-bin, base64). */
function errorInfoOfStatus(base64: string | undefined): ErrorInfo | undefined {
  if (base64 === undefined) return undefined;
  for (const any of fromBinary(StatusSchema, Buffer.from(base64, "base64")).details) {
    const detail = anyUnpack(any, registry);
    if (detail?.$typeName === "google.rpc.ErrorInfo") return detail as ErrorInfo;
  }
  return undefined;
}

/** ErrorInfo out of a Connect JSON error's details ({type, value: base64}). */
function errorInfoOfJson(details: unknown): ErrorInfo | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details as Array<{ type?: string; value?: string }>) {
    if (d.type === "google.rpc.ErrorInfo" && d.value !== undefined) {
      return fromBinary(ErrorInfoSchema, Buffer.from(d.value, "base64"));
    }
  }
  return undefined;
}

/** A gRPC / Connect / gRPC-Web envelope: flags, 4-byte big-endian length (the claimed one, if given), data. */
export function envelope(flags: number, data: Uint8Array, claimedLength = data.length): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, claimedLength);
  out.set(data, 5);
  return out;
}

/** Connect's JSON code names ("invalid_argument") as numbers. */
function codeFromName(name: unknown): number | undefined {
  if (typeof name !== "string") return undefined;
  const pascal = name.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) as keyof typeof Code;
  return name === "canceled" ? Code.Canceled : (Code[pascal] as number | undefined);
}

function grpcStatusFrom(fields: Record<string, string | string[] | undefined>): RawAnswer | undefined {
  const status = fields["grpc-status"];
  if (status === undefined) return undefined;
  const message = fields["grpc-message"];
  const details = fields["grpc-status-details-bin"];
  return {
    httpStatus: 200,
    code: Number(status),
    message: decodeURIComponent(typeof message === "string" ? message : ""),
    errorInfo: errorInfoOfStatus(typeof details === "string" ? details : undefined),
  };
}

/** "grpc-status: 3\r\ngrpc-message: ..." (a gRPC-Web trailer frame's text). */
function parseTrailerBlock(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return fields;
}

function* envelopesOf(body: Buffer): Generator<{ flags: number; data: Buffer }> {
  let at = 0;
  while (at + 5 <= body.length) {
    const length = body.readUInt32BE(at + 1);
    yield { flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) };
    at += 5 + length;
  }
}

interface ConnectJsonError {
  code?: string;
  message?: string;
  details?: unknown;
}

function fromConnectJson(httpStatus: number, error: ConnectJsonError): RawAnswer {
  return {
    httpStatus,
    code: codeFromName(error.code),
    message: error.message ?? "",
    errorInfo: errorInfoOfJson(error.details),
  };
}

function answerOf(
  httpStatus: number,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
  trailers: NodeJS.Dict<string>,
): RawAnswer {
  const type = String(headers["content-type"] ?? "");
  const fromHeaders = grpcStatusFrom(headers) ?? grpcStatusFrom(trailers);
  if (fromHeaders) return { ...fromHeaders, httpStatus };
  if (/^application\/grpc-web/.test(type)) {
    for (const { flags, data } of envelopesOf(body)) {
      if ((flags & 0x80) !== 0) {
        const status = grpcStatusFrom(parseTrailerBlock(data.toString("utf8")));
        if (status) return { ...status, httpStatus };
      }
    }
    return { httpStatus, code: undefined, message: "gRPC-Web answer without a status" };
  }
  if (/^application\/connect\+/.test(type)) {
    for (const { flags, data } of envelopesOf(body)) {
      if ((flags & 0x02) !== 0) {
        const end = JSON.parse(data.toString("utf8")) as { error?: ConnectJsonError };
        if (end.error === undefined) return { httpStatus, code: 0, message: "" };
        return fromConnectJson(httpStatus, end.error);
      }
    }
    return { httpStatus, code: undefined, message: "Connect stream without an end-stream message" };
  }
  if (httpStatus === 200) return { httpStatus, code: 0, message: "" };
  if (/^application\/json/.test(type)) {
    return fromConnectJson(httpStatus, JSON.parse(body.toString("utf8")) as ConnectJsonError);
  }
  return { httpStatus, code: undefined, message: body.toString("utf8").slice(0, 200) };
}

/** POST to the HTTP port over HTTP/1.1 (node:http, so trailers are read too). */
export function postHttp(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // A connection per request: the server may close one whose body it did not read.
    const req = http.request(`${baseUrl}${path}`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(answerOf(res.statusCode ?? 0, res.headers, Buffer.concat(chunks), res.trailers)));
      res.on("error", reject);
    });
    // The server may answer (and close) before it has read a body it refuses.
    req.on("error", (err: NodeJS.ErrnoException) => (err.code === "EPIPE" ? undefined : reject(err)));
    req.end(body);
  });
}

/** A gRPC call over HTTP/2 with these headers (grpc-encoding, grpc-timeout, ...) and body bytes. */
export function postGrpc(
  address: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on("error", reject);
    const req = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => {
      head = h;
    });
    req.on("trailers", (t) => {
      trailers = t;
    });
    req.on("error", () => undefined); // a reset stream still ends in 'close'
    req.on("close", () => {
      session.close();
      const status = grpcStatusFrom(trailers) ?? grpcStatusFrom(head);
      resolve(status ?? { httpStatus: Number(head[":status"] ?? 0), code: undefined, message: `reset ${req.rstCode}` });
    });
    req.resume();
    req.end(Buffer.from(body));
  });
}

/**
 * grpc-js Metadata ↔ the Headers a HandlerContext carries: the one place for this mapping,
 * so request headers, response headers, trailers and error metadata convert alike.
 * Pinned by test/transport/grpc-adapter.test.ts.
 */
import * as grpc from "@grpc/grpc-js";

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

/**
 * Connection-level limits of both ports, in one place (README "Limits", transport part).
 * Message sizes and deadline caps are per call (registration.ts, config); these bound
 * what one connection may hold or do.
 */

/** HTTP/2 streams (calls) in flight per gRPC connection; clients queue beyond it. */
export const GRPC_MAX_CONCURRENT_STREAMS = 512;
/** Largest header block (metadata) a gRPC call may send, in bytes: gRPC's usual 8 KiB, doubled. */
export const GRPC_MAX_HEADER_LIST_BYTES = 16 * 1024;
/**
 * The server pings every connection this long after it opened and after each ack, calls
 * or not (grpc-js's keepalive timer is not reset by traffic), and drops it if no ack comes
 * within KEEPALIVE_TIMEOUT.
 */
export const GRPC_KEEPALIVE_TIME_MS = 60_000;
export const GRPC_KEEPALIVE_TIMEOUT_MS = 20_000;
/** A connection with no call for this long gets GOAWAY (clients reconnect on their next call). */
export const GRPC_MAX_CONNECTION_IDLE_MS = 5 * 60_000;
/**
 * Client pings closer together than this, with no data sent by the server in between,
 * are strikes (gRFC A8, "server enforcement"); after GRPC_MAX_PING_STRIKES of them the
 * connection gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings", as C-core and grpc-go send.
 * Data sent or a new call resets the count. 5 s, not C-core's 5 minutes: grpc-go and
 * grpc-java clients may keep alive every 10 s, and timer jitter must not make that a strike.
 */
export const GRPC_MIN_PING_INTERVAL_MS = 5_000;
export const GRPC_MAX_PING_STRIKES = 2;

/** HTTP port: connections open at once; more are refused at accept (node:http maxConnections). */
export const HTTP_MAX_CONNECTIONS = 1024;
/**
 * HTTP port: the request headers must arrive within this (slow-loris protection), counted
 * from the connection's accept (a connection that never sends a byte is closed too) and
 * from the end of the TLS handshake, which must itself finish within it.
 */
export const HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** HTTP port: an idle keep-alive connection is closed after this. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** HTTP port: request header bytes (node's own default, stated so the README can quote it). */
export const HTTP_MAX_HEADER_BYTES = 16 * 1024;

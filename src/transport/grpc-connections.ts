/**
 * What grpc-js does not do for its server connections, added on the HTTP/2 servers it
 * creates when binding:
 * - keepalive enforcement (gRFC A8): grpc-js sends keepalive pings but has no
 *   `grpc.http2.min_recv_ping_interval_without_data_ms` / `max_ping_strikes` (its server
 *   reads neither option: @grpc/grpc-js 1.14 build/src/server.js), so a client pinging
 *   in a loop would cost us a PING ack each time, forever;
 * - a header list limit: grpc-js passes only max_concurrent_streams into the HTTP/2
 *   settings, so node's 64 KiB default would apply.
 * grpc-js keeps its HTTP/2 servers in a private `http2Servers` map (server.js); reaching
 * it is the price of not forking grpc-js. If a grpc-js upgrade renames it,
 * protectConnections throws at listen time (never silently unprotected), and
 * test/transport/connection-limits.test.ts fails.
 */
import type * as http2 from "node:http2";
import { constants } from "node:http2";
import type * as grpc from "@grpc/grpc-js";
import { GRPC_MAX_HEADER_LIST_BYTES, GRPC_MAX_PING_STRIKES, GRPC_MIN_PING_INTERVAL_MS } from "./limits.js";

type Http2Server = http2.Http2Server | http2.Http2SecureServer;

const guarded = new WeakSet<Http2Server>();

/** Installs the ping policy and header limit on every HTTP/2 server `server` has bound. */
export function protectConnections(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!(servers instanceof Map)) {
    throw new Error("@grpc/grpc-js internals changed: Server.http2Servers is gone (see grpc-connections.ts)");
  }
  for (const h2 of servers.keys()) {
    if (guarded.has(h2)) continue;
    guarded.add(h2);
    h2.updateSettings({ maxHeaderListSize: GRPC_MAX_HEADER_LIST_BYTES });
    h2.on("session", enforcePingPolicy);
  }
}

/**
 * More than this many bytes written to the connection since the last client ping means
 * the server sent headers or data in between, not just its ping ACK (17 bytes, about 45
 * under TLS) and flow-control frames: the strikes are cleared, as gRFC A8 says ("the
 * server ... resets the strike count when it sends data or headers"). That is what lets
 * grpc-go, grpc-java and C-core clients ping after each chunk of a response they receive
 * (BDP estimation) without being told to go away.
 */
const CONTROL_FRAMES_ALLOWANCE = 128;

/** Ping strikes per gRFC A8: too-early pings count, sending data or a new call clears them. */
function enforcePingPolicy(session: http2.ServerHttp2Session): void {
  let lastPingAt = Number.NEGATIVE_INFINITY;
  let writtenAtLastPing = 0;
  let strikes = 0;
  session.on("stream", () => {
    strikes = 0;
  });
  session.on("ping", () => {
    const now = performance.now();
    const written = session.socket?.bytesWritten ?? 0;
    if (written - writtenAtLastPing > CONTROL_FRAMES_ALLOWANCE) strikes = 0;
    else if (now - lastPingAt < GRPC_MIN_PING_INTERVAL_MS) strikes++;
    writtenAtLastPing = written;
    lastPingAt = now;
    if (strikes > GRPC_MAX_PING_STRIKES && !session.closed && !session.destroyed) {
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from("too_many_pings"));
      // GOAWAY first, so the client learns why; then the connection is gone.
      setImmediate(() => session.destroy());
    }
  });
}

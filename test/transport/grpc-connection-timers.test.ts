/**
 * The gRPC port's connection timers (src/transport/limits.ts, README "Transport limits"),
 * on a real server and a real HTTP/2 connection with the clock faked: the server pings
 * every connection GRPC_KEEPALIVE_TIME_MS after it opens and after each ack, whether or
 * not calls flow (grpc-js's keepalive timer is not reset by traffic), and a connection
 * with no call for GRPC_MAX_CONNECTION_IDLE_MS gets GOAWAY.
 */
import http2 from "node:http2";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createGrpcServer, type GrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { GRPC_KEEPALIVE_TIME_MS, GRPC_MAX_CONNECTION_IDLE_MS } from "../../src/transport/limits.js";

let server: GrpcServer;
let address = "";
beforeAll(async () => {
  server = createGrpcServer({ services: [] });
  address = `127.0.0.1:${await listenGrpc(server.server, "127.0.0.1", 0)}`;
});
afterAll(() => server.server.forceShutdown());

const sessions: http2.ClientHttp2Session[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const session of sessions.splice(0)) session.destroy();
});

/**
 * A connection opened under a fake clock, so the timers the server starts for it are
 * fake too. Timers only: sockets, setImmediate and process.nextTick stay real.
 */
async function connectUnderFakeClock(): Promise<http2.ClientHttp2Session> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  const session = http2.connect(`http://${address}`);
  sessions.push(session);
  await new Promise((resolve, reject) => {
    session.once("connect", resolve);
    session.once("error", reject);
  });
  await ioTurns();
  return session;
}

/** Lets real I/O run (a ping and its ack cross the loopback in a few turns of the loop). */
async function ioTurns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** One health check as a raw HTTP/2 stream, to its end. */
async function healthCheck(session: http2.ClientHttp2Session): Promise<void> {
  server.health.setStatus("", "SERVING");
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Check",
    "content-type": "application/grpc",
    te: "trailers",
  });
  let status: string | undefined;
  stream.on("trailers", (trailers) => {
    status = String(trailers["grpc-status"]);
  });
  stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty message, uncompressed
  stream.resume();
  await new Promise((resolve) => stream.on("close", resolve));
  expect(status).toBe("0");
}

/** Moves the fake clock in steps, letting I/O run between them. */
async function advance(ms: number, stepMs = 5_000): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, left));
    await ioTurns();
  }
}

describe("gRPC port connection timers", () => {
  it("pings every connection GRPC_KEEPALIVE_TIME_MS after it opens and after each ack, calls or not", async () => {
    const session = await connectUnderFakeClock();
    let pings = 0;
    session.on("ping", () => {
      pings++;
    });
    await advance(GRPC_KEEPALIVE_TIME_MS / 2);
    await healthCheck(session); // traffic does not move the ping
    await advance(GRPC_KEEPALIVE_TIME_MS / 2 - 5_000);
    expect(pings).toBe(0);
    await advance(5_000);
    expect(pings).toBe(1);
    await advance(GRPC_KEEPALIVE_TIME_MS);
    expect(pings).toBe(2);
    // Acked each time (node answers pings itself): the connection is still open.
    expect(session.closed || session.destroyed).toBe(false);
  });

  it("sends GOAWAY to a connection with no call for GRPC_MAX_CONNECTION_IDLE_MS", async () => {
    const session = await connectUnderFakeClock();
    let goaway: number | undefined;
    session.on("goaway", (code: number) => {
      goaway = code;
    });
    session.on("error", () => undefined);
    await advance(GRPC_MAX_CONNECTION_IDLE_MS - 5_000);
    expect(goaway).toBeUndefined();
    await advance(5_000);
    expect(goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });
});

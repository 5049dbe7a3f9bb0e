/**
 * The HTTP/1.1 transport: @connectrpc/connect-node serving the same ServiceRegistrations
 * as the gRPC server (grpc.ts) over Connect (JSON and binary, so `curl` and `fetch`
 * work), gRPC-Web (browsers) and gRPC. Internal callers use the grpc-js port; DESIGN.md,
 * "Why two transports over one set of handlers", says why. Reflection is not served here:
 * its single RPC is bidi streaming, which HTTP/1.1 cannot carry.
 * Pinned by the HTTP tests in test/transport/grpc-adapter.test.ts.
 */
import { createServer, type Server } from "node:http";
import { createServer as createTlsServer, type Server as TlsServer } from "node:https";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ServerTls } from "./tls.js";
import { defaultMaxMessageBytes, defaultMaxTimeoutMs, withUnimplemented, type ServiceRegistration } from "./grpc.js";

export interface HttpServerOptions {
  services: ServiceRegistration[];
  /** Largest request message, in bytes. Default 4 MiB, as the gRPC side (maxReceiveMessageBytes). */
  readMaxBytes?: number;
  /** Largest response message, in bytes. Default 4 MiB, as the gRPC side (maxSendMessageBytes). */
  writeMaxBytes?: number;
  /**
   * Cap on a call's deadline, in ms; default 5 minutes, as the gRPC side (maxTimeoutMs):
   * a call whose deadline is later, or that has none, sees `ctx.signal` abort with
   * DEADLINE_EXCEEDED at the cap. Connect's own `maxTimeoutMs` is deliberately not used:
   * it rejects a longer timeout with INVALID_ARGUMENT and leaves calls without one
   * uncapped, so the same client would be treated differently on the two ports.
   */
  maxTimeoutMs?: number;
  /**
   * Serve HTTPS with this key pair; with `clientCa`, every client must present a
   * certificate signed by it (mTLS). Default: plain HTTP, which config allows only on
   * loopback unless explicitly opted out (DESIGN.md, Security).
   */
  tls?: ServerTls | undefined;
}

export type HttpServer = Server | TlsServer;

/** Builds the server (does not listen; see listenHttp). Unknown paths answer 404. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const handler = connectNodeAdapter({
    routes(router) {
      for (const { service, impl } of options.services) router.service(service, withUnimplemented(service, impl));
    },
    connect: true,
    grpcWeb: true,
    grpc: true,
    readMaxBytes: options.readMaxBytes ?? defaultMaxMessageBytes,
    writeMaxBytes: options.writeMaxBytes ?? defaultMaxMessageBytes,
    interceptors: [capDeadline(options.maxTimeoutMs ?? defaultMaxTimeoutMs)],
  });
  const tls = options.tls;
  if (tls === undefined) return createServer(handler);
  return createTlsServer(
    { key: tls.key, cert: tls.cert, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
    handler,
  );
}

/** Listens and resolves the bound port (port 0: a free one). */
export function listenHttp(server: HttpServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.removeListener("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

/**
 * Hands the handler a signal that also fires at `capMs`. Handlers see `req.signal` as
 * `ctx.signal` (connect's invoke-implementation mergeRequest), and connect aborts the
 * call's own signal when the call ends, which is when the timer is dropped.
 */
function capDeadline(capMs: number): Interceptor {
  return (next) => (req) => {
    const cap = new AbortController();
    const timer = setTimeout(() => cap.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), capMs);
    const stop = () => clearTimeout(timer);
    if (req.signal.aborted) stop();
    else req.signal.addEventListener("abort", stop, { once: true });
    return next({ ...req, signal: AbortSignal.any([req.signal, cap.signal]) });
  };
}

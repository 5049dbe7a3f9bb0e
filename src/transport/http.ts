/**
 * The HTTP/1.1 transport: @connectrpc/connect-node serving the same ServiceRegistrations
 * as the gRPC server (grpc.ts) over Connect (JSON and binary, so `curl` and `fetch`
 * work), gRPC-Web (browsers) and gRPC. Internal callers use the grpc-js port; DESIGN.md,
 * "Why two transports over one set of handlers", says why. Reflection is not served here:
 * its single RPC is bidi streaming, which HTTP/1.1 cannot carry.
 * Pinned by the HTTP tests in test/transport/grpc-adapter.test.ts, deadline-cap.test.ts and
 * http-errors.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer, type Server as TlsServer } from "node:https";
import type { Socket } from "node:net";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
  type ServiceImpl,
} from "@connectrpc/connect";
import { type AuthGate, createAuthGate, principalKey, refusedPrincipal } from "../middleware/auth-gate.js";
import { toConnectError } from "../middleware/error-mapping.js";
import {
  type UniversalHandler,
  type UniversalServerRequest,
  type UniversalServerResponse,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "./connect-internals.js";
import { httpCredentials, refusalResponse } from "./http-auth.js";
import {
  HTTP_HEADERS_TIMEOUT_MS,
  HTTP_KEEP_ALIVE_TIMEOUT_MS,
  HTTP_MAX_CONNECTIONS,
  HTTP_MAX_HEADER_BYTES,
} from "./limits.js";
import {
  type AnyMethodImpl,
  defaultMaxMessageBytes,
  defaultMaxTimeoutMs,
  type ServiceRegistration,
  withUnimplemented,
} from "./registration.js";
import { checkRequests, requestCompressions } from "./request-check.js";
import type { ServerTls } from "./tls.js";

export interface HttpServerOptions {
  services: ServiceRegistration[];
  /** Largest request message, in bytes. Default 4 MiB, as the gRPC side (maxReceiveMessageBytes). */
  readMaxBytes?: number;
  /** Largest response message, in bytes. Default 4 MiB, as the gRPC side (maxSendMessageBytes). */
  writeMaxBytes?: number;
  /**
   * Cap on a call's deadline, in ms; default 5 minutes, as the gRPC side (maxTimeoutMs):
   * a call whose deadline is later, or that has none, sees `ctx.signal` abort with
   * DEADLINE_EXCEEDED at the cap, and `ctx.timeoutMs()` count down to it. Connect's own `maxTimeoutMs` is deliberately not used:
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
  /** As GrpcServerOptions.onRefused: a call refused before any handler ran (undecodable, auth). */
  onRefused?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
  /** Who may call what (AUTH_MODE), as on the gRPC port. Default: mode none, every caller anonymous. */
  auth?: AuthGate | undefined;
  /**
   * Told of a call that failed outside any handler, so no RPC log line covers it: a
   * response that cannot be written, a request connect cannot read. Default: one line on
   * stderr, as connect-node's own adapter prints.
   */
  onError?: ((error: unknown, req: IncomingMessage) => void) | undefined;
}

function reportToStderr(error: unknown, req: IncomingMessage): void {
  console.error(`HTTP ${req.method} ${req.url} failed:`, error);
}

export type HttpServer = Server | TlsServer;

/** Builds the server (does not listen; see listenHttp). Unknown paths answer 404. */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const readMaxBytes = options.readMaxBytes ?? defaultMaxMessageBytes;
  const router = createConnectRouter({
    connect: true,
    grpcWeb: true,
    grpc: true,
    readMaxBytes,
    writeMaxBytes: options.writeMaxBytes ?? defaultMaxMessageBytes,
    acceptCompression: [...requestCompressions],
  });
  const capMs = options.maxTimeoutMs ?? defaultMaxTimeoutMs;
  for (const { service, impl } of options.services) {
    router.service(service, capDeadlines(withUnimplemented(service, impl), capMs));
  }
  // What connectNodeAdapter does (path → handler, universal request/response), with each
  // handler behind checkRequests: a request connect cannot read is INVALID_ARGUMENT.
  const check = { readMaxBytes, compressions: requestCompressions, onRefused: options.onRefused };
  const handlers = new Map(router.handlers.map((h) => [h.requestPath, checkRequests(h, check)]));
  const onError = options.onError ?? reportToStderr;
  const gate = options.auth ?? createAuthGate("none", undefined);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const uHandler = handlers.get(req.url?.split("?", 2)[0] ?? "");
    if (!uHandler) {
      res.writeHead(404).end();
      return;
    }
    let principal: string | undefined;
    let refusal: ConnectError | undefined;
    try {
      principal = gate.admit(uHandler.service.typeName, uHandler.method.name, httpCredentials(req));
    } catch (err) {
      refusal = toConnectError(err);
      principal = refusedPrincipal(err);
    }
    let uReq: UniversalServerRequest;
    try {
      const values = principal === undefined ? undefined : createContextValues().set(principalKey, principal);
      uReq = universalRequestFromNodeRequest(req, res, undefined, values);
    } catch (err) {
      // It throws, synchronously, when it cannot build the request URL (an HTTP/1.0
      // request without Host); uncaught, that would take the process down.
      onError(err, req);
      res.writeHead(400).end();
      return;
    }
    const answer = refusal ? Promise.resolve(refuse(uHandler, uReq, refusal, options.onRefused)) : uHandler(uReq);
    answer
      .then((uRes) => {
        // Answered before the request body was read to its end (refused for its size, its
        // caller, or a bad first message while the client still sends): node:http does not
        // read the rest, so this connection cannot carry another request. Say so, or the
        // client reuses it and its next request fails with ECONNRESET.
        if (!req.complete) res.setHeader("Connection", "close");
        return universalResponseToNodeResponse(uRes, res);
      })
      .catch((reason: unknown) => {
        // Aborted: the client went away mid-response, nothing to report (connect's own
        // node adapter skips it too). Anything else failed after the handler returned,
        // e.g. a response header node:http refuses to send.
        if (ConnectError.from(reason).code !== Code.Aborted) onError(reason, req);
        res.destroy();
      });
  };
  const tls = options.tls;
  const server =
    tls === undefined
      ? createServer(connectionLimits(capMs), handler)
      : createTlsServer(
          {
            ...connectionLimits(capMs),
            key: tls.key,
            cert: tls.cert,
            ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        );
  server.maxConnections = HTTP_MAX_CONNECTIONS;
  // headersTimeout starts at a request's first byte: a connection that sends none would
  // hold one of the HTTP_MAX_CONNECTIONS forever. Until its first request arrives, the
  // socket's own timeout closes it; node:http then manages it (keepAliveTimeout). Set a
  // little later than headersTimeout, so a request started but never finished still gets
  // node's 408 answer first.
  server.on(tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    socket.setTimeout(HTTP_HEADERS_TIMEOUT_MS + 2_000);
  });
  server.on("request", (req: IncomingMessage) => req.socket.setTimeout(0));
  return server;
}

/**
 * What one connection may hold (README "Limits"): headers within HTTP_HEADERS_TIMEOUT_MS
 * (slow loris), the whole request within the deadline cap plus the headers' allowance (a
 * client stream may legitimately take that long), idle keep-alive sockets closed.
 */
function connectionLimits(capMs: number) {
  return {
    headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
    // How often node checks those timeouts (default 30 s, which would triple the allowance).
    connectionsCheckingInterval: 1_000,
    requestTimeout: capMs + HTTP_HEADERS_TIMEOUT_MS,
    keepAliveTimeout: HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderSize: HTTP_MAX_HEADER_BYTES,
    // TLS only (node:https): a handshake never finished is dropped as soon.
    handshakeTimeout: HTTP_HEADERS_TIMEOUT_MS,
  };
}

/**
 * Answers a call the auth gate refused, before its handler ran, in the caller's protocol,
 * and reports it (onRefused) so it still gets its log line and metric.
 */
function refuse(
  uHandler: UniversalHandler,
  req: UniversalServerRequest,
  error: ConnectError,
  onRefused: HttpServerOptions["onRefused"],
): UniversalServerResponse {
  const ctx = createHandlerContext({
    service: uHandler.service,
    method: uHandler.method,
    protocolName: uHandler.protocolNames[0] ?? "connect",
    requestMethod: req.method,
    url: req.url,
    requestHeader: req.header,
    ...(req.contextValues ? { contextValues: req.contextValues } : {}),
  });
  onRefused?.(uHandler.method, ctx, error);
  return refusalResponse(req.header.get("content-type") ?? undefined, error);
}

/**
 * Listens and resolves the bound port (port 0: a free one). An IPv6 host may be bracketed
 * (`[::1]`), as listenGrpc accepts; `listen` itself takes it bare only.
 */
export function listenHttp(server: HttpServer, host: string, port: number): Promise<number> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, bare, () => {
      server.removeListener("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

/**
 * Every method of `impl` with the call's deadline capped at `capMs`: a call whose deadline
 * is later, or that has none, gets a ctx whose signal aborts with DEADLINE_EXCEEDED at the
 * cap and whose timeoutMs() counts down to it, as on the gRPC port (openCall in
 * grpc-call.ts). Not an interceptor: connect builds the handler's ctx from its own context
 * and takes only signal, header and context values from the interceptor's request
 * (mergeRequest in protocol/invoke-implementation.js), so timeoutMs() would keep the
 * client's value. Pinned by test/transport/deadline-cap.test.ts.
 */
function capDeadlines(impl: ServiceImpl<DescService>, capMs: number): ServiceImpl<DescService> {
  const capped: Record<string, AnyMethodImpl> = {};
  for (const [name, fn] of Object.entries(impl as unknown as Record<string, AnyMethodImpl>)) {
    capped[name] = (input, ctx) => fn(input, capContext(ctx, capMs));
  }
  return capped as unknown as ServiceImpl<DescService>;
}

function capContext(ctx: HandlerContext, capMs: number): HandlerContext {
  const clientMs = ctx.timeoutMs();
  if (clientMs !== undefined && clientMs <= capMs) return ctx;
  const capAt = Date.now() + capMs;
  const cap = new AbortController();
  const timer = setTimeout(() => cap.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)), capMs);
  // connect aborts ctx.signal when the call ends (its handler factories call
  // context.abort()), which is when the timer is dropped.
  if (ctx.signal.aborted) clearTimeout(timer);
  else ctx.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return { ...ctx, signal: AbortSignal.any([ctx.signal, cap.signal]), timeoutMs: () => capAt - Date.now() };
}

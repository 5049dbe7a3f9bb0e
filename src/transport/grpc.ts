/**
 * The gRPC transport: an @grpc/grpc-js server that mounts the same ServiceRegistrations
 * as the Connect transport (http.ts) through the call adapter (grpc-call.ts), plus
 * grpc.health.v1 (grpc-health-check) and server reflection (reflection.ts). DESIGN.md,
 * "Why two transports over one set of handlers", says why grpc-js and not connect-node
 * serves gRPC. Pinned by test/transport/grpc-adapter.test.ts.
 */
import type { DescMethod, DescService, FileRegistry } from "@bufbuild/protobuf";
import { type ConnectError, createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { type AuthGate, principalKey } from "../middleware/auth-gate.js";
import { type Admissions, authInterceptor, type OnRefused } from "./grpc-auth.js";
import { createServiceHandlers, grpcStatus } from "./grpc-call.js";
import { clientFaultStatuses } from "./grpc-client-faults.js";
import { protectConnections } from "./grpc-connections.js";
import { rawServiceDefinition } from "./grpc-service-definition.js";
import {
  GRPC_KEEPALIVE_TIME_MS,
  GRPC_KEEPALIVE_TIMEOUT_MS,
  GRPC_MAX_CONCURRENT_STREAMS,
  GRPC_MAX_CONNECTION_IDLE_MS,
} from "./limits.js";
import { headersFromMetadata } from "./metadata.js";
import { createReflectionServices, createServiceRegistry } from "./reflection.js";
import { defaultMaxMessageBytes, defaultMaxTimeoutMs, type ServiceRegistration } from "./registration.js";

export interface GrpcServerOptions {
  services: ServiceRegistration[];
  /**
   * Largest request message accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED
   * before they are decoded. Default defaultMaxMessageBytes (4 MiB, grpc-js's own).
   */
  maxReceiveMessageBytes?: number;
  /**
   * Largest response message sent, in bytes; larger ones end the call with
   * RESOURCE_EXHAUSTED. Default 4 MiB: grpc-js sends unbounded by default, but a peer with
   * the usual 4 MiB receive limit would reject anything bigger anyway, and a bug that
   * builds a huge response should fail here, not in every client.
   */
  maxSendMessageBytes?: number;
  /**
   * Cap on a call's deadline, in ms: a call whose deadline is later, or that has none,
   * sees `ctx.signal` abort (DEADLINE_EXCEEDED) at this cap, and `ctx.timeoutMs()` count
   * down to it, as on the HTTP side. Default defaultMaxTimeoutMs
   * (5 minutes).
   */
  maxTimeoutMs?: number;
  /**
   * Told of a call refused before any handler ran: its request bytes do not decode
   * (INVALID_ARGUMENT), or the auth gate refused it (UNAUTHENTICATED, PERMISSION_DENIED),
   * so the shared logging and metrics still see one outcome per call. Default: nobody.
   */
  onRefused?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
  /** Who may call what (AUTH_MODE). Default: mode none, every caller anonymous. */
  auth?: AuthGate | undefined;
  /**
   * Descriptors answered by server reflection. Default: createServiceRegistry(services),
   * the files of the mounted services, health, reflection and google.rpc error details,
   * with all their imports.
   */
  registry?: FileRegistry;
}

export interface GrpcServer {
  server: grpc.Server;
  /** Statuses start unknown (Check answers NOT_FOUND); main sets them once ready. */
  health: HealthImplementation;
  /** "" (the whole server) and every registered service: the names health should report. */
  serviceNames: string[];
}

/** Builds the server (does not listen; see listenGrpc). */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const reflection = createReflectionServices(
    options.registry ?? createServiceRegistry(options.services.map((s) => s.service)),
  );
  const gated = options.auth !== undefined && options.auth.mode !== "none";
  const admissions: Admissions | undefined = gated ? new WeakMap() : undefined;
  const reportRefusal = refusalReporter(options, reflection);
  // clientFaultStatuses first: it must see grpc-js's own base call (grpc-client-faults.ts).
  // Its refusals of a message come after the auth gate admitted the caller: named here.
  const interceptors = [
    clientFaultStatuses((path, metadata, principal, error) =>
      reportRefusal(path, metadata, principal ?? admissions?.get(metadata), error),
    ),
    ...(gated ? [authInterceptor(options.auth!, admissions!, grpcStatus, reportRefusal)] : []),
  ];
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? defaultMaxMessageBytes,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? defaultMaxMessageBytes,
    "grpc.max_concurrent_streams": GRPC_MAX_CONCURRENT_STREAMS,
    "grpc.keepalive_time_ms": GRPC_KEEPALIVE_TIME_MS,
    "grpc.keepalive_timeout_ms": GRPC_KEEPALIVE_TIMEOUT_MS,
    "grpc.max_connection_idle_ms": GRPC_MAX_CONNECTION_IDLE_MS,
    // Nothing serves channelz (its grpc.channelz.v1 service is not mounted), so its per-call
    // bookkeeping (counters, timestamps, a tracker object of closures per call) is not kept.
    "grpc.enable_channelz": 0,
    interceptors,
  });
  const settings = {
    maxTimeoutMs: options.maxTimeoutMs ?? defaultMaxTimeoutMs,
    onRefused: options.onRefused,
    admissions,
  };
  for (const { service, impl } of [...options.services, ...reflection]) {
    server.addService(rawServiceDefinition(service), createServiceHandlers(service, impl, settings));
  }
  const health = new HealthImplementation();
  health.addToServer(server);
  return { server, health, serviceNames: ["", ...options.services.map((s) => s.service.typeName)] };
}

/**
 * Binds (insecure unless credentials are given) and resolves the bound port (port 0: a
 * free one), with the connection protections grpc-js lacks installed (grpc-connections.ts).
 */
export function listenGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  const address = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => {
      if (err) return reject(err);
      try {
        protectConnections(server);
        resolve(bound);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Calls the interceptors refuse (auth; unreadable requests, grpc-client-faults.ts)
 * reported through onRefused like the adapter's own refusals, for every service served:
 * the mounted ones, reflection and health (whose descriptor comes from the generated
 * health_pb, grpc-health-check having none). A path no service has is not reported:
 * grpc-js answers it UNIMPLEMENTED before any interceptor runs.
 */
function refusalReporter(options: GrpcServerOptions, reflection: readonly ServiceRegistration[]): OnRefused {
  const onRefused = options.onRefused;
  if (onRefused === undefined) return () => undefined;
  const services: DescService[] = [...options.services, ...reflection].map((s) => s.service);
  const methods = new Map(
    services.concat(Health).flatMap((s) => s.methods.map((m) => [`/${s.typeName}/${m.name}`, m])),
  );
  return (path, metadata, principal, error) => {
    const method = methods.get(path);
    if (method === undefined) return;
    const ctx = createHandlerContext({
      service: method.parent,
      method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: path,
      requestHeader: headersFromMetadata(metadata),
      ...(principal !== undefined ? { contextValues: createContextValues().set(principalKey, principal) } : {}),
    });
    onRefused(method, ctx, error);
  };
}

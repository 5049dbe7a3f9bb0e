/**
 * The gRPC transport: an @grpc/grpc-js server that mounts the same ServiceRegistrations
 * as the Connect transport (http.ts) through the call adapter (grpc-call.ts), plus
 * grpc.health.v1 (grpc-health-check) and server reflection (reflection.ts). DESIGN.md,
 * "Why two transports over one set of handlers", says why grpc-js and not connect-node
 * serves gRPC. Pinned by test/transport/grpc-adapter.test.ts.
 */
import type { DescMethod, FileRegistry } from "@bufbuild/protobuf";
import type { ConnectError, HandlerContext } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { createServiceHandlers } from "./grpc-call.js";
import { rawServiceDefinition } from "./grpc-service-definition.js";
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
   * Told of a call refused before any handler ran because its request bytes do not decode
   * (answered INVALID_ARGUMENT), so the shared logging and metrics still see one outcome
   * per call. Default: nobody is told.
   */
  onUndecodable?: ((method: DescMethod, ctx: HandlerContext, error: ConnectError) => void) | undefined;
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
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxReceiveMessageBytes ?? defaultMaxMessageBytes,
    "grpc.max_send_message_length": options.maxSendMessageBytes ?? defaultMaxMessageBytes,
    // Nothing serves channelz (its grpc.channelz.v1 service is not mounted), so its per-call
    // bookkeeping (counters, timestamps, a tracker object of closures per call) is not kept.
    "grpc.enable_channelz": 0,
  });
  const settings = { maxTimeoutMs: options.maxTimeoutMs ?? defaultMaxTimeoutMs, onUndecodable: options.onUndecodable };
  const reflection = createReflectionServices(
    options.registry ?? createServiceRegistry(options.services.map((s) => s.service)),
  );
  for (const { service, impl } of [...options.services, ...reflection]) {
    server.addService(rawServiceDefinition(service), createServiceHandlers(service, impl, settings));
  }
  const health = new HealthImplementation();
  health.addToServer(server);
  return { server, health, serviceNames: ["", ...options.services.map((s) => s.service.typeName)] };
}

/** Binds (insecure unless credentials are given) and resolves the bound port (port 0: a free one). */
export function listenGrpc(
  server: grpc.Server,
  host: string,
  port: number,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<number> {
  const address = host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

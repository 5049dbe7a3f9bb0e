/**
 * Both transports on port 0 over the given registrations, without the rest of the app:
 * for transport tests whose handlers are fakes. `stop()` closes the client and both
 * servers. (The whole service on DynamoDB Local is harness.ts.)
 */
import type { Server as HttpServer } from "node:http";
import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { createGrpcServer, type GrpcServer, listenGrpc } from "../../src/transport/grpc.js";
import { createGrpcServiceDefinition } from "../../src/transport/grpc-service-definition.js";
import { createHttpServer, listenHttp } from "../../src/transport/http.js";
import type { ServiceRegistration } from "../../src/transport/registration.js";

export type GenericGrpcClient = InstanceType<ReturnType<typeof grpc.makeGenericClientConstructor>>;

export interface Transports {
  grpcServer: GrpcServer;
  httpServer: HttpServer;
  /** A grpc-js client of `clientFor`, with one method per RPC (by localName). */
  grpcClient: GenericGrpcClient;
  /** host:port of the gRPC server, for clients of other services or raw calls. */
  grpcAddress: string;
  httpUrl: string;
  stop(): Promise<void>;
}

export async function startTransports(
  services: ServiceRegistration[],
  clientFor: DescService,
  options: { maxTimeoutMs?: number; maxMessageBytes?: number } = {},
): Promise<Transports> {
  const { maxTimeoutMs, maxMessageBytes } = options;
  const grpcServer = createGrpcServer({
    services,
    ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
    ...(maxMessageBytes === undefined ? {} : { maxReceiveMessageBytes: maxMessageBytes }),
  });
  const grpcPort = await listenGrpc(grpcServer.server, "127.0.0.1", 0);
  const grpcAddress = `127.0.0.1:${grpcPort}`;
  const Client = grpc.makeGenericClientConstructor(createGrpcServiceDefinition(clientFor), clientFor.name);
  const grpcClient = new Client(grpcAddress, grpc.credentials.createInsecure());
  const httpServer = createHttpServer({
    services,
    ...(maxTimeoutMs === undefined ? {} : { maxTimeoutMs }),
    ...(maxMessageBytes === undefined ? {} : { readMaxBytes: maxMessageBytes }),
  }) as HttpServer;
  const httpUrl = `http://127.0.0.1:${await listenHttp(httpServer, "127.0.0.1", 0)}`;
  return {
    grpcServer,
    httpServer,
    grpcClient,
    grpcAddress,
    httpUrl,
    async stop() {
      grpcClient.close();
      grpcServer.server.forceShutdown();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

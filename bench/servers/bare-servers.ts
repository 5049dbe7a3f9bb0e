/**
 * Bench only: the baselines of the framework-overhead stage, in one process — a bare
 * @grpc/grpc-js server and a bare connect-node server (HTTP/1.1), each answering
 * InventoryService/GetItem with a constant response (the same message the in-memory
 * service sends). Messages are decoded and encoded per call with the same protobuf-es
 * schemas, as any server must; nothing else runs. Usage: bare-servers.js GRPC_PORT HTTP_PORT
 */
import { createServer } from "node:http";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  type GetItemRequest,
  GetItemRequestSchema,
  type GetItemResponse,
  GetItemResponseSchema,
  InventoryService,
} from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { frameworkItemResponse } from "./framework-item.js";

const [grpcPort, httpPort] = process.argv.slice(2).map(Number);
if (!grpcPort || !httpPort) throw new Error("usage: bare-servers.js GRPC_PORT HTTP_PORT");
const response = frameworkItemResponse();

const server = new grpc.Server();
const getItem: grpc.MethodDefinition<GetItemRequest, GetItemResponse> = {
  path: `/${InventoryService.typeName}/${InventoryService.method.getItem.name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: (m) => Buffer.from(toBinary(GetItemRequestSchema, m)),
  requestDeserialize: (b) => fromBinary(GetItemRequestSchema, b),
  responseSerialize: (m) => Buffer.from(toBinary(GetItemResponseSchema, m)),
  responseDeserialize: (b) => fromBinary(GetItemResponseSchema, b),
};
server.addService(
  { getItem },
  {
    getItem: (
      _call: grpc.ServerUnaryCall<GetItemRequest, GetItemResponse>,
      callback: grpc.sendUnaryData<GetItemResponse>,
    ) => callback(null, response),
  },
);
await new Promise<number>((resolve, reject) =>
  server.bindAsync(`127.0.0.1:${grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) =>
    err ? reject(err) : resolve(port),
  ),
);

const http = createServer(
  connectNodeAdapter({ routes: (router) => router.service(InventoryService, { getItem: () => response }) }),
);
await new Promise<void>((resolve) => http.listen(httpPort, "127.0.0.1", resolve));

process.on("SIGTERM", () => {
  server.forceShutdown();
  http.closeAllConnections();
  http.close();
  process.exit(0);
});

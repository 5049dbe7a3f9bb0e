/**
 * RpcClient.clientStream on both transports against a tiny in-test server (no DynamoDB,
 * none of src/transport): a bare grpc-js server and a bare connect-node one, each serving
 * OrderService.ImportOrders from the generated descriptors with one shared handler.
 */
import { createServer, type Server } from "node:http";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ImportOrdersRequest,
  type ImportOrdersResponse,
  OrderService,
} from "../../src/gen/commerce/v1/order_service_pb.js";
import { grpcCodec, grpcPath } from "./grpc-unary.js";
import { connectClient, failure, grpcClient, type RpcClient } from "./rpc-client.js";

const importOrders = OrderService.method.importOrders;

/** Counts the orders; an order id "refuse" fails the call as a handler would. */
async function countOrders(requests: AsyncIterable<ImportOrdersRequest>): Promise<{ written: bigint }> {
  let written = 0n;
  for await (const request of requests) {
    if (request.orders.some((o) => o.orderId === "refuse")) {
      throw new ConnectError(`refused after ${written} orders`, Code.InvalidArgument);
    }
    written += BigInt(request.orders.length);
  }
  return { written };
}

async function startGrpc(): Promise<{ server: grpc.Server; address: string }> {
  const server = new grpc.Server();
  const input = grpcCodec(importOrders.input);
  const output = grpcCodec(importOrders.output);
  const definition: grpc.ServiceDefinition = {
    importOrders: {
      path: grpcPath(importOrders),
      requestStream: true,
      responseStream: false,
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
      originalName: "importOrders",
    },
  };
  server.addService(definition, {
    importOrders(
      call: grpc.ServerReadableStream<ImportOrdersRequest, ImportOrdersResponse>,
      callback: grpc.sendUnaryData<ImportOrdersResponse>,
    ) {
      countOrders(call).then(
        (res) => callback(null, create(importOrders.output, res)),
        (err: ConnectError) => callback({ code: err.code as number, details: err.rawMessage }),
      );
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, address: `127.0.0.1:${port}` };
}

async function startConnect(): Promise<{ server: Server; url: string }> {
  const server = createServer(
    connectNodeAdapter({ routes: (router) => router.service(OrderService, { importOrders: countOrders }) }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` };
}

const orders = (prefix: string, n: number) => ({
  orders: Array.from({ length: n }, (_, i) => ({ orderId: `${prefix}-${i}`, customerId: "c" })),
});

let grpcServer: grpc.Server;
let httpServer: Server;
const clients: RpcClient[] = [];

beforeAll(async () => {
  const g = await startGrpc();
  const c = await startConnect();
  grpcServer = g.server;
  httpServer = c.server;
  clients.push(grpcClient(g.address), connectClient(c.url));
});

afterAll(async () => {
  for (const client of clients) client.close();
  grpcServer?.forceShutdown();
  httpServer?.closeAllConnections();
  await new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
});

describe.each(["grpc", "connect"] as const)("RpcClient.clientStream over %s", (name) => {
  const client = () => clients.find((c) => c.name === name)!;

  it("sends an array of requests and returns the one response", async () => {
    const res = await client().clientStream(importOrders, [orders("a", 2), orders("b", 3), { orders: [] }]);
    expect(res.written).toBe(5n);
  });

  it("sends no request at all", async () => {
    expect((await client().clientStream(importOrders, [])).written).toBe(0n);
  });

  it("feeds a long async stream through, as fast as the transport takes it", async () => {
    async function* many() {
      for (let i = 0; i < 300; i++) {
        // A pause now and then: the stream is produced while the call is in flight.
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
        yield orders(`m${i}`, 100);
      }
    }
    expect((await client().clientStream(importOrders, many())).written).toBe(30_000n);
  });

  it("returns the server's error as an RpcFailure, even before the stream ends", async () => {
    async function* refusedThenMore() {
      yield orders("ok", 4);
      yield { orders: [{ orderId: "refuse" }] };
      for (let i = 0; i < 100; i++) yield orders(`late${i}`, 100);
    }
    const f = await failure(() => client().clientStream(importOrders, refusedThenMore()));
    expect(f.code).toBe(Code.InvalidArgument);
    expect(f.message).toBe("refused after 4 orders");
  });
});

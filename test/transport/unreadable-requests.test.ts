/**
 * Request bodies the server cannot read, on both ports, against fake handlers: garbage,
 * cut-short envelopes, compressed flags without an encoding, encodings whose data does
 * not decompress, bodies and length prefixes over the size limit, no message or two for
 * a unary call. Each gets INVALID_ARGUMENT (RESOURCE_EXHAUSTED over the limit,
 * UNIMPLEMENTED for an encoding the server does not accept, as the gRPC compression spec
 * says), worded as src/transport/request-faults.ts says, never INTERNAL — and a
 * well-formed request in the same framing still succeeds, so the checks in front of
 * connect (request-check.ts) and around grpc-js (grpc-client-faults.ts) refuse only what
 * they should.
 */
import { brotliCompressSync, gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetItemRequestSchema,
  InventoryService,
  ScanItemsRequestSchema,
} from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { ImportOrdersRequestSchema, OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { serviceRegistration } from "../../src/transport/registration.js";
import { envelope, postGrpc, postHttp, type RawAnswer } from "../support/raw-calls.js";
import { startTransports, type Transports } from "../support/transports.js";

const services = [
  serviceRegistration(InventoryService, {
    async getItem(req) {
      return { item: { sku: req.sku } };
    },
    async *scanItems() {
      yield { items: [] };
    },
  }),
  serviceRegistration(OrderService, {
    async importOrders(requests) {
      let written = 0n;
      for await (const r of requests) written += BigInt(r.orders.length);
      return { written };
    },
  }),
];

const MAX = 64 * 1024;
let t: Transports;
let grpcAddress: string;
beforeAll(async () => {
  t = await startTransports(services, InventoryService, { maxMessageBytes: MAX });
  grpcAddress = t.grpcAddress;
});
afterAll(() => t.stop());

const GET_ITEM = "/commerce.v1.InventoryService/GetItem";
const SCAN = "/commerce.v1.InventoryService/ScanItems";
const IMPORT = "/commerce.v1.OrderService/ImportOrders";
const valid = toBinary(GetItemRequestSchema, create(GetItemRequestSchema, { sku: "a" }));
const validScan = toBinary(ScanItemsRequestSchema, create(ScanItemsRequestSchema, { totalSegments: 1 }));
const validImport = toBinary(ImportOrdersRequestSchema, create(ImportOrdersRequestSchema, {}));
const garbage = new Uint8Array([0x0a, 0x05, 0x61]); // field 1 claims 5 bytes, 1 follows
const gzipped = gzipSync(valid);
const cutGzip = gzipped.subarray(0, gzipped.length - 6);
const notGzip = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const bomb = gzipSync(new Uint8Array(MAX * 4)); // small on the wire, over the limit inflated

const undecodable = (type: string) => `invalid request: cannot decode ${type}`;
const undecompressable = "invalid request: the message does not decompress";
const incomplete = "protocol error: incomplete envelope";
const notOne = (path: string) => `invalid request: ${path.slice(1)} takes exactly one request message`;

interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
  code: Code | 0;
  message?: string;
}

const PROTO = { "content-type": "application/proto" };
const GRPC_WEB = { "content-type": "application/grpc-web+proto" };
const CONNECT_STREAM = { "content-type": "application/connect+proto" };

const httpCases: Case[] = [
  {
    name: "Connect unary: garbage",
    path: GET_ITEM,
    headers: PROTO,
    body: garbage,
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.GetItemRequest"),
  },
  {
    name: "Connect unary: gzip, not gzip data",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "gzip" },
    body: notGzip,
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "Connect unary: gzip cut short",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "gzip" },
    body: cutGzip,
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "Connect unary: br, not brotli data",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "br" },
    body: notGzip,
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "Connect unary: gzip of garbage",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "gzip" },
    body: gzipSync(garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.GetItemRequest"),
  },
  {
    name: "Connect unary: JSON, gzip cut short",
    path: GET_ITEM,
    headers: { "content-type": "application/json", "content-encoding": "gzip" },
    body: cutGzip,
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "Connect unary: JSON garbage",
    path: GET_ITEM,
    headers: { "content-type": "application/json" },
    body: new TextEncoder().encode('{"sku":'),
    code: Code.InvalidArgument,
  },
  {
    name: "Connect unary: over the size limit",
    path: GET_ITEM,
    headers: PROTO,
    body: new Uint8Array(MAX + 1),
    code: Code.ResourceExhausted,
  },
  {
    name: "Connect unary: gzip bomb",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "gzip" },
    body: bomb,
    code: Code.ResourceExhausted,
  },
  {
    name: "Connect unary: unknown encoding",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "deflate" },
    body: valid,
    code: Code.Unimplemented,
  },
  {
    name: "Connect unary: gzip",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "gzip" },
    body: gzipped,
    code: 0,
  },
  {
    name: "Connect unary: br",
    path: GET_ITEM,
    headers: { ...PROTO, "content-encoding": "br" },
    body: brotliCompressSync(valid),
    code: 0,
  },
  {
    name: "gRPC-Web: garbage",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(0, garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.GetItemRequest"),
  },
  {
    name: "gRPC-Web: compressed flag, no encoding",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(1, valid),
    code: Code.InvalidArgument,
    message: "invalid request: compressed message without a message encoding",
  },
  {
    name: "gRPC-Web: gzip, not gzip data",
    path: GET_ITEM,
    headers: { ...GRPC_WEB, "grpc-encoding": "gzip" },
    body: envelope(1, notGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "gRPC-Web: gzip cut short",
    path: GET_ITEM,
    headers: { ...GRPC_WEB, "grpc-encoding": "gzip" },
    body: envelope(1, cutGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "gRPC-Web: gzip bomb",
    path: GET_ITEM,
    headers: { ...GRPC_WEB, "grpc-encoding": "gzip" },
    body: envelope(1, bomb),
    code: Code.ResourceExhausted,
  },
  {
    name: "gRPC-Web: envelope cut short",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(0, valid).subarray(0, 4),
    code: Code.InvalidArgument,
    message: incomplete,
  },
  {
    name: "gRPC-Web: client stream, last message cut short",
    path: IMPORT,
    headers: GRPC_WEB,
    body: Buffer.concat([envelope(0, validImport), envelope(0, valid).subarray(0, 6)]),
    code: Code.InvalidArgument,
    message: incomplete,
  },
  {
    name: "gRPC-Web: length prefix past the body",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(0, valid, valid.length + 10),
    code: Code.InvalidArgument,
  },
  {
    name: "gRPC-Web: length prefix over the limit",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(0, valid, 0xffffffff),
    code: Code.ResourceExhausted,
  },
  {
    name: "gRPC-Web: empty body",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: new Uint8Array(),
    code: Code.InvalidArgument,
    message: notOne(GET_ITEM),
  },
  {
    name: "gRPC-Web: two messages",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: Buffer.concat([envelope(0, valid), envelope(0, valid)]),
    code: Code.InvalidArgument,
    message: notOne(GET_ITEM),
  },
  {
    name: "gRPC-Web: trailer frame only",
    path: GET_ITEM,
    headers: GRPC_WEB,
    body: envelope(0x80, valid),
    code: Code.InvalidArgument,
    message: notOne(GET_ITEM),
  },
  {
    name: "gRPC-Web: server stream, garbage",
    path: SCAN,
    headers: GRPC_WEB,
    body: envelope(0, garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.ScanItemsRequest"),
  },
  {
    name: "gRPC-Web: client stream, gzip cut short",
    path: IMPORT,
    headers: { ...GRPC_WEB, "grpc-encoding": "gzip" },
    body: envelope(1, cutGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "gRPC-Web: gzip",
    path: GET_ITEM,
    headers: { ...GRPC_WEB, "grpc-encoding": "gzip" },
    body: envelope(1, gzipped),
    code: 0,
  },
  {
    name: "gRPC-Web: client stream of two",
    path: IMPORT,
    headers: GRPC_WEB,
    body: Buffer.concat([envelope(0, validImport), envelope(0, validImport)]),
    code: 0,
  },
  {
    name: "Connect stream: server stream, garbage",
    path: SCAN,
    headers: CONNECT_STREAM,
    body: envelope(0, garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.ScanItemsRequest"),
  },
  {
    name: "Connect stream: compressed flag, no encoding",
    path: SCAN,
    headers: CONNECT_STREAM,
    body: envelope(1, validScan),
    code: Code.InvalidArgument,
  },
  {
    name: "Connect stream: client stream, garbage second message",
    path: IMPORT,
    headers: CONNECT_STREAM,
    body: Buffer.concat([envelope(0, validImport), envelope(0, garbage)]),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.ImportOrdersRequest"),
  },
  {
    name: "Connect stream: client stream, gzip, not gzip data",
    path: IMPORT,
    headers: { ...CONNECT_STREAM, "connect-content-encoding": "gzip" },
    body: envelope(1, notGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  { name: "Connect stream: server stream", path: SCAN, headers: CONNECT_STREAM, body: envelope(0, validScan), code: 0 },
  {
    name: "gRPC on the HTTP port: garbage",
    path: GET_ITEM,
    headers: { "content-type": "application/grpc" },
    body: envelope(0, garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.GetItemRequest"),
  },
];

const grpcCases: Case[] = [
  {
    name: "garbage",
    path: GET_ITEM,
    headers: {},
    body: envelope(0, garbage),
    code: Code.InvalidArgument,
    message: undecodable("commerce.v1.GetItemRequest"),
  },
  {
    name: "gzip, not gzip data",
    path: GET_ITEM,
    headers: { "grpc-encoding": "gzip" },
    body: envelope(1, notGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "gzip cut short",
    path: GET_ITEM,
    headers: { "grpc-encoding": "gzip" },
    body: envelope(1, cutGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "client stream, gzip cut short",
    path: IMPORT,
    headers: { "grpc-encoding": "gzip" },
    body: envelope(1, cutGzip),
    code: Code.InvalidArgument,
    message: undecompressable,
  },
  {
    name: "gzip bomb",
    path: GET_ITEM,
    headers: { "grpc-encoding": "gzip" },
    body: envelope(1, bomb),
    code: Code.ResourceExhausted,
  },
  {
    name: "unknown encoding",
    path: GET_ITEM,
    headers: { "grpc-encoding": "zstd" },
    body: envelope(1, valid),
    code: Code.Unimplemented,
  },
  {
    name: "envelope cut short",
    path: GET_ITEM,
    headers: {},
    body: envelope(0, valid).subarray(0, 4),
    code: Code.InvalidArgument,
    message: incomplete,
  },
  {
    name: "client stream, last message cut short",
    path: IMPORT,
    headers: {},
    body: Buffer.concat([envelope(0, validImport), envelope(0, valid).subarray(0, 6)]),
    code: Code.InvalidArgument,
    message: incomplete,
  },
  {
    name: "length prefix over the limit",
    path: GET_ITEM,
    headers: {},
    body: envelope(0, valid, 0xffffffff),
    code: Code.ResourceExhausted,
  },
  {
    name: "empty body",
    path: GET_ITEM,
    headers: {},
    body: new Uint8Array(),
    code: Code.InvalidArgument,
    message: notOne(GET_ITEM),
  },
  {
    name: "two messages",
    path: GET_ITEM,
    headers: {},
    body: Buffer.concat([envelope(0, valid), envelope(0, valid)]),
    code: Code.InvalidArgument,
    message: notOne(GET_ITEM),
  },
  {
    name: "server stream, no message",
    path: SCAN,
    headers: {},
    body: new Uint8Array(),
    code: Code.InvalidArgument,
    message: notOne(SCAN),
  },
  {
    name: "grpc-timeout that does not parse",
    path: GET_ITEM,
    headers: { "grpc-timeout": "soon" },
    body: envelope(0, valid),
    code: Code.InvalidArgument,
  },
  { name: "gzip", path: GET_ITEM, headers: { "grpc-encoding": "gzip" }, body: envelope(1, gzipped), code: 0 },
];

function expectAnswer(answer: RawAnswer, c: Case) {
  expect(answer.code, `${c.name}: ${answer.message}`).toBe(c.code);
  if (c.message !== undefined) expect(answer.message).toBe(c.message);
  expect(answer.message).not.toMatch(/parse binary|decompression failed|stack|node_modules/);
}

describe("the HTTP port", () => {
  it.each(httpCases)("$name", async (c) => {
    expectAnswer(await postHttp(t.httpUrl, c.path, c.headers, c.body), c);
  });
});

describe("the gRPC port", () => {
  it.each(grpcCases)("$name", async (c) => {
    expectAnswer(await postGrpc(grpcAddress, c.path, c.headers, c.body), c);
  });
});

describe("a connection after a request refused before its body was read", () => {
  it("is not reused: the client's next call succeeds (no ECONNRESET)", async () => {
    // Default limits (4 MiB) and a body well over them; connect-node over HTTP/1.1 keeps
    // connections alive and reuses them.
    const plain = await startTransports(services, InventoryService);
    try {
      const client = createClient(
        InventoryService,
        createConnectTransport({ baseUrl: plain.httpUrl, httpVersion: "1.1" }),
      );
      for (let i = 0; i < 3; i++) {
        const refused = await client.getItem({ sku: "x".repeat(5 * 1024 * 1024) }).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(refused?.code).toBe(Code.ResourceExhausted);
        expect((await client.getItem({ sku: "a" })).item?.sku).toBe("a");
      }
    } finally {
      await plain.stop();
    }
  });
});

/**
 * Calls the gRPC port refuses before a handler runs — grpc-js's own refusals and the ones
 * grpc-client-faults.ts words as the client's fault — still get their RPC log line and
 * metric, once, as the HTTP port's refusals and the auth gate's do; a request stream
 * refused after its handler started is logged with the code the client was sent, not as
 * a cancellation. Raw HTTP/2 requests against the full server.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetItemRequestSchema } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { ImportOrdersRequestSchema } from "../../src/gen/commerce/v1/order_service_pb.js";
import { capturedLogger } from "../support/captured-logger.js";
import { HARNESS_MAX_MESSAGE_BYTES, type Harness, startHarness } from "../support/harness.js";
import { envelope, postGrpc } from "../support/raw-calls.js";

const log = capturedLogger();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ logger: log.logger });
});
afterAll(() => h.stop());

const GET_ITEM = "commerce.v1.InventoryService/GetItem";
const IMPORT = "commerce.v1.OrderService/ImportOrders";
const valid = toBinary(GetItemRequestSchema, create(GetItemRequestSchema, { sku: "refused" }));
const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** The RPC log lines of `method` that ended with `code`. */
const rpcLines = (method: string, code: string) =>
  log.lines.filter((l) => l["msg"] === "rpc" && l["method"] === method && l["code"] === code);

/** grpc_server_handled_total for GetItem with `code` (connect's name: "InvalidArgument"). */
async function handled(method: string, code: string): Promise<number> {
  const [service, name] = method.split("/");
  const text = await h.metrics.registry.metrics();
  const line = text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("grpc_server_handled_total{") &&
        l.includes(`grpc_service="${service}",grpc_method="${name}",grpc_code="${code}"`),
    );
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

const cases: {
  name: string;
  headers?: Record<string, string>;
  body: Uint8Array;
  code: number;
  label: string;
  metric: string;
}[] = [
  {
    name: "a message over the receive limit",
    body: envelope(0, new Uint8Array(HARNESS_MAX_MESSAGE_BYTES + 1)),
    code: 8,
    label: "RESOURCE_EXHAUSTED",
    metric: "ResourceExhausted",
  },
  {
    name: "a compressed message that does not decompress",
    headers: { "grpc-encoding": "gzip" },
    body: envelope(1, new Uint8Array([1, 2, 3, 4])),
    code: 3,
    label: "INVALID_ARGUMENT",
    metric: "InvalidArgument",
  },
  {
    name: "two messages for a unary call",
    body: concat(envelope(0, valid), envelope(0, valid)),
    code: 3,
    label: "INVALID_ARGUMENT",
    metric: "InvalidArgument",
  },
  {
    name: "a body that ends inside a message",
    body: envelope(0, valid, valid.length + 10),
    code: 3,
    label: "INVALID_ARGUMENT",
    metric: "InvalidArgument",
  },
];

describe("gRPC calls refused before a handler runs", () => {
  for (const c of cases) {
    it(`${c.name}: refused, with one log line and one count`, async () => {
      const linesBefore = rpcLines(GET_ITEM, c.label).length;
      const countBefore = await handled(GET_ITEM, c.metric);
      const answer = await postGrpc(h.grpcAddress, `/${GET_ITEM}`, c.headers ?? {}, c.body);
      expect(answer.code).toBe(c.code);
      await expect.poll(() => rpcLines(GET_ITEM, c.label).length).toBe(linesBefore + 1);
      expect(await handled(GET_ITEM, c.metric)).toBe(countBefore + 1);
    });
  }

  it("a request stream cut short: its handler had started; the call is logged once, as the client was answered", async () => {
    const message = toBinary(ImportOrdersRequestSchema, create(ImportOrdersRequestSchema, {}));
    const refused = () => rpcLines(IMPORT, "INVALID_ARGUMENT").length;
    const cancelled = () => rpcLines(IMPORT, "CANCELLED").length;
    const [refusedBefore, cancelledBefore] = [refused(), cancelled()];
    const countBefore = await handled(IMPORT, "InvalidArgument");
    const answer = await postGrpc(h.grpcAddress, `/${IMPORT}`, {}, envelope(0, message, message.length + 10));
    expect(answer.code).toBe(3);
    await expect.poll(refused).toBe(refusedBefore + 1);
    expect(cancelled()).toBe(cancelledBefore);
    expect(await handled(IMPORT, "InvalidArgument")).toBe(countBefore + 1);
  });
});

/**
 * Hostile input against the real server (both ports, DynamoDB Local, its own table
 * prefix), for every RPC of the three commerce services — enumerated from the generated
 * descriptors, so a new RPC or field is fuzzed without touching this file:
 * - random field values (test/support/hostile-messages.ts) through real clients over
 *   every wire: grpc-js, Connect JSON, Connect binary, gRPC-Web; client streams as random
 *   streams;
 * - mutated valid encodings and random bytes as the messages, raw: through a grpc-js
 *   client that passes bytes through, and framed by hand on the HTTP port (Connect unary
 *   or streaming, gRPC-Web);
 * - the same set of unreadable bodies for every method on both ports (garbage, compressed
 *   garbage, compressed flag without encoding, cut-short envelopes, length prefixes and
 *   bodies over the size limit); test/transport/unreadable-requests.test.ts pins their
 *   exact answers.
 * Every answer must be a status the API defines for a refusal — never INTERNAL, UNKNOWN,
 * UNAVAILABLE — whose message leaks nothing; a refusal the service decided carries its
 * ErrorInfo (and BadRequest for invalid fields); and a refused request wrote nothing: the
 * item count of every table is compared around each batch of requests that were all
 * refused (a batch where one was accepted is replayed without it). Afterwards health says
 * SERVING and a known-good call succeeds on both ports.
 *
 * Sizes: HOSTILE_RUNS (default 12) runs of each property for each method, about a minute
 * and a half for the file on a 2-core machine; HOSTILE_RUNS=60 fuzzes for a few minutes.
 * A failure prints fast-check's seed; replay the same inputs with
 *   FC_SEED=<seed> npx vitest run test/integration/hostile-input.int.test.ts -t "<Service/Method>"
 * (the tables may hold what earlier tests of the run wrote, so a stateful failure can need
 * the whole file).
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { create, type DescMethod, type DescService, toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.js";
import { grpcUnary } from "../support/grpc-unary.js";
import { HARNESS_MAX_MESSAGE_BYTES, useHarness } from "../support/harness.js";
import { type Answer, callWithMessages, grpcRawCall, httpRawCall } from "../support/hostile-calls.js";
import { encodeInit, hostileMessage, type MessageInit, mutatedBytes, type Pools } from "../support/hostile-messages.js";
import { envelope, postGrpc, postHttp } from "../support/raw-calls.js";
import { connectClient, type RpcClient } from "../support/rpc-client.js";
import { countItems, type TableCounts } from "../support/table-counts.js";

const h = useHarness({ tablePrefix: `hostile_${process.pid}_${randomBytes(3).toString("hex")}_` });
const RUNS = Number(process.env["HOSTILE_RUNS"] ?? 12);
const SEED = process.env["FC_SEED"] === undefined ? undefined : Number(process.env["FC_SEED"]);
const fcOptions = (numRuns: number) => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });

const SERVICES: DescService[] = [InventoryService, OrderService, AccountService];
const METHODS: DescMethod[] = SERVICES.flatMap((s) => s.methods);

type Wire = "grpc" | "connect" | "connect-binary" | "grpc-web";
let clients: Record<Wire, RpcClient>;
let rawGrpc: grpc.Client;
let pools: Pools;

// ---------------------------------------------------------------------------------------
// Data for the pools: ids that exist and page tokens the server issued

beforeAll(async () => {
  const { grpc: g, connect, httpUrl, grpcAddress } = h();
  clients = {
    grpc: g,
    connect,
    "connect-binary": connectClient(httpUrl, { protocol: "connect-binary" }),
    "grpc-web": connectClient(httpUrl, { protocol: "grpc-web" }),
  };
  rawGrpc = new grpc.Client(grpcAddress, grpc.credentials.createInsecure());
  const I = InventoryService.method;
  const A = AccountService.method;
  const O = OrderService.method;
  const price = { currencyCode: "EUR", units: 10n, nanos: 0 };
  for (const [sku, quantity] of [
    ["FZ-1", 1_000_000n],
    ["FZ-2", 5n],
  ] as const) {
    await g.unary(I.createItem, { item: { sku, name: `fuzz ${sku}`, unitPrice: price, quantity } });
  }
  await g.unary(A.openAccount, { accountId: "fz-a", owner: "A", currencyCode: "EUR", initialBalance: price });
  await g.unary(A.openAccount, { accountId: "fz-b", owner: "B", currencyCode: "EUR" });
  await g.unary(A.openAccount, { accountId: "fz-u", owner: "U", currencyCode: "USD" });
  const transferIds: string[] = [];
  for (const requestId of ["fz-seed-1", "fz-seed-2"]) {
    const { transfer } = await g.unary(A.transfer, {
      fromAccountId: "fz-a",
      toAccountId: "fz-b",
      amount: { currencyCode: "EUR", units: 1n },
      requestId,
    });
    transferIds.push(transfer!.transferId);
  }
  const orderIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { order } = await g.unary(O.createOrder, {
      customerId: "fz-c",
      lines: [{ sku: "FZ-1", quantity: 1n }],
      shippingAddress: { street: "1 Main St", city: "Ghent", countryCode: "BE" },
    });
    orderIds.push(order!.orderId);
  }
  const pageTokens = [
    (await g.unary(I.listItems, { pageSize: 1 })).nextPageToken,
    (await g.unary(A.listTransfers, { accountId: "fz-a", pageSize: 1 })).nextPageToken,
    (await g.unary(O.listOrders, { customerId: "fz-c", pageSize: 1 })).nextPageToken,
  ];
  expect(pageTokens.every((t) => t !== "")).toBe(true);
  pools = {
    skus: ["FZ-1", "FZ-2", "FZ-none"],
    accountIds: ["fz-a", "fz-b", "fz-u", "fz-none"],
    customerIds: ["fz-c", "fz-none"],
    orderIds: [...orderIds, "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV"],
    transferIds,
    pageTokens,
  };
});

afterAll(() => {
  rawGrpc?.close();
  clients?.["connect-binary"].close();
  clients?.["grpc-web"].close();
});

// ---------------------------------------------------------------------------------------
// What every answer must be

/** Codes the API gives a refused request (API.md, Errors; RESOURCE_EXHAUSTED for a message over the limit). */
const REFUSALS = new Set<number>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.Aborted,
  Code.OutOfRange,
  Code.ResourceExhausted,
]);
/** What a message must never show: parser or SDK wording, stack frames, paths. */
const LEAK =
  /parse binary|decompression failed|Exception|DynamoDB|dynamodb|node_modules|\bat .+:\d+:\d+|TypeError|undefined/;

const codeName = (code: number) => (code === 0 ? "OK" : (Code[code] ?? `HTTP ${-code}`));

interface Sent {
  /** Method, wire and inputs, for the failure message. */
  what: string;
  send(): Promise<Answer>;
  /** RESOURCE_EXHAUSTED is expected only when the request is over the message limit. */
  overLimit: boolean;
  /** A refusal the service itself decided must carry ErrorInfo (raw garbage is refused by the transport). */
  detailsExpected: boolean;
}

function judge(sent: Sent, a: Answer): void {
  const where = `${sent.what} → ${codeName(a.code)}: ${a.message.slice(0, 300)}`;
  if (a.code === 0) return;
  expect(REFUSALS.has(a.code), where).toBe(true);
  if (a.code === Code.ResourceExhausted) expect(sent.overLimit, where).toBe(true);
  expect(a.message, where).not.toMatch(LEAK);
  // A transport refuses what it cannot read or carry (INVALID_ARGUMENT, RESOURCE_EXHAUSTED)
  // before any handler, with a message only; every other refusal is the service's own.
  const byTransport =
    a.errorInfo === undefined && (a.code === Code.InvalidArgument || a.code === Code.ResourceExhausted);
  if (!byTransport && (a.errorInfo !== undefined || sent.detailsExpected)) {
    expect(a.errorInfo?.domain, where).toBe("commerce.v1");
    expect(a.errorInfo?.reason, where).toMatch(/^[A-Z_]+$/);
  }
  if (a.errorInfo?.reason === "INVALID_FIELD" && a.badRequest !== undefined) {
    expect(a.badRequest.fieldViolations.length, where).toBeGreaterThan(0);
    for (const v of a.badRequest.fieldViolations) {
      expect(v.field, where).not.toBe("");
      expect(v.description, where).not.toBe("");
    }
  }
}

/**
 * Whether a refused request may still have written: a client stream refused after some
 * of its messages were written says so in ErrorInfo metadata `written` (API.md,
 * ImportOrders); anything else refused writes nothing.
 */
function mayHaveWritten(a: Answer): boolean {
  return a.code === 0 || (a.errorInfo?.metadata["written"] ?? "0") !== "0";
}

// ---------------------------------------------------------------------------------------
// Batches, and the count check around the refused ones

const tally = { refused: 0, countChecked: 0, byCode: new Map<string, number>() };

async function counts(): Promise<TableCounts> {
  return countItems(h().store.raw, h().tables);
}

async function sendAll(batch: Sent[]): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const sent of batch) {
    const answer = await sent.send();
    judge(sent, answer);
    answers.push(answer);
    const name = codeName(answer.code);
    tally.byCode.set(name, (tally.byCode.get(name) ?? 0) + 1);
  }
  return answers;
}

/**
 * Sends the batch in order, judging each answer. If every request was refused, the
 * tables must hold what they held before. If some were accepted (they may write), the
 * refused ones are sent again on their own and, if all are refused again, checked so.
 */
async function sendChecked(batch: Sent[]): Promise<void> {
  const before = await counts();
  const answers = await sendAll(batch);
  const refused = batch.filter((_, i) => !mayHaveWritten(answers[i]!));
  tally.refused += refused.length;
  if (refused.length === 0) return;
  if (refused.length === batch.length) {
    expect(await counts(), `refused, yet the tables changed: ${batch.map((s) => s.what).join(" | ")}`).toEqual(before);
    tally.countChecked += refused.length;
    return;
  }
  const again = await counts();
  const replayed = await sendAll(refused);
  if (replayed.some(mayHaveWritten)) return; // accepted now (what it needed was created meanwhile)
  expect(await counts(), `refused, yet the tables changed: ${refused.map((s) => s.what).join(" | ")}`).toEqual(again);
  tally.countChecked += refused.length;
}

// ---------------------------------------------------------------------------------------
// Requests

const label = (m: DescMethod) => `${m.parent.name}/${m.name}`;
const takesStream = (m: DescMethod) => m.methodKind === "client_streaming";

/** Size of the request as the wire encodes it (JSON for Connect JSON, else binary). */
function encodedSizes(method: DescMethod, messages: MessageInit[], json: boolean): number[] {
  return messages.map((m) =>
    json
      ? Buffer.byteLength(toJsonString(method.input, create(method.input, m as never)))
      : encodeInit(method.input, m).length,
  );
}

/** Connect JSON cannot carry every message (a FieldMask path with capitals, say): those go as binary. */
function jsonEncodable(method: DescMethod, messages: MessageInit[]): boolean {
  try {
    encodedSizes(method, messages, true);
    return true;
  } catch {
    return false;
  }
}

function wellFormed(method: DescMethod, wire: Wire, messages: MessageInit[]): Sent {
  const used: Wire = wire === "connect" && !jsonEncodable(method, messages) ? "connect-binary" : wire;
  const sizes = encodedSizes(method, messages, used === "connect");
  return {
    what: `${label(method)} over ${used}: ${describeMessages(messages)}`,
    send: () => callWithMessages(clients[used], method, messages),
    overLimit: sizes.some((s) => s > HARNESS_MAX_MESSAGE_BYTES - 1024),
    detailsExpected: true,
  };
}

type RawPort = "grpc" | "connect" | "grpc-web";

function raw(method: DescMethod, port: RawPort, messages: Uint8Array[]): Sent {
  return {
    what: `${label(method)} raw over ${port}: [${messages.map((m) => Buffer.from(m.subarray(0, 40)).toString("hex")).join(", ")}]`,
    send: () =>
      port === "grpc" ? grpcRawCall(rawGrpc, method, messages) : httpRawCall(h().httpUrl, port, method, messages),
    overLimit: messages.some((m) => m.length > HARNESS_MAX_MESSAGE_BYTES - 1024),
    detailsExpected: false,
  };
}

function describeMessages(messages: MessageInit[]): string {
  const text = JSON.stringify(messages, (_, v: unknown) =>
    typeof v === "bigint" ? `${v}n` : typeof v === "string" && v.length > 80 ? `<${v.length} chars>` : v,
  );
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

const messagesOf = (method: DescMethod, one: fc.Arbitrary<MessageInit>) =>
  takesStream(method) ? fc.array(one, { maxLength: 4 }) : one.map((m) => [m]);
const bytesOf = (method: DescMethod, one: fc.Arbitrary<Uint8Array>) =>
  takesStream(method) ? fc.array(one, { maxLength: 3 }) : one.map((b) => [b]);

// ---------------------------------------------------------------------------------------
// The properties, per method

describe.each(METHODS.map((m) => [label(m), m] as const))("%s", (_, method) => {
  it("random field values over every wire: a defined refusal, nothing written", async () => {
    const request = fc
      .tuple(
        fc.constantFrom<Wire>("grpc", "connect", "connect-binary", "grpc-web"),
        messagesOf(method, hostileMessage(method.input, pools)),
      )
      .map(([wire, messages]) => wellFormed(method, wire, messages));
    await fc.assert(fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 3 }), sendChecked), fcOptions(RUNS));
  });

  it("mutated encodings and random bytes, raw on both ports: a defined refusal, nothing written", async () => {
    const bytes = fc.oneof(mutatedBytes(method.input, pools), fc.uint8Array({ maxLength: 200 }));
    const request = fc
      .tuple(fc.constantFrom<RawPort>("grpc", "connect", "grpc-web"), bytesOf(method, bytes))
      .map(([port, messages]) => raw(method, port, messages));
    await fc.assert(fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 3 }), sendChecked), fcOptions(RUNS));
  });
});

// ---------------------------------------------------------------------------------------
// Unreadable bodies, every method, both ports

describe("unreadable bodies for every method", () => {
  const garbage = new Uint8Array([0x0a, 0x05, 0x61]);
  const cutGzip = gzipSync(new Uint8Array(64)).subarray(0, 10);
  const bomb = gzipSync(new Uint8Array(HARNESS_MAX_MESSAGE_BYTES + 1024));
  const bodies: Array<[string, Record<string, string>, Uint8Array]> = [
    ["garbage", {}, envelope(0, garbage)],
    ["gzip garbage", { "grpc-encoding": "gzip" }, envelope(1, new Uint8Array([1, 2, 3, 4]))],
    ["gzip cut short", { "grpc-encoding": "gzip" }, envelope(1, cutGzip)],
    ["gzip of garbage", { "grpc-encoding": "gzip" }, envelope(1, gzipSync(garbage))],
    ["gzip bomb", { "grpc-encoding": "gzip" }, envelope(1, bomb)],
    ["compressed flag, no encoding", {}, envelope(1, garbage)],
    ["envelope cut short", {}, envelope(0, garbage).subarray(0, 6)],
    ["length prefix over the limit", {}, envelope(0, garbage, 0xffffffff)],
    ["over the limit", {}, envelope(0, new Uint8Array(HARNESS_MAX_MESSAGE_BYTES + 1))],
  ];

  /** The same body as Connect frames it: a unary call's one message bare (content-encoding), streams enveloped. */
  function asConnect(
    method: DescMethod,
    headers: Record<string, string>,
    body: Uint8Array,
  ): [Record<string, string>, Uint8Array] {
    const gzip = headers["grpc-encoding"] === "gzip";
    if (method.methodKind === "unary") {
      return [
        { "content-type": "application/proto", ...(gzip ? { "content-encoding": "gzip" } : {}) },
        body.subarray(5),
      ];
    }
    return [
      { "content-type": "application/connect+proto", ...(gzip ? { "connect-content-encoding": "gzip" } : {}) },
      body,
    ];
  }

  it.each(METHODS.map((m) => [label(m), m] as const))("%s", async (_, method) => {
    const path = `/${method.parent.typeName}/${method.name}`;
    const before = await counts();
    const sends: Array<[string, () => Promise<{ code: number | undefined; message: string }>]> = [];
    for (const [name, headers, body] of bodies) {
      sends.push([`gRPC ${name}`, () => postGrpc(h().grpcAddress, path, headers, body)]);
      sends.push([
        `gRPC-Web ${name}`,
        () => postHttp(h().httpUrl, path, { "content-type": "application/grpc-web+proto", ...headers }, body),
      ]);
      const [connectHeaders, connectBody] = asConnect(method, headers, body);
      sends.push([`Connect ${name}`, () => postHttp(h().httpUrl, path, connectHeaders, connectBody)]);
    }
    for (const [name, send] of sends) {
      const a = await send();
      const where = `${label(method)} ${name} → ${a.code === undefined ? "no status" : codeName(a.code)}: ${a.message}`;
      expect(a.code === Code.InvalidArgument || a.code === Code.ResourceExhausted, where).toBe(true);
      expect(a.message, where).not.toMatch(LEAK);
    }
    expect(await counts()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------
// A client stream refused part-way

describe("ImportOrders refused after a message was written", () => {
  const importing = OrderService.method.importOrders;
  const validMessage = () =>
    encodeInit(importing.input, {
      orders: [
        {
          customerId: "fz-import",
          orderId: `ORD-${ulid()}`,
          lines: [{ sku: "FZ-1", quantity: 2n, unitPrice: { currencyCode: "EUR", units: 10n } }],
          total: { currencyCode: "EUR", units: 20n },
          status: OrderStatus.PENDING,
        },
      ],
    });
  const unreadable = new Uint8Array([0x0a, 0x05, 0x61]); // field 1 claims 5 bytes, 1 follows

  it.each(["grpc", "connect", "grpc-web"] as const)(
    "over %s: the error says how many orders were written",
    async (port) => {
      const before = await counts();
      const sent = raw(importing, port, [validMessage(), unreadable]);
      const answer = await sent.send();
      judge(sent, answer);
      expect(answer.code).toBe(Code.InvalidArgument);
      expect(answer.errorInfo?.reason).toBe("INVALID_FIELD");
      expect(answer.errorInfo?.metadata["written"]).toBe("1");
      expect(await counts()).toEqual({ ...before, orders: before.orders + 1 });
    },
  );
});

// ---------------------------------------------------------------------------------------
// Afterwards

describe("afterwards", () => {
  it("checked the tables around nearly every refused request", () => {
    expect(tally.refused).toBeGreaterThan(0);
    expect(tally.countChecked / tally.refused).toBeGreaterThan(0.9);
    // What the fuzzing reached, for whoever tunes it: answers by code.
    console.info(`hostile-input answers: ${JSON.stringify(Object.fromEntries(tally.byCode))}`);
  });

  it("is still up: health SERVING, a known-good call answers on both ports", async () => {
    const health = await grpcUnary({ address: h().grpcAddress }, Health.method.check, { service: "" });
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const price = { currencyCode: "EUR", units: 1n };
    await h().grpc.unary(InventoryService.method.createItem, {
      item: { sku: "FZ-after", name: "after", unitPrice: price },
    });
    for (const client of h().clients) {
      const { item } = await client.unary(InventoryService.method.getItem, { sku: "FZ-after" });
      expect(item?.sku, client.name).toBe("FZ-after");
    }
  });
});

/**
 * The request limits of README "Limits", in memory (STYLE.md's handler tier): every
 * service's handlers, wrapped as the server wraps them, behind connect's router
 * transport, over fake stores that record any call. A request over a limit is
 * INVALID_ARGUMENT / INVALID_FIELD naming the field and the rule, before any store call;
 * and a list far over its cap gets one violation for its count, not one per element
 * (20,000 bad skus must not make a 20,000-entry error).
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, createClient, createRouterTransport } from "@connectrpc/connect";
import { beforeEach, describe, expect, it } from "vitest";
import type { Order } from "../../src/domain/orders.js";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { createAccountService } from "../../src/handlers/account-service.js";
import { createInventoryService } from "../../src/handlers/inventory-service.js";
import { MAX_IMPORT_MESSAGES } from "../../src/handlers/order-bulk-service.js";
import { createOrderService } from "../../src/handlers/order-service.js";
import { MAX_MASK_PATHS } from "../../src/handlers/validate.js";
import { wrapService } from "../../src/middleware/wrap-service.js";
import type { OrderBulkStore } from "../../src/store/order-bulk-store.js";

const storeCalls: string[] = [];
/** A store whose every method records its name and fails: validation must stop the request first. */
function refusingStore<T>(): T {
  return new Proxy(
    {},
    {
      get: (_, name) => () => {
        storeCalls.push(String(name));
        throw new Error(`store.${String(name)} called`);
      },
    },
  ) as T;
}

/** ImportOrders' store reads every batch it is given (as the real one writes them), and counts. */
const importingStore = {
  async importOrders(batches: AsyncIterable<readonly Order[]>) {
    let written = 0;
    for await (const batch of batches) written += batch.length;
    return written;
  },
} as OrderBulkStore;

const transport = createRouterTransport((router: ConnectRouter) => {
  const mount = <S extends DescService>(service: S, impl: object) =>
    router.service(service, wrapService(service, impl as never, []) as never);
  mount(InventoryService, createInventoryService(refusingStore()));
  mount(AccountService, createAccountService(refusingStore()));
  mount(OrderService, createOrderService(refusingStore(), importingStore));
});
const inventory = createClient(InventoryService, transport);
const accounts = createClient(AccountService, transport);
const orders = createClient(OrderService, transport);

async function refusal(call: () => Promise<unknown>): Promise<Array<{ field: string; description: string }>> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );
  expect(err?.code).toBe(Code.InvalidArgument);
  expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("INVALID_FIELD");
  return (err?.findDetails(BadRequestSchema)[0]?.fieldViolations ?? []).map(({ field, description }) => ({
    field,
    description,
  }));
}

/** A client stream of these messages. */
async function* stream<T>(messages: T[]) {
  yield* messages;
}

const many = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);
const ORDER_ID = "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV";

beforeEach(() => {
  storeCalls.length = 0;
});

describe("a list far over its cap: one violation for its count", () => {
  const cases: Array<[string, () => Promise<unknown>, string, string]> = [
    ["BatchGetItems skus", () => inventory.batchGetItems({ skus: many(20_000, "") }), "skus", "at most 100"],
    [
      "GetBalances account_ids",
      () => accounts.getBalances({ accountIds: many(20_000, "") }),
      "account_ids",
      "at most 100",
    ],
    [
      "BatchGetOrders keys",
      () => orders.batchGetOrders({ keys: many(20_000, { customerId: "", orderId: "" }) }),
      "keys",
      "at most 100",
    ],
    [
      "CreateOrder lines",
      () =>
        orders.createOrder({
          customerId: "c",
          lines: many(20_000, { sku: "", quantity: 0n }),
          shippingAddress: { street: "s", city: "c", countryCode: "BE" },
        }),
      "lines",
      "at most 50",
    ],
    [
      "PurgeOrders statuses",
      () =>
        orders.purgeOrders({
          customerId: "c",
          createdBefore: { seconds: 1n },
          statuses: many(20_000, 99 as OrderStatus),
        }),
      "statuses",
      "at most 5",
    ],
  ];
  it.each(cases)("%s", async (_, call, field, rule) => {
    const violations = await refusal(call);
    expect(violations.length).toBeLessThanOrEqual(3);
    expect(violations).toContainEqual({ field, description: expect.stringContaining(rule) });
    expect(storeCalls).toEqual([]);
  });

  it("ImportOrders: an order's lines", async () => {
    const order = { customerId: "c", orderId: ORDER_ID, lines: many(20_000, { sku: "" }) };
    const violations = await refusal(() => orders.importOrders(stream([{ orders: [order] }])));
    expect(violations.filter((v) => v.field.startsWith("orders[0].lines")).length).toBe(1);
  });
});

describe("read masks", () => {
  const paths = many(MAX_MASK_PATHS + 1, "name");
  it.each([
    ["GetItem", () => inventory.getItem({ sku: "s", readMask: { paths } })],
    ["GetOrder", () => orders.getOrder({ customerId: "c", orderId: ORDER_ID, readMask: { paths } })],
  ])(`%s: more than ${MAX_MASK_PATHS} paths`, async (_, call) => {
    expect(await refusal(call)).toEqual([
      { field: "read_mask.paths", description: `must have at most ${MAX_MASK_PATHS} entries` },
    ]);
    expect(storeCalls).toEqual([]);
  });
});

describe("text", () => {
  it.each([
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["a C1 control (NEL)", "a\u0085b"],
  ])("refuses %s in a name", async (_, name) => {
    const violations = await refusal(() => accounts.openAccount({ owner: name, currencyCode: "EUR" }));
    expect(violations).toEqual([{ field: "owner", description: "must not contain control characters" }]);
  });

  it("counts characters, not UTF-16 units: 200 emoji are a valid name, 201 are not", async () => {
    const refused = await refusal(() => accounts.openAccount({ owner: "🙂".repeat(201), currencyCode: "EUR" }));
    expect(refused).toEqual([{ field: "owner", description: "must be at most 200 characters" }]);
    await accounts.openAccount({ owner: "🙂".repeat(200), currencyCode: "EUR" }).catch(() => undefined);
    expect(storeCalls).toEqual(["openAccount"]);
  });
});

describe("request_id", () => {
  it("is at most 128 characters, counted as characters: 128 emoji pass, 129 do not", async () => {
    const adjust = (requestId: string) => inventory.adjustStock({ sku: "s", delta: 1n, requestId });
    expect(await refusal(() => adjust("🙂".repeat(129)))).toEqual([
      { field: "request_id", description: "must be at most 128 characters" },
    ]);
    await adjust("🙂".repeat(128)).catch(() => undefined);
    expect(storeCalls).toEqual(["adjustStock"]);
  });
});

describe("ImportOrders", () => {
  it(`takes at most ${MAX_IMPORT_MESSAGES} messages a stream`, async () => {
    const violations = await refusal(() => orders.importOrders(stream(many(MAX_IMPORT_MESSAGES + 1, { orders: [] }))));
    expect(violations).toEqual([{ field: "orders", description: expect.stringContaining(`${MAX_IMPORT_MESSAGES}`) }]);
    const { written } = await orders.importOrders(stream(many(MAX_IMPORT_MESSAGES, { orders: [] })));
    expect(written).toBe(0n);
  });

  it("takes at most 100 orders a message", async () => {
    const order = { customerId: "c", orderId: ORDER_ID, status: OrderStatus.PENDING };
    const violations = await refusal(() => orders.importOrders(stream([{ orders: many(101, order) }])));
    expect(violations).toEqual([{ field: "orders", description: expect.stringContaining("at most 100") }]);
  });
});

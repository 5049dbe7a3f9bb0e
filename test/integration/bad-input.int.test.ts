/**
 * Property-based bad input: random field values for every unary RPC of the built services.
 * Whatever arrives, the answer is a deliberate status — never INTERNAL or UNKNOWN — an
 * INVALID_ARGUMENT names a field, and the server keeps serving.
 */
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AccountService } from "../../src/gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { useHarness } from "../support/harness.js";
import { isRpcFailure } from "../support/rpc-client.js";

const h = useHarness();

const text = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom("", "SKU-1", "a b", "x".repeat(70), "\u0000", "ünï", "../etc", "#name"),
);
const int64 = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, 1n, -1n));
const int32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, -1, 1_000_000_000, 999_999_999),
);
// FieldMask's JSON form can only carry lower_snake_case paths (clients refuse others).
const maskPath = fc.oneof(
  fc.stringMatching(/^[a-z]+(_[a-z]+)*$/),
  fc.constantFrom("name", "unit_price", "sku", "quantity"),
);
const money = fc.option(
  fc.record({ currencyCode: fc.oneof(text, fc.constantFrom("EUR", "USD")), units: int64, nanos: int32 }),
  { nil: undefined },
);

const requests = fc.oneof(
  fc.record({
    m: fc.constant(InventoryService.method.createItem),
    r: fc.record({
      item: fc.option(fc.record({ sku: text, name: text, unitPrice: money, quantity: int64 }), { nil: undefined }),
    }),
  }),
  fc.record({
    m: fc.constant(InventoryService.method.getItem),
    r: fc.record({
      sku: text,
      readMask: fc.option(fc.record({ paths: fc.array(maskPath, { maxLength: 3 }) }), { nil: undefined }),
    }),
  }),
  fc.record({
    m: fc.constant(InventoryService.method.adjustStock),
    r: fc.record({ sku: text, delta: int64, expectedVersion: int64, requestId: text }),
  }),
  fc.record({
    m: fc.constant(InventoryService.method.updatePrice),
    r: fc.record({ sku: text, unitPrice: money, expectedVersion: int64 }),
  }),
  fc.record({
    m: fc.constant(InventoryService.method.batchGetItems),
    r: fc.record({ skus: fc.array(text, { maxLength: 120 }) }),
  }),
  fc.record({ m: fc.constant(InventoryService.method.listItems), r: fc.record({ pageSize: int32, pageToken: text }) }),
  fc.record({
    m: fc.constant(AccountService.method.openAccount),
    r: fc.record({ accountId: text, owner: text, currencyCode: text, initialBalance: money, requestId: text }),
  }),
  fc.record({
    m: fc.constant(AccountService.method.deposit),
    r: fc.record({ accountId: text, amount: money, requestId: text }),
  }),
  fc.record({
    m: fc.constant(AccountService.method.withdraw),
    r: fc.record({ accountId: text, amount: money, requestId: text }),
  }),
  fc.record({
    m: fc.constant(AccountService.method.transfer),
    r: fc.record({ fromAccountId: text, toAccountId: text, amount: money, requestId: text }),
  }),
  fc.record({
    m: fc.constant(AccountService.method.listTransfers),
    r: fc.record({ accountId: text, pageSize: int32, pageToken: text, newestFirst: fc.boolean() }),
  }),
  fc.record({
    m: fc.constant(AccountService.method.getBalances),
    r: fc.record({ accountIds: fc.array(text, { maxLength: 110 }) }),
  }),
  fc.record({ m: fc.constant(AccountService.method.auditBalances), r: fc.record({ totalSegments: int32 }) }),
);

const DELIBERATE = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.Aborted,
]);

describe("random input", () => {
  it("never gets INTERNAL, and INVALID_ARGUMENT always names a field", async () => {
    await fc.assert(
      fc.asyncProperty(requests, fc.boolean(), async ({ m, r }, overGrpc) => {
        const client = overGrpc ? h().grpc : h().connect;
        try {
          await client.unary(m as never, r as never);
        } catch (e) {
          if (!isRpcFailure(e)) throw e;
          expect(DELIBERATE.has(e.code), `${m.name} ${Code[e.code]}: ${e.message}`).toBe(true);
          expect(e.errorInfo?.domain).toBe("commerce.v1");
          if (e.code === Code.InvalidArgument && e.errorInfo?.reason === "INVALID_FIELD") {
            expect(e.badRequest?.fieldViolations.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 300, seed: 7 },
    );
    // Still serving.
    const res = await h().grpc.unary(InventoryService.method.listItems, { pageSize: 1 });
    expect(res).toBeDefined();
  });
});

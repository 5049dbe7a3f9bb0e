import { Code, ConnectError, createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import { type CallObserver, wrapService } from "../../src/middleware/wrap-service.js";

function recorder() {
  const seen: Array<{ method: string; code: string; requestId: string | undefined }> = [];
  const observer: CallObserver =
    ({ method, requestId }) =>
    (error) =>
      seen.push({ method: method.name, code: error ? Code[error.code] : "OK", requestId });
  return { seen, observer };
}

const ctx = (method: (typeof InventoryService.methods)[number] | (typeof OrderService.methods)[number]) =>
  createHandlerContext({ service: method.parent, method, protocolName: "test", requestMethod: "POST", url: "/" });

describe("wrapService", () => {
  it("maps every throw once and reports one outcome per call, unimplemented methods included", async () => {
    const { seen, observer } = recorder();
    const inventory = wrapService(
      InventoryService,
      {
        async adjustStock() {
          throw new DomainError("OUT_OF_STOCK", "none left", { metadata: { sku: "a" } });
        },
        async getItem() {
          throw new Error("db password is hunter2");
        },
      } as Partial<ServiceImpl<typeof InventoryService>>,
      [observer],
    );
    const adjust = InventoryService.method.adjustStock;
    const e1 = await (inventory.adjustStock as (r: unknown, c: unknown) => Promise<unknown>)(
      { requestId: "r1" },
      ctx(adjust),
    ).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectError);
    expect((e1 as ConnectError).code).toBe(Code.FailedPrecondition);
    const e2 = await (inventory.getItem as (r: unknown, c: unknown) => Promise<unknown>)(
      {},
      ctx(InventoryService.method.getItem),
    ).catch((e: unknown) => e);
    expect((e2 as ConnectError).code).toBe(Code.Internal);
    expect((e2 as ConnectError).message).not.toContain("hunter2");

    const orders = wrapService(OrderService, {}, [observer]);
    const e3 = await (orders.getOrder as (r: unknown, c: unknown) => Promise<unknown>)(
      {},
      ctx(OrderService.method.getOrder),
    ).catch((e: unknown) => e);
    expect((e3 as ConnectError).code).toBe(Code.Unimplemented);
    const stream = (orders.scanOrders as (r: unknown, c: unknown) => AsyncIterable<unknown>)(
      {},
      ctx(OrderService.method.scanOrders),
    );
    const e4 = await (async () => {
      for await (const _ of stream) void _;
    })().catch((e: unknown) => e);
    expect((e4 as ConnectError).code).toBe(Code.Unimplemented);
    expect(seen).toEqual([
      { method: "AdjustStock", code: "FailedPrecondition", requestId: "r1" },
      { method: "GetItem", code: "Internal", requestId: undefined },
      { method: "GetOrder", code: "Unimplemented", requestId: undefined },
      { method: "ScanOrders", code: "Unimplemented", requestId: undefined },
    ]);
  });
});

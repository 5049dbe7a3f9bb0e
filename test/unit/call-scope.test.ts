import { AsyncLocalStorage } from "node:async_hooks";
import { createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../../src/gen/commerce/v1/order_service_pb.js";
import type { CallEnd } from "../../src/middleware/call-scope.js";
import { type CallObserver, wrapService } from "../../src/middleware/wrap-service.js";

type AnyMethod = (typeof InventoryService.methods)[number] | (typeof OrderService.methods)[number];
const ctxOf = (method: AnyMethod) =>
  createHandlerContext({ service: method.parent, method, protocolName: "test", requestMethod: "POST", url: "/" });
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** An observer whose hooks record what they see: the store is "in call" inside its `run`. */
function watcher() {
  const storage = new AsyncLocalStorage<string>();
  const seen = { received: 0, sent: 0, ends: [] as string[] };
  const observer: CallObserver = ({ method }) => {
    const end: CallEnd = (error) => seen.ends.push(`${method.name}:${error ? "error" : "ok"}`);
    end.run = (fn) => storage.run("in call", fn);
    end.received = () => seen.received++;
    end.sent = () => seen.sent++;
    return end;
  };
  return { storage, seen, observer };
}

describe("call hooks", () => {
  it("run the handler, and every step of its response stream, inside the observer's run", async () => {
    const { storage, observer } = watcher();
    const stores: Array<string | undefined> = [];
    const inventory = wrapService(
      InventoryService,
      {
        async getItem() {
          await tick();
          stores.push(storage.getStore());
          return {};
        },
        async *scanItems() {
          for (let i = 0; i < 3; i++) {
            await tick();
            stores.push(storage.getStore());
            yield { items: [] };
          }
        },
      } as Partial<ServiceImpl<typeof InventoryService>>,
      [observer],
    ) as unknown as Record<string, (r: unknown, c: unknown) => unknown>;
    await inventory["getItem"]!({}, ctxOf(InventoryService.method.getItem));
    // Pulled from outside any context, as a transport does.
    for await (const _ of inventory["scanItems"]!(
      {},
      ctxOf(InventoryService.method.scanItems),
    ) as AsyncIterable<unknown>)
      void _;
    expect(stores).toEqual(["in call", "in call", "in call", "in call"]);
    expect(storage.getStore()).toBeUndefined();
  });

  it("tell every message: single ones at start and on success, streamed ones as they pass", async () => {
    const { seen, observer } = watcher();
    const orders = wrapService(
      OrderService,
      {
        async importOrders(requests: AsyncIterable<unknown>) {
          for await (const _ of requests) void _;
          return {};
        },
      } as unknown as Partial<ServiceImpl<typeof OrderService>>,
      [observer],
    ) as unknown as Record<string, (r: unknown, c: unknown) => Promise<unknown>>;
    async function* four() {
      for (let i = 0; i < 4; i++) yield {};
    }
    await orders["importOrders"]!(four(), ctxOf(OrderService.method.importOrders));
    expect(seen).toEqual({ received: 4, sent: 1, ends: ["ImportOrders:ok"] });
    // A failed unary call received its request and sent nothing.
    await orders["getOrder"]!({}, ctxOf(OrderService.method.getOrder)).catch(() => undefined);
    expect(seen).toEqual({ received: 5, sent: 1, ends: ["ImportOrders:ok", "GetOrder:error"] });
  });

  it("let a consumer that stops early still reach the producer's finally, with one outcome", async () => {
    const { seen, observer } = watcher();
    let cleanedUp = false;
    const inventory = wrapService(
      InventoryService,
      {
        async *scanItems() {
          try {
            for (;;) yield { items: [] };
          } finally {
            cleanedUp = true;
          }
        },
      } as Partial<ServiceImpl<typeof InventoryService>>,
      [observer],
    ) as unknown as Record<string, (r: unknown, c: unknown) => AsyncIterable<unknown>>;
    for await (const _ of inventory["scanItems"]!({}, ctxOf(InventoryService.method.scanItems))) {
      if (seen.sent === 2) break;
    }
    expect(cleanedUp).toBe(true);
    expect(seen.ends).toEqual(["ScanItems:error"]);
  });
});

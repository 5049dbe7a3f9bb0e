import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { OrderService, OrderStatus } from "../../src/gen/commerce/v1/order_service_pb.js";
import { useHarness } from "../support/harness.js";
import { eur } from "../support/money.js";
import { failure } from "../support/rpc-client.js";

const I = InventoryService.method;
const O = OrderService.method;
const harness = useHarness();
const shippingAddress = { street: "1 Main St", city: "Ghent", postalCode: "9000", countryCode: "BE" };

describe("orders smoke", () => {
  it("creates, lists, confirms, cancels, deletes", async () => {
    const h = harness();
    for (const c of h.clients) {
      const sku = `smoke-${c.name}`;
      await c.unary(I.createItem, { item: { sku, name: "s", unitPrice: eur(2n, 500_000_000), quantity: 10n } });
      await c.unary(I.createItem, { item: { sku: `${sku}-b`, name: "s", unitPrice: eur(1n), quantity: 1n } });
      const created = (
        await c.unary(O.createOrder, {
          customerId: `cust-${c.name}`,
          shippingAddress,
          lines: [{ sku, quantity: 3n }],
          requestId: `r-${c.name}`,
        })
      ).order!;
      expect(created.total).toMatchObject({ currencyCode: "EUR", units: 7n, nanos: 500_000_000 });
      expect((await c.unary(I.getItem, { sku })).item!.quantity).toBe(7n);
      const again = (
        await c.unary(O.createOrder, {
          customerId: `cust-${c.name}`,
          shippingAddress,
          lines: [{ sku, quantity: 3n }],
          requestId: `r-${c.name}`,
        })
      ).order!;
      expect(again.orderId).toBe(created.orderId);
      const short = await failure(() =>
        c.unary(O.createOrder, {
          customerId: "x",
          shippingAddress,
          lines: [
            { sku, quantity: 8n },
            { sku: `${sku}-b`, quantity: 2n },
          ],
        }),
      );
      expect(short.code).toBe(Code.FailedPrecondition);
      expect(short.errorInfo?.metadata["skus"]).toBe(`${sku},${sku}-b`);
      expect(short.badRequest?.fieldViolations.map((f) => f.field)).toEqual(["lines[0].quantity", "lines[1].quantity"]);
      const key = { customerId: created.customerId, orderId: created.orderId };
      const listed = await c.unary(O.listOrders, { customerId: key.customerId });
      expect(listed.orders.map((o) => o.orderId)).toEqual([created.orderId]);
      const confirmed = (await c.unary(O.updateOrderStatus, { ...key, status: OrderStatus.CONFIRMED })).order!;
      expect(confirmed.version).toBe(2n);
      const withLine = await failure(() =>
        c.unary(O.addOrderLine, { ...key, line: { sku: `${sku}-b`, quantity: 1n } }),
      );
      expect(withLine.errorInfo?.reason).toBe("INVALID_TRANSITION");
      const byStatus = await c.unary(O.listOrdersByStatus, { status: OrderStatus.CONFIRMED });
      expect(byStatus.orders.map((o) => o.orderId)).toContain(created.orderId);
      const cancelled = await c.unary(O.cancelOrder, { ...key, reason: "changed mind" });
      expect(cancelled.refund?.amount).toMatchObject({ units: 7n, nanos: 500_000_000 });
      expect((await c.unary(I.getItem, { sku })).item!.quantity).toBe(10n);
      const twice = await c.unary(O.cancelOrder, { ...key });
      expect(twice.refund?.refundId).toBe(cancelled.refund?.refundId);
      expect((await c.unary(I.getItem, { sku })).item!.quantity).toBe(10n);
      await c.unary(O.deleteOrder, key);
      expect((await failure(() => c.unary(O.getOrder, key))).errorInfo?.reason).toBe("ORDER_NOT_FOUND");
    }
  });
});

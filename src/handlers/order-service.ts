/**
 * OrderService: validate → store → map. No transport code, no DynamoDB details. The bulk
 * RPCs (import, scan, counts, purge) live in order-bulk-service.ts.
 */
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrderService } from "../gen/commerce/v1/order_service_pb.js";
import type { OrderBulkStore } from "../store/order-bulk-store.js";
import type { OrderStore } from "../store/order-store.js";
import { createOrderBulkHandlers } from "./order-bulk-service.js";

export function createOrderService(
  _orders: OrderStore,
  bulk: OrderBulkStore,
): Partial<ServiceImpl<typeof OrderService>> {
  return {
    ...createOrderBulkHandlers(bulk),
  };
}

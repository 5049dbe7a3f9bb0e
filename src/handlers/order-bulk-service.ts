/** OrderService's bulk RPCs: ImportOrders, ScanOrders, CountOrdersByStatus, PurgeOrders. */
import type { ServiceImpl } from "@connectrpc/connect";
import type { OrderService } from "../gen/commerce/v1/order_service_pb.js";
import type { OrderBulkStore } from "../store/order-bulk-store.js";

type BulkMethods = "importOrders" | "scanOrders" | "countOrdersByStatus" | "purgeOrders";

export function createOrderBulkHandlers(
  _bulk: OrderBulkStore,
): Partial<Pick<ServiceImpl<typeof OrderService>, BulkMethods>> {
  return {};
}

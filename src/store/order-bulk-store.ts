/** Orders in bulk: import, parallel scan, counts by status, purge. */
import type { StoreClient } from "./dynamo.js";
import type { TableNames } from "./tables.js";

export interface OrderBulkStoreOptions {
  client: StoreClient;
  tables: TableNames;
  now?: () => Date;
}

export type OrderBulkStore = ReturnType<typeof createOrderBulkStore>;

export function createOrderBulkStore(_options: OrderBulkStoreOptions) {
  return {};
}

/** Orders: one order at a time (create, read, list, status, lines, cancel, delete). */

import type { StoreClient } from "./dynamo.js";
import type { Idempotency } from "./idempotency.js";
import type { PageTokenCodec } from "./page-token.js";
import type { TableNames } from "./tables.js";

export interface OrderStoreOptions {
  client: StoreClient;
  tables: TableNames;
  idempotency: Idempotency;
  pageTokens: PageTokenCodec;
  now?: () => Date;
}

export type OrderStore = ReturnType<typeof createOrderStore>;

export function createOrderStore(_options: OrderStoreOptions) {
  return {};
}

/**
 * The one inventory item the framework-overhead stage reads: the in-memory service holds it,
 * the bare servers answer it as a constant, so both sides send the same response bytes.
 */
import { create } from "@bufbuild/protobuf";
import { type GetItemResponse, GetItemResponseSchema } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { itemToProto } from "../../src/handlers/inventory-service.js";
import type { Stored } from "../../src/store/attributes.js";
import { itemFromStored, putNewItemRequest } from "../../src/store/inventory-store.js";

export const FRAMEWORK_SKU = "framework-item";

/** The item as the service stores it (what a DynamoDB GetItem would return). */
export function frameworkItemStored(): Stored {
  return putNewItemRequest(
    "Inventory",
    {
      sku: FRAMEWORK_SKU,
      name: "Framework bench item",
      unitPrice: { currencyCode: "EUR", units: 12n, nanos: 500_000_000 },
      quantity: 1_000n,
    },
    "2025-01-01T00:00:00.000Z",
  ).Item;
}

/** The GetItem answer for it, as the service would build it. */
export function frameworkItemResponse(): GetItemResponse {
  return create(GetItemResponseSchema, { item: itemToProto(itemFromStored(frameworkItemStored())) });
}

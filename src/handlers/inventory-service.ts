/**
 * InventoryService: validate → store → map. No transport code, no DynamoDB details.
 */
import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { invalidField } from "../domain/errors.js";
import type { InventoryItemView } from "../domain/inventory.js";
import { MAX_QUANTITY } from "../domain/inventory.js";
import {
  InventoryItemSchema,
  type InventoryService,
  type InventoryItem as ItemMessage,
} from "../gen/commerce/v1/inventory_service_pb.js";
import type { InventoryStore } from "../store/inventory-store.js";
import { moneyFromProto, moneyToProto, timestampToProto } from "./convert.js";
import { totalSegmentsOf, Violations } from "./validate.js";

export const MAX_BATCH_GET = 100;

export function itemToProto(item: InventoryItemView): ItemMessage {
  return create(InventoryItemSchema, {
    sku: item.sku,
    name: item.name ?? "",
    unitPrice: moneyToProto(item.unitPrice),
    quantity: item.quantity ?? 0n,
    version: item.version ?? 0n,
    createdAt: timestampToProto(item.createdAt),
    updatedAt: timestampToProto(item.updatedAt),
  });
}

export function createInventoryService(store: InventoryStore): ServiceImpl<typeof InventoryService> {
  return {
    async createItem(req, ctx: HandlerContext) {
      const item = req.item;
      if (item === undefined) throw invalidField("item", "is required");
      new Violations()
        .id("item.sku", item.sku)
        .text("item.name", item.name, 1, 200)
        .money("item.unit_price", moneyFromProto(item.unitPrice), { nonNegative: true })
        .check(
          item.quantity >= 0n && item.quantity <= MAX_QUANTITY,
          "item.quantity",
          `must be between 0 and ${MAX_QUANTITY}`,
        )
        .done();
      const created = await store.createItem(
        { sku: item.sku, name: item.name, unitPrice: moneyFromProto(item.unitPrice)!, quantity: item.quantity },
        ctx.signal,
      );
      return { item: itemToProto(created) };
    },

    async getItem(req, ctx) {
      new Violations().id("sku", req.sku).readMask("read_mask", req.readMask).done();
      return { item: itemToProto(await store.getItem(req.sku, req.readMask?.paths ?? [], ctx.signal)) };
    },

    async batchGetItems(req, ctx) {
      const v = new Violations().distinct("skus", req.skus, 1, MAX_BATCH_GET);
      v.each(req.skus, MAX_BATCH_GET, (sku, i) => v.id(`skus[${i}]`, sku)).done();
      const { items, missingSkus } = await store.batchGetItems(req.skus, ctx.signal);
      return { items: items.map(itemToProto), missingSkus };
    },

    async listItems(req, ctx) {
      const v = new Violations();
      const pageSize = v.pageSize("page_size", req.pageSize);
      v.done();
      const page = await store.listItems(pageSize, req.pageToken, ctx.signal);
      return { items: page.items.map(itemToProto), nextPageToken: page.nextPageToken };
    },

    async adjustStock(req, ctx) {
      new Violations()
        .id("sku", req.sku)
        .check(req.delta !== 0n, "delta", "must not be zero")
        .check(
          req.delta <= MAX_QUANTITY && req.delta >= -MAX_QUANTITY,
          "delta",
          `must be at most ${MAX_QUANTITY} in absolute value`,
        )
        .expectedVersion("expected_version", req.expectedVersion)
        .requestId("request_id", req.requestId, false)
        .done();
      const item = await store.adjustStock(
        { sku: req.sku, delta: req.delta, expectedVersion: req.expectedVersion, requestId: req.requestId },
        ctx.signal,
      );
      return { item: itemToProto(item) };
    },

    async updatePrice(req, ctx) {
      const price = moneyFromProto(req.unitPrice);
      new Violations()
        .id("sku", req.sku)
        .money("unit_price", price, { nonNegative: true })
        .expectedVersion("expected_version", req.expectedVersion)
        .done();
      return { item: itemToProto(await store.updatePrice(req.sku, price!, req.expectedVersion, ctx.signal)) };
    },

    async deleteItem(req, ctx) {
      new Violations().id("sku", req.sku).expectedVersion("expected_version", req.expectedVersion).done();
      return { item: itemToProto(await store.deleteItem(req.sku, req.expectedVersion, ctx.signal)) };
    },

    async *scanItems(req, ctx) {
      const segments = totalSegmentsOf(req.totalSegments);
      for await (const items of store.scanItems(segments, ctx.signal)) {
        yield { items: items.map(itemToProto) };
      }
    },
  };
}

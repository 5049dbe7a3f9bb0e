import { describe, expect, it } from "vitest";
import { createStoreClient, pingRequest } from "../../src/store/dynamo.js";
import { keyAttributesOf, tableNames } from "../../src/store/tables.js";

describe("ping", () => {
  const names = tableNames("t1_");

  it("reads the key attributes of the table it probes", () => {
    expect(pingRequest(names.orders).Key).toEqual({ customer_id: "__health_probe__", order_id: "__health_probe__" });
    expect(pingRequest(names.inventory).Key).toEqual({ sku: "__health_probe__" });
    expect(pingRequest(names.idempotencyKeys).Key).toEqual({ request_id: "__health_probe__" });
    expect(keyAttributesOf("Ledger")).toEqual(["account_id", "entry_key"]);
    expect(keyAttributesOf("NotOurs")).toBeUndefined();
    expect(() => pingRequest("NotOurs")).toThrow(/not one of the service's tables/);
  });

  it("sends that key (StoreClient.ping, stopped before the network)", async () => {
    const client = createStoreClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9", credentials: "local" });
    let sent: { TableName?: string; Key?: Record<string, unknown> } | undefined;
    client.raw.middlewareStack.add(
      () => async (args) => {
        sent = args.input as typeof sent;
        throw new Error("stopped before sending");
      },
      { step: "build", name: "captureRequest" },
    );
    try {
      await expect(client.ping(names.orders)).rejects.toThrow("stopped before sending");
      expect(sent?.TableName).toBe(names.orders);
      expect(Object.keys(sent?.Key ?? {}).sort()).toEqual(["customer_id", "order_id"]);
    } finally {
      client.destroy();
    }
  });
});

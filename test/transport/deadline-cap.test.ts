/**
 * Both transports cap a call's deadline at maxTimeoutMs, and a handler sees the cap the
 * same way on both: ctx.signal aborts at it and ctx.timeoutMs() counts down to it. Real
 * servers on port 0, a fake GetItem that answers with the timeoutMs() it saw.
 */
import { Code, ConnectError, createClient, type ServiceImpl } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InventoryService } from "../../src/gen/commerce/v1/inventory_service_pb.js";
import { serviceRegistration } from "../../src/transport/registration.js";
import { type GenericGrpcClient, startTransports, type Transports } from "../support/transports.js";

const CAP_MS = 400;

const inventory: Partial<ServiceImpl<typeof InventoryService>> = {
  async getItem(req, ctx) {
    const seen = ctx.timeoutMs();
    if (req.sku === "wait") {
      await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
      throw ctx.signal.reason;
    }
    return { item: { sku: req.sku, name: String(seen) } };
  },
};
const services = [serviceRegistration(InventoryService, inventory)];

let servers: Transports;
let grpcClient: GenericGrpcClient;
let httpUrl: string;

beforeAll(async () => {
  servers = await startTransports(services, InventoryService, { maxTimeoutMs: CAP_MS });
  ({ grpcClient, httpUrl } = servers);
});

afterAll(() => servers?.stop());

/** GetItem over gRPC with an optional deadline (ms from now); resolves the item's name. */
function viaGrpc(sku: string, deadlineMs: number | undefined): Promise<string> {
  const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise((resolve, reject) => {
    const getItem = grpcClient["getItem"] as (...args: unknown[]) => unknown;
    getItem.call(grpcClient, { sku }, options, (err: grpc.ServiceError | null, res: { item?: { name: string } }) =>
      err ? reject(err) : resolve(res.item?.name ?? ""),
    );
  });
}

async function viaConnect(sku: string, timeoutMs: number | undefined): Promise<string> {
  const client = createClient(InventoryService, createConnectTransport({ baseUrl: httpUrl, httpVersion: "1.1" }));
  const res = await client.getItem({ sku }, timeoutMs === undefined ? {} : { timeoutMs });
  return res.item?.name ?? "";
}

describe.each([
  ["gRPC port (grpc-js)", viaGrpc],
  ["HTTP port (connect-node)", viaConnect],
])("%s", (_, call) => {
  it.each([
    ["no deadline", undefined, CAP_MS],
    ["a deadline past the cap", 60_000, CAP_MS],
    ["a deadline under the cap", 150, 150],
  ])("reports the capped deadline in ctx.timeoutMs() with %s", async (_, deadline, expected) => {
    const seen = Number(await call("a", deadline));
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(expected);
    // Not far below either: the value is the deadline, not some other timer.
    expect(seen).toBeGreaterThan(expected - 150);
  });

  it("aborts ctx.signal at the cap with DEADLINE_EXCEEDED", async () => {
    const started = Date.now();
    const err = await call("wait", 60_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    const code = err instanceof ConnectError ? err.code : (err as grpc.ServiceError).code;
    expect(code).toBe(Code.DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(CAP_MS + 2_000);
  });
});

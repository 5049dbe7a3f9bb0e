/**
 * Builds the service from its dependencies without listening (STYLE.md practice 1): the
 * stores, the handlers wrapped in the shared middleware, and both transports mounting the
 * same wrapped handler objects. Only main.ts reads the environment and listens; tests
 * build the same thing on port 0.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ConnectError, HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { AccountService } from "./gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "./gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "./gen/commerce/v1/order_service_pb.js";
import { createAccountService } from "./handlers/account-service.js";
import { createInventoryService } from "./handlers/inventory-service.js";
import { createOrderService } from "./handlers/order-service.js";
import { type AuthGate, principalKey } from "./middleware/auth-gate.js";
import { rpcLogging } from "./middleware/logging.js";
import type { RpcMetrics } from "./middleware/metrics.js";
import { type CallObserver, wrapService } from "./middleware/wrap-service.js";
import { watchStoreHealth } from "./resilience/store-health.js";
import { createAccountStore } from "./store/account-store.js";
import type { StoreClient } from "./store/dynamo.js";
import { createIdempotency } from "./store/idempotency.js";
import { createInventoryStore } from "./store/inventory-store.js";
import { createOrderBulkStore } from "./store/order-bulk-store.js";
import { createOrderStore } from "./store/order-store.js";
import { createPageTokenCodec } from "./store/page-token.js";
import type { TableNames } from "./store/tables.js";
import { createGrpcServer } from "./transport/grpc.js";
import { createHttpServer } from "./transport/http.js";
import { type ServiceRegistration, serviceRegistration } from "./transport/registration.js";
import type { ServerTls } from "./transport/tls.js";

export interface AppOptions {
  client: StoreClient;
  tables: TableNames;
  logger: Logger;
  metrics?: RpcMetrics | undefined;
  /** RPC spans (src/telemetry/start-tracing.ts); unset: tracing off, no span and no trace id. */
  tracing?: { readonly observer: CallObserver } | undefined;
  pageTokenSecret: Buffer;
  /** Largest request or response message, both transports. */
  maxMessageBytes: number;
  /** Cap on any call's deadline (and the deadline of calls that set none). */
  maxDeadlineMs: number;
  /** TLS for the HTTP listener (the gRPC one takes it at listen time: grpcCredentials). */
  tls?: ServerTls | undefined;
  /** Who may call what, on both transports (AUTH_MODE). Default: mode none. */
  auth?: AuthGate | undefined;
}

/**
 * The observers every call is reported to (tracing, logging, metrics), on both transports.
 * Tracing comes first: its span then covers the other observers' refusals.
 */
function callObservers(options: AppOptions): CallObserver[] {
  return [
    ...(options.tracing ? [options.tracing.observer] : []),
    rpcLogging(options.logger),
    ...(options.metrics ? [options.metrics.observer] : []),
  ];
}

/** The commerce services, each wrapped in the shared middleware. */
export function createServices(
  options: AppOptions,
  observers: readonly CallObserver[] = callObservers(options),
): ServiceRegistration[] {
  const { client, tables } = options;
  const idempotency = createIdempotency(client, tables.idempotencyKeys);
  const pageTokens = createPageTokenCodec(options.pageTokenSecret);
  const inventory = createInventoryStore({ client, table: tables.inventory, idempotency, pageTokens });
  const accounts = createAccountStore({ client, tables, idempotency, pageTokens });
  const orders = createOrderStore({ client, tables, idempotency, pageTokens });
  const ordersInBulk = createOrderBulkStore({ client, tables });
  const register = <S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): ServiceRegistration =>
    serviceRegistration(service, wrapService(service, impl, observers));
  return [
    register(InventoryService, createInventoryService(inventory)),
    // RPCs not built yet answer UNIMPLEMENTED (the transports' default).
    register(OrderService, createOrderService(orders, ordersInBulk)),
    register(AccountService, createAccountService(accounts)),
  ];
}

export function createApp(options: AppOptions) {
  const observers = callObservers(options);
  const services = createServices(options, observers);
  // Calls refused by a transport before any handler ran still get their log line and metric.
  const onRefused = (method: DescMethod, ctx: HandlerContext, error: ConnectError) => {
    const call = { service: method.parent, method, ctx, requestId: undefined, principal: ctx.values.get(principalKey) };
    for (const observe of observers) observe(call)(error);
  };
  const grpc = createGrpcServer({
    services,
    maxReceiveMessageBytes: options.maxMessageBytes,
    maxSendMessageBytes: options.maxMessageBytes,
    maxTimeoutMs: options.maxDeadlineMs,
    onRefused,
    auth: options.auth,
  });
  const http = createHttpServer({
    services,
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    maxTimeoutMs: options.maxDeadlineMs,
    tls: options.tls,
    onRefused,
    auth: options.auth,
    onError: (err, req) => options.logger.error({ err, method: req.method, path: req.url }, "HTTP call failed"),
  });
  return { services, grpc, http };
}

export interface HealthReporting {
  /** Marks every service NOT_SERVING from now on (shutdown). */
  stopServing(): void;
  stop(): void;
}

/**
 * The health name a liveness probe asks for (Kubernetes' grpc probe `service` field):
 * SERVING whenever the process answers at all. Liveness must not follow the store — a
 * DynamoDB outage would get every replica restarted, which cures nothing (docs/deploy.md).
 */
export const LIVENESS_SERVICE = "liveness";

/**
 * Health per service follows the store: SERVING while it answers, NOT_SERVING while the
 * breaker is open or the probe fails, and NOT_SERVING for good once shutdown begins.
 * LIVENESS_SERVICE alone stays SERVING.
 */
export function reportHealth(
  app: ReturnType<typeof createApp>,
  options: { client: StoreClient; probeTable: string; logger: Logger; intervalMs?: number },
): HealthReporting {
  const names = ["", ...app.services.map((s) => s.service.typeName)];
  let stopping = false;
  const set = (serving: boolean) => {
    for (const name of names) app.grpc.health.setStatus(name, serving && !stopping ? "SERVING" : "NOT_SERVING");
  };
  set(true);
  app.grpc.health.setStatus(LIVENESS_SERVICE, "SERVING");
  const watch = watchStoreHealth({
    probe: options.client,
    probeTable: options.probeTable,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    onChange: (healthy) => {
      options.logger.warn(
        { healthy, breaker: options.client.breaker.state() },
        healthy ? "store reachable again" : "store unhealthy",
      );
      set(healthy);
    },
  });
  return {
    stopServing() {
      stopping = true;
      set(false);
    },
    stop: () => watch.stop(),
  };
}

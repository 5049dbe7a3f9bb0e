/**
 * Every service the gRPC port answers, the commerce ones and the built-in ones: what a
 * pattern in AUTH_POLICY_FILE may name (a pattern naming anything else is refused, as a
 * likely typo). A test checks this against what createApp mounts.
 */
import { AccountService } from "../gen/commerce/v1/account_service_pb.js";
import { InventoryService } from "../gen/commerce/v1/inventory_service_pb.js";
import { OrderService } from "../gen/commerce/v1/order_service_pb.js";
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ServerReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

export const SERVED_SERVICES = Object.freeze([
  InventoryService,
  OrderService,
  AccountService,
  Health,
  ServerReflectionV1,
  ServerReflectionV1alpha,
]);

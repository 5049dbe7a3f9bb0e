/**
 * What both transports mount: a service with its implementation, the UNIMPLEMENTED
 * default for methods left out, and the limits both apply unless told otherwise. Its own
 * module so http.ts and grpc.ts depend on it, not on each other.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";

/** A service and its implementation, mounted identically by both transports. */
export type ServiceRegistration = {
  service: DescService;
  /** Methods left out answer UNIMPLEMENTED ("<service>/<Method> is not implemented"). */
  impl: Partial<ServiceImpl<DescService>>;
};

/**
 * A typed impl as a ServiceRegistration. The cast lives here once: ServiceImpl<S>'s
 * methods take S's request types, which (function parameters being contravariant) are
 * not assignable to the generic DescService's.
 */
export function serviceRegistration<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
): ServiceRegistration {
  return { service, impl: impl as unknown as ServiceRegistration["impl"] };
}

/**
 * Default message size limit of both transports, in bytes: 4 MiB, grpc-js's own receive
 * default and what other gRPC stacks assume, so a client never meets a surprising limit.
 */
export const defaultMaxMessageBytes = 4 * 1024 * 1024;
/**
 * Default deadline cap of both transports, in ms: longer than any legitimate full-table
 * stream we expect, short enough that a client that forgets its deadline cannot pin a
 * DynamoDB scan forever.
 */
export const defaultMaxTimeoutMs = 5 * 60 * 1000;

/** A method of an impl, as the transports call it. */
export type AnyMethodImpl = (input: unknown, ctx: HandlerContext) => unknown;

/**
 * The impl with every method present: a missing one throws UNIMPLEMENTED with the same
 * message on both transports ("commerce.v1.X/Method is not implemented", the method's
 * path), instead of connect's own wording on one and grpc-js's on the other.
 */
export function withUnimplemented(
  service: DescService,
  impl: Partial<ServiceImpl<DescService>>,
): ServiceImpl<DescService> {
  const given = impl as Record<string, AnyMethodImpl | undefined>;
  const full: Record<string, AnyMethodImpl> = {};
  for (const method of service.methods) {
    const fn = given[method.localName];
    full[method.localName] =
      typeof fn === "function"
        ? fn.bind(impl)
        : () => {
            throw new ConnectError(`${service.typeName}/${method.name} is not implemented`, Code.Unimplemented);
          };
  }
  return full as unknown as ServiceImpl<DescService>;
}

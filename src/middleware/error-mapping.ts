/**
 * The one mapping from failures to gRPC statuses (STYLE.md practice 4). Domain errors
 * carry an API reason; here each reason gets its code, and every status gets a
 * google.rpc.ErrorInfo (+ BadRequest / RetryInfo where API.md says). Nothing unexpected
 * ever reaches the caller: its message is replaced and the original kept as `cause`
 * for the log.
 */
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { DomainError, type ErrorReason } from "../domain/errors.js";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";

export const ERROR_DOMAIN = "commerce.v1";

type OutgoingDetail = NonNullable<ConstructorParameters<typeof ConnectError>[3]>[number];

const CODE_OF: Record<ErrorReason, Code> = {
  INVALID_FIELD: Code.InvalidArgument,
  INVALID_PAGE_TOKEN: Code.InvalidArgument,
  REQUEST_ID_REUSED: Code.InvalidArgument,
  ITEM_NOT_FOUND: Code.NotFound,
  ORDER_NOT_FOUND: Code.NotFound,
  ACCOUNT_NOT_FOUND: Code.NotFound,
  TRANSFER_NOT_FOUND: Code.NotFound,
  ITEM_EXISTS: Code.AlreadyExists,
  ORDER_EXISTS: Code.AlreadyExists,
  ACCOUNT_EXISTS: Code.AlreadyExists,
  OUT_OF_STOCK: Code.FailedPrecondition,
  INSUFFICIENT_FUNDS: Code.FailedPrecondition,
  CURRENCY_MISMATCH: Code.FailedPrecondition,
  INVALID_TRANSITION: Code.FailedPrecondition,
  VERSION_MISMATCH: Code.Aborted,
  TRANSACTION_CONFLICT: Code.Aborted,
  AMOUNT_OUT_OF_RANGE: Code.OutOfRange,
  THROTTLED: Code.Unavailable,
  CIRCUIT_OPEN: Code.Unavailable,
  STORE_UNAVAILABLE: Code.Unavailable,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
};

/** gRPC's own spelling of a code (INVALID_ARGUMENT, CANCELLED), for logs and metrics. */
export function grpcCodeName(code: Code | undefined): string {
  if (code === undefined) return "OK";
  if (code === Code.Canceled) return "CANCELLED";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

function errorInfo(reason: string, metadata: Readonly<Record<string, string>>): OutgoingDetail {
  return {
    desc: ErrorInfoSchema,
    value: create(ErrorInfoSchema, { reason, domain: ERROR_DOMAIN, metadata: { ...metadata } }),
  };
}

function fromDomain(err: DomainError): ConnectError {
  const details: OutgoingDetail[] = [errorInfo(err.reason, err.metadata)];
  if (err.violations.length > 0) {
    details.push({
      desc: BadRequestSchema,
      value: create(BadRequestSchema, {
        fieldViolations: err.violations.map((v) => ({ field: v.field, description: v.description })),
      }),
    });
  }
  if (err.retryAfterMs !== undefined) {
    details.push({
      desc: RetryInfoSchema,
      value: create(RetryInfoSchema, { retryDelay: durationFromMs(err.retryAfterMs) }),
    });
  }
  return new ConnectError(err.message, CODE_OF[err.reason], undefined, details, err);
}

/**
 * Anything thrown by a handler → the ConnectError the caller sees.
 * `signal` is the call's: an error caused by its abort is the deadline or the cancel,
 * whatever the SDK wrapped it in.
 */
export function toConnectError(err: unknown, signal?: AbortSignal): ConnectError {
  if (err instanceof DomainError) return fromDomain(err);
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof ConnectError) return reason;
    return new ConnectError("the call was cancelled", Code.Canceled, undefined, undefined, err);
  }
  // Errors the transports or handlers raise on purpose (Unimplemented, Canceled, ...).
  if (err instanceof ConnectError && err.code !== Code.Unknown && err.code !== Code.Internal) return err;
  return new ConnectError("internal error", Code.Internal, undefined, [errorInfo("INTERNAL", {})], err);
}

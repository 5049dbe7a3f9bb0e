/**
 * The one domain error type. The store (and request validation) throw it; exactly one
 * function (src/middleware/error-mapping.ts) turns it into a gRPC status. It carries no
 * transport codes: `reason` is the API's ErrorInfo reason, `metadata` names the resource.
 * Modelled on dynamodb-toolbox's DynamoDBToolboxError: a code and a `match()` guard.
 */
export type ErrorReason =
  | "INVALID_FIELD"
  | "INVALID_PAGE_TOKEN"
  | "REQUEST_ID_REUSED"
  | "ITEM_NOT_FOUND"
  | "ORDER_NOT_FOUND"
  | "ACCOUNT_NOT_FOUND"
  | "TRANSFER_NOT_FOUND"
  | "ITEM_EXISTS"
  | "ORDER_EXISTS"
  | "ACCOUNT_EXISTS"
  | "OUT_OF_STOCK"
  | "INSUFFICIENT_FUNDS"
  | "CURRENCY_MISMATCH"
  | "INVALID_TRANSITION"
  | "VERSION_MISMATCH"
  | "TRANSACTION_CONFLICT"
  | "AMOUNT_OUT_OF_RANGE"
  | "THROTTLED"
  | "CIRCUIT_OPEN"
  | "STORE_UNAVAILABLE"
  | "UNAUTHENTICATED"
  | "PERMISSION_DENIED";

/** One invalid field of a request: `field` is its proto path, `description` the rule. */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface DomainErrorOptions {
  /** Names the resource concerned (sku, account_id, side, ...); values are strings. */
  metadata?: Record<string, string>;
  /** For INVALID_FIELD: every violation found (becomes google.rpc.BadRequest). */
  violations?: FieldViolation[];
  /** When a retry can succeed: how long to wait (becomes google.rpc.RetryInfo). */
  retryAfterMs?: number;
  /** The underlying error, kept for the log only, never sent to the caller. */
  cause?: unknown;
}

export class DomainError extends Error {
  override readonly name = "DomainError";
  readonly reason: ErrorReason;
  readonly metadata: Readonly<Record<string, string>>;
  readonly violations: readonly FieldViolation[];
  readonly retryAfterMs: number | undefined;

  constructor(reason: ErrorReason, message: string, options: DomainErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.metadata = Object.freeze({ ...options.metadata });
    this.violations = Object.freeze([...(options.violations ?? [])]);
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Type guard, optionally for one reason: `DomainError.match(e, "OUT_OF_STOCK")`. */
  static match(err: unknown, reason?: ErrorReason): err is DomainError {
    return err instanceof DomainError && (reason === undefined || err.reason === reason);
  }
}

/** INVALID_FIELD for one or more violations; the message names each field and rule. */
export function invalidFields(violations: FieldViolation[]): DomainError {
  const message = violations.map((v) => `${v.field}: ${v.description}`).join("; ");
  return new DomainError("INVALID_FIELD", message, {
    violations,
    metadata: { field: violations.map((v) => v.field).join(",") },
  });
}

export function invalidField(field: string, description: string): DomainError {
  return invalidFields([{ field, description }]);
}

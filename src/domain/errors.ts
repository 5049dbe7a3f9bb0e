/**
 * The one domain error type. The store, the breaker and request validation throw it; exactly one
 * function (src/middleware/error-mapping.ts) turns it into a gRPC status. It carries no
 * transport codes: `reason` is the API's ErrorInfo reason, `metadata` names the resource.
 * Modelled on dynamodb-toolbox's DynamoDBToolboxError: a code and a `match()` guard.
 * Source code raises these through the named constructors below, never `new DomainError`
 * itself, so each situation has one message and one metadata shape wherever it is detected.
 */
import { MAX_UNITS, type Money, moneyToDecimal } from "./money.js";
import { BREAKER_RESET_MS, CONFLICT_RETRY_MS, STORE_UNAVAILABLE_RETRY_MS, THROTTLED_RETRY_MS } from "./retry-policy.js";

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

// ---- named constructors: one per situation the service reports ---------------------
// Messages and metadata are part of the API (clients and tests read them): change with care.

export function invalidPageToken(detail: string): DomainError {
  return new DomainError("INVALID_PAGE_TOKEN", `page_token is invalid: ${detail}`, {
    metadata: { field: "page_token" },
  });
}

export function requestIdReused(requestId: string): DomainError {
  return new DomainError(
    "REQUEST_ID_REUSED",
    "request_id was already used for a different request; use a new request_id",
    {
      metadata: { field: "request_id", request_id: requestId },
    },
  );
}

export function amountOutOfRange(amount: Money): DomainError {
  return new DomainError(
    "AMOUNT_OUT_OF_RANGE",
    `the ${amount.currencyCode} amount does not fit google.type.Money (int64 units)`,
    { metadata: { currency_code: amount.currencyCode, units: amount.units.toString() } },
  );
}

export function itemNotFound(sku: string): DomainError {
  return new DomainError("ITEM_NOT_FOUND", `item ${sku} does not exist`, { metadata: { sku } });
}

/** ITEM_NOT_FOUND naming every missing sku: metadata `sku` (the first) and `skus` (all). */
export function itemsNotFound(skus: readonly string[]): DomainError {
  if (skus.length === 1) return itemNotFound(skus[0]!);
  return new DomainError("ITEM_NOT_FOUND", `items ${skus.join(", ")} do not exist`, {
    metadata: { sku: skus[0]!, skus: skus.join(",") },
  });
}

export function itemExists(sku: string): DomainError {
  return new DomainError("ITEM_EXISTS", `item ${sku} already exists`, { metadata: { sku } });
}

export function outOfStock(sku: string, requested: bigint, available: bigint | undefined): DomainError {
  return new DomainError(
    "OUT_OF_STOCK",
    `not enough stock of ${sku}: requested ${requested}${available !== undefined ? `, available ${available}` : ""}`,
    {
      metadata: {
        sku,
        requested: String(requested),
        ...(available !== undefined ? { available: String(available) } : {}),
      },
    },
  );
}

/** The caller's expected_version is not the stored one (`actual` undefined: not known). */
export function versionMismatch(
  metadata: Record<string, string>,
  expected: bigint,
  actual: bigint | undefined,
): DomainError {
  return new DomainError(
    "VERSION_MISMATCH",
    `expected_version ${expected} does not match the current version ${actual ?? "unknown"}`,
    {
      metadata: {
        ...metadata,
        expected_version: String(expected),
        ...(actual !== undefined ? { actual_version: String(actual) } : {}),
      },
    },
  );
}

/** The caller's expected_version matched when read, but a concurrent write moved it on. */
export function versionNoLongerCurrent(metadata: Record<string, string>, expected: bigint): DomainError {
  return new DomainError("VERSION_MISMATCH", `expected_version ${expected} is no longer current`, {
    metadata: { ...metadata, expected_version: String(expected) },
  });
}

/** DynamoDB cancelled a transaction for a concurrent one (TransactionConflict). */
export function transactionConflict(cause: unknown): DomainError {
  return new DomainError("TRANSACTION_CONFLICT", "a concurrent transaction touched the same data; retry", {
    retryAfterMs: CONFLICT_RETRY_MS,
    cause,
  });
}

/** Every optimistic attempt lost its race: the resource is hot. */
export function concurrentChanges(metadata: Record<string, string>): DomainError {
  return new DomainError("TRANSACTION_CONFLICT", "the resource is being changed concurrently; retry", {
    metadata,
    retryAfterMs: CONFLICT_RETRY_MS,
  });
}

/** A twin of this request (same request_id) holds the record but has not stored its result yet. */
export function requestInProgress(cause: unknown): DomainError {
  return new DomainError("TRANSACTION_CONFLICT", "a concurrent request with this request_id is in progress; retry", {
    retryAfterMs: CONFLICT_RETRY_MS,
    cause,
  });
}

export function throttled(cause: unknown): DomainError {
  return new DomainError("THROTTLED", "the store is throttling requests; retry later", {
    retryAfterMs: THROTTLED_RETRY_MS,
    cause,
  });
}

/** A batch call's keys were still unprocessed after its last backoff attempt. */
export function keysUnprocessed(count: number, attempts: number): DomainError {
  return unprocessed(count, attempts, "keys");
}

/** A batch call's writes were still unprocessed after its last backoff attempt. */
export function writesUnprocessed(count: number, attempts: number): DomainError {
  return unprocessed(count, attempts, "writes");
}

function unprocessed(count: number, attempts: number, what: "keys" | "writes"): DomainError {
  return new DomainError("THROTTLED", `${count} ${what} stayed unprocessed after ${attempts} attempts; retry later`, {
    retryAfterMs: THROTTLED_RETRY_MS,
    metadata: { unprocessed: String(count) },
  });
}

/**
 * The store did not answer. `writeOutcomeUnknown`: the call was a write that is not safe
 * to repeat, and it may or may not have been applied.
 */
export function storeUnavailable(cause: unknown, writeOutcomeUnknown = false): DomainError {
  const message = writeOutcomeUnknown
    ? "the store did not confirm the write: it may or may not have been applied; " +
      "read before retrying, or send a request_id"
    : "the store is unavailable; retry later";
  return new DomainError("STORE_UNAVAILABLE", message, {
    retryAfterMs: STORE_UNAVAILABLE_RETRY_MS,
    metadata: writeOutcomeUnknown ? { write_outcome: "unknown" } : {},
    cause,
  });
}

/** The breaker is open: calls fail fast until it lets a probe through after `retryAfterMs`. */
export function circuitOpen(retryAfterMs: number = BREAKER_RESET_MS): DomainError {
  return new DomainError("CIRCUIT_OPEN", "the store is failing; calls are paused briefly, retry later", {
    retryAfterMs,
  });
}

/** `side` names the transfer's field when the account is one end of a transfer. */
export function accountNotFound(accountId: string, side?: "from" | "to"): DomainError {
  const which = side === undefined ? "" : ` (${side === "from" ? "from_account_id" : "to_account_id"})`;
  return new DomainError("ACCOUNT_NOT_FOUND", `account ${accountId}${which} does not exist`, {
    metadata: { account_id: accountId, ...(side ? { side, field: `${side}_account_id` } : {}) },
  });
}

export function accountExists(accountId: string): DomainError {
  return new DomainError("ACCOUNT_EXISTS", `account ${accountId} already exists`, {
    metadata: { account_id: accountId },
  });
}

export function currencyMismatch(accountId: string, accountCurrency: string, requested: string): DomainError {
  return new DomainError("CURRENCY_MISMATCH", `account ${accountId} holds ${accountCurrency}, not ${requested}`, {
    metadata: { account_id: accountId, account_currency: accountCurrency, requested_currency: requested },
  });
}

export function insufficientFunds(accountId: string, requested: Money, available: Money | undefined): DomainError {
  return new DomainError(
    "INSUFFICIENT_FUNDS",
    `account ${accountId} has not enough money: requested ${moneyToDecimal(requested)} ${requested.currencyCode}` +
      (available ? `, available ${moneyToDecimal(available)}` : ""),
    {
      metadata: {
        account_id: accountId,
        requested: moneyToDecimal(requested),
        ...(available ? { available: moneyToDecimal(available) } : {}),
      },
    },
  );
}

/** A credit would take a balance above what google.type.Money can carry. */
export function balanceAboveCeiling(accountId: string): DomainError {
  return new DomainError(
    "INVALID_FIELD",
    `amount would take the balance of account ${accountId} above ${MAX_UNITS} units`,
    {
      metadata: { account_id: accountId, field: "amount" },
      violations: [{ field: "amount", description: `would take the balance of ${accountId} above ${MAX_UNITS} units` }],
    },
  );
}

export function transferNotFound(transferId: string): DomainError {
  return new DomainError("TRANSFER_NOT_FOUND", `transfer ${transferId} does not exist`, {
    metadata: { transfer_id: transferId },
  });
}

export function orderNotFound(customerId: string, orderId: string): DomainError {
  return new DomainError("ORDER_NOT_FOUND", `order ${orderId} of customer ${customerId} does not exist`, {
    metadata: { customer_id: customerId, order_id: orderId },
  });
}

export function orderExists(customerId: string, orderId: string): DomainError {
  return new DomainError("ORDER_EXISTS", `order ${orderId} of customer ${customerId} already exists`, {
    metadata: { customer_id: customerId, order_id: orderId },
  });
}

/** A status change the order state machine does not allow (`from` → `to`, enum names). */
export function invalidTransition(orderId: string, from: string, to: string): DomainError {
  return new DomainError("INVALID_TRANSITION", `order ${orderId} cannot go from ${from} to ${to}`, {
    metadata: { order_id: orderId, from_status: from, to_status: to },
  });
}

/** One line of an order that cannot be taken from stock. */
export interface StockShortage {
  /** The request field of the line, e.g. "lines[2].quantity". */
  field: string;
  sku: string;
  requested: bigint;
  available: bigint | undefined;
}

/**
 * OUT_OF_STOCK naming every short line: metadata `sku` (the first) and `skus` (all,
 * comma-separated), plus one field violation per line (a BadRequest-style list).
 */
export function linesOutOfStock(shortages: readonly StockShortage[]): DomainError {
  const first = shortages[0]!;
  const single = outOfStock(first.sku, first.requested, first.available);
  if (shortages.length === 1) {
    return new DomainError("OUT_OF_STOCK", single.message, {
      metadata: { ...single.metadata, skus: first.sku },
      violations: [shortageViolation(first)],
    });
  }
  const skus = shortages.map((s) => s.sku);
  return new DomainError("OUT_OF_STOCK", `not enough stock of ${skus.join(", ")}`, {
    metadata: { ...single.metadata, skus: skus.join(",") },
    violations: shortages.map(shortageViolation),
  });
}

function shortageViolation(s: StockShortage): FieldViolation {
  const available = s.available !== undefined ? `, available ${s.available}` : "";
  return { field: s.field, description: `not enough stock of ${s.sku}: requested ${s.requested}${available}` };
}

/** An item's price moved between reading it and taking its stock: the order can be placed again. */
export function priceChanged(sku: string): DomainError {
  return new DomainError(
    "TRANSACTION_CONFLICT",
    `the price of ${sku} changed while the order was placed; retry to order at the new price`,
    { metadata: { sku }, retryAfterMs: CONFLICT_RETRY_MS },
  );
}

/** An order's lines must share one currency (its total is one Money). */
export function orderCurrencyMismatch(sku: string, itemCurrency: string, orderCurrency: string): DomainError {
  return new DomainError(
    "CURRENCY_MISMATCH",
    `item ${sku} is priced in ${itemCurrency}, the order in ${orderCurrency}; an order has one currency`,
    { metadata: { sku, currency_code: itemCurrency, order_currency_code: orderCurrency } },
  );
}

/** A status change that only CancelOrder may make, or a change the order's status does not allow. */
export function orderStatusRefused(orderId: string, status: string, action: string): DomainError {
  return new DomainError("INVALID_TRANSITION", `order ${orderId} is ${status}: ${action}`, {
    metadata: { order_id: orderId, from_status: status },
  });
}

/** A cancelled line's item is gone: its stock cannot be restored. */
export function restockImpossible(sku: string): DomainError {
  return new DomainError(
    "ITEM_NOT_FOUND",
    `item ${sku} no longer exists, so its stock cannot be restored; create it again, then cancel`,
    { metadata: { sku } },
  );
}

/**
 * `err` again with more metadata: how far a bulk call (ImportOrders' `written`, PurgeOrders'
 * `deleted`) got before it failed, so the caller knows where to resume.
 */
export function withProgress(err: DomainError, progress: Record<string, string>): DomainError {
  return new DomainError(err.reason, err.message, {
    metadata: { ...err.metadata, ...progress },
    violations: [...err.violations],
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    cause: err.cause,
  });
}

/**
 * No credentials, or credentials that name no principal. `why` says which, never what
 * was presented (a token must not end up in a caller's log either).
 */
export function unauthenticated(method: string, why: string): DomainError {
  return new DomainError("UNAUTHENTICATED", `${method}: ${why}`, { metadata: { method } });
}

/** A known principal calling a method its `allow` list does not name. */
export function permissionDenied(principal: string, method: string): DomainError {
  return new DomainError("PERMISSION_DENIED", `principal ${principal} may not call ${method}`, {
    metadata: { principal, method },
  });
}

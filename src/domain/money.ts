/**
 * Exact money. An amount is held as a bigint count of nanos (1e-9 units); nothing here
 * ever touches a JavaScript number, so 0.1 + 0.2 is exactly 0.3 (test/domain/money.test.ts).
 * In DynamoDB an amount is an `N` holding the exact decimal string (DynamoDB keeps 38
 * significant digits; our largest amount has 18 + 9).
 */
import type { FieldViolation } from "./errors.js";

export interface Money {
  readonly currencyCode: string;
  readonly units: bigint;
  readonly nanos: number;
}

export const NANOS_PER_UNIT = 1_000_000_000n;
/** |units| limit: keeps every sum of many balances far inside DynamoDB's 38 digits. */
export const MAX_UNITS = 999_999_999_999_999_999n;
const CURRENCY = /^[A-Z]{3}$/;
export const CURRENCY_RULE = "must be an ISO 4217 code: three letters A-Z";

export function isCurrencyCode(code: string): boolean {
  return CURRENCY.test(code);
}

export function toNanos(m: Pick<Money, "units" | "nanos">): bigint {
  return m.units * NANOS_PER_UNIT + BigInt(m.nanos);
}

/** BigInt division truncates toward zero, so units and nanos come out with one sign. */
export function fromNanos(currencyCode: string, nanos: bigint): Money {
  return { currencyCode, units: nanos / NANOS_PER_UNIT, nanos: Number(nanos % NANOS_PER_UNIT) };
}

/** Exact decimal string of a nano amount, e.g. -1500000000n → "-1.5". */
export function nanosToDecimal(nanos: bigint): string {
  const negative = nanos < 0n;
  const abs = negative ? -nanos : nanos;
  const whole = (abs / NANOS_PER_UNIT).toString();
  const fraction = (abs % NANOS_PER_UNIT).toString().padStart(9, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const PLAIN_DECIMAL = /^(-?)(\d+)(?:\.(\d{1,9}))?$/;

/**
 * Parses a DynamoDB number string exactly into nanos. Accepts exponent notation in case a
 * DynamoDB-compatible store normalises that way; more than 9 fractional digits is an error
 * because it cannot have been written by us.
 */
export function decimalToNanos(text: string): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a decimal number: ${text}`);
  let digits = (m[2] ?? "") + (m[3] ?? "");
  const scale = (m[3] ?? "").length - Number(m[4] ?? "0");
  // value = digits * 10^-scale; we want value * 1e9 = digits * 10^(9 - scale)
  let shift = 9 - scale;
  if (shift < 0) {
    const dropped = digits.slice(digits.length + shift);
    if (/[1-9]/.test(dropped)) throw new Error(`more than 9 decimal places: ${text}`);
    digits = digits.slice(0, digits.length + shift) || "0";
    shift = 0;
  }
  const value = BigInt(digits || "0") * 10n ** BigInt(shift);
  return m[1] === "-" ? -value : value;
}

/**
 * The Money a stored decimal string holds: what decimalToNanos and fromNanos make
 * together. Read for every amount of every item read (every item a scan streams), so the
 * plain form we write (nanosToDecimal) is split into units and nanos where it stands,
 * without a bigint division; any other form goes the general way.
 */
export function moneyFromDecimal(currencyCode: string, text: string): Money {
  const plain = PLAIN_DECIMAL.exec(text);
  if (plain === null) return fromNanos(currencyCode, decimalToNanos(text));
  const units = BigInt(plain[2]!);
  const nanos = plain[3] === undefined ? 0 : Number(plain[3].padEnd(9, "0"));
  return plain[1] === "-" ? { currencyCode, units: -units, nanos: -nanos || 0 } : { currencyCode, units, nanos };
}

export function moneyToDecimal(m: Money): string {
  return nanosToDecimal(toNanos(m));
}

export function isZero(m: Money): boolean {
  return m.units === 0n && m.nanos === 0;
}

export function isNegative(m: Money): boolean {
  return m.units < 0n || m.nanos < 0;
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currencyCode !== b.currencyCode) {
    throw new Error(`currency mismatch: ${a.currencyCode} vs ${b.currencyCode}`);
  }
  return fromNanos(a.currencyCode, toNanos(a) + toNanos(b));
}

/**
 * The rules of google.type.Money plus our limits. `field` is the proto path used in the
 * violations, so the caller learns exactly which value broke which rule.
 */
export function moneyViolations(
  field: string,
  m: Money | undefined,
  rules: { positive?: boolean; nonNegative?: boolean } = {},
): FieldViolation[] {
  if (m === undefined) return [{ field, description: "is required" }];
  const out: FieldViolation[] = [];
  if (!CURRENCY.test(m.currencyCode)) {
    out.push({ field: `${field}.currency_code`, description: CURRENCY_RULE });
  }
  if (m.nanos <= -1_000_000_000 || m.nanos >= 1_000_000_000 || !Number.isInteger(m.nanos)) {
    out.push({ field: `${field}.nanos`, description: "must be between -999999999 and 999999999" });
  }
  if ((m.units > 0n && m.nanos < 0) || (m.units < 0n && m.nanos > 0)) {
    out.push({ field: `${field}.nanos`, description: "must have the same sign as units" });
  }
  if (m.units > MAX_UNITS || m.units < -MAX_UNITS) {
    out.push({ field: `${field}.units`, description: `must be at most ${MAX_UNITS} in absolute value` });
  }
  if (out.length > 0) return out;
  if (rules.positive && (isNegative(m) || isZero(m))) {
    out.push({ field, description: "must be greater than zero" });
  } else if (rules.nonNegative && isNegative(m)) {
    out.push({ field, description: "must not be negative" });
  }
  return out;
}

/**
 * Request validation shared by the handlers: every rule checked before any DynamoDB call,
 * all violations reported at once (google.rpc.BadRequest), each naming the field's proto
 * path and the rule it broke.
 */

import { type FieldViolation, invalidFields } from "../domain/errors.js";
import { type Money, moneyViolations } from "../domain/money.js";
import { isOrderId, ORDER_ID_RULE, type OrderStatus } from "../domain/orders.js";
import { OrderStatus as OrderStatusEnum } from "../gen/commerce/v1/order_service_pb.js";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "../store/page-token.js";
import { statusFromProto } from "./order-convert.js";

export const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const ID_RULE = "must be 1-64 characters of [A-Za-z0-9._-]";
export const MAX_REQUEST_ID_LENGTH = 128;
/** C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F): never part of a name, an address or an id. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
/** read_mask paths a request may name: every allow-list is shorter; repeats are pointless. */
export const MAX_MASK_PATHS = 32;
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of google.protobuf.Timestamp. */
const MIN_TIMESTAMP_SECONDS = -62_135_596_800n;
const MAX_TIMESTAMP_SECONDS = 253_402_300_799n;
const COUNTRY_CODE = /^[A-Z]{2}$/;
export const MAX_SEGMENTS = 64;
export const DEFAULT_SEGMENTS = 4;

export class Violations {
  private readonly list: FieldViolation[] = [];

  add(field: string, description: string): this {
    this.list.push({ field, description });
    return this;
  }

  check(ok: boolean, field: string, description: string): this {
    return ok ? this : this.add(field, description);
  }

  id(field: string, value: string): this {
    return this.check(ID_PATTERN.test(value), field, value === "" ? "is required" : ID_RULE);
  }

  /** An order id as the server makes them ("ORD-" + ULID); anything else cannot name an order. */
  orderId(field: string, value: string): this {
    return this.check(isOrderId(value), field, value === "" ? "is required" : ORDER_ID_RULE);
  }

  text(field: string, value: string, min: number, max: number): this {
    if (value.length < min) return this.add(field, min === 1 ? "is required" : `must be at least ${min} characters`);
    if (CONTROL_CHARACTERS.test(value)) return this.add(field, "must not contain control characters");
    return this.check([...value].length <= max, field, `must be at most ${max} characters`);
  }

  requestId(field: string, value: string, required: boolean): this {
    if (value === "") return required ? this.add(field, "is required") : this;
    if ([...value].length > MAX_REQUEST_ID_LENGTH)
      return this.add(field, `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
    return this.check(!CONTROL_CHARACTERS.test(value), field, "must not contain control characters");
  }

  expectedVersion(field: string, value: bigint): this {
    return this.check(value >= 0n, field, "must be 0 (don't check) or a positive version");
  }

  money(field: string, value: Money | undefined, rules: { positive?: boolean; nonNegative?: boolean }): this {
    for (const v of moneyViolations(field, value, rules)) this.list.push(v);
    return this;
  }

  pageSize(field: string, value: number): number {
    this.check(value >= 0, field, "must not be negative");
    return value === 0 ? DEFAULT_PAGE_SIZE : Math.min(value, MAX_PAGE_SIZE);
  }

  totalSegments(field: string, value: number): number {
    this.check(
      value >= 0 && value <= MAX_SEGMENTS,
      field,
      `must be between 1 and ${MAX_SEGMENTS} (0 means ${DEFAULT_SEGMENTS})`,
    );
    return value === 0 ? DEFAULT_SEGMENTS : value;
  }

  /**
   * Checks each element of a repeated field — unless it has more than `max`, which its
   * count rule reports once: one violation, not one per element, however long the list.
   */
  each<T>(values: readonly T[], max: number, check: (value: T, index: number) => void): this {
    if (values.length <= max) values.forEach(check);
    return this;
  }

  /** An optional google.protobuf.FieldMask: at most MAX_MASK_PATHS paths (which ones, the store's allow-list says). */
  readMask(field: string, mask: { paths: readonly string[] } | undefined): this {
    return this.check(
      (mask?.paths.length ?? 0) <= MAX_MASK_PATHS,
      `${field}.paths`,
      `must have at most ${MAX_MASK_PATHS} entries`,
    );
  }

  distinct(field: string, values: readonly string[], min: number, max: number): this {
    if (values.length < min) return this.add(field, `must have at least ${min} entr${min === 1 ? "y" : "ies"}`);
    if (values.length > max) return this.add(field, `must have at most ${max} entries`);
    const seen = new Set<string>();
    values.forEach((v, i) => {
      if (seen.has(v)) this.add(`${field}[${i}]`, `duplicate value ${JSON.stringify(v.slice(0, 64))}`);
      seen.add(v);
    });
    return this;
  }

  /**
   * A google.protobuf.Timestamp the store can hold: 0001-01-01 to 9999-12-31 UTC (what an
   * ISO-8601 string sorts correctly over) and nanos in [0, 1e9). Unset is allowed.
   */
  timestamp(field: string, t: { seconds: bigint; nanos: number } | undefined): this {
    if (t === undefined) return this;
    return this.check(
      t.seconds >= MIN_TIMESTAMP_SECONDS && t.seconds <= MAX_TIMESTAMP_SECONDS && t.nanos >= 0 && t.nanos < 1e9,
      field,
      "must be a valid timestamp between 0001-01-01 and 9999-12-31 (nanos 0-999999999)",
    );
  }

  /** A postal address (commerce.v1.Address): street and city required, the rest optional. */
  address(
    field: string,
    a: { street: string; city: string; region: string; postalCode: string; countryCode: string },
  ): this {
    return this.text(`${field}.street`, a.street, 1, 200)
      .text(`${field}.city`, a.city, 1, 100)
      .text(`${field}.region`, a.region, 0, 100)
      .text(`${field}.postal_code`, a.postalCode, 0, 20)
      .check(COUNTRY_CODE.test(a.countryCode), `${field}.country_code`, "must be two letters A-Z (ISO 3166-1 alpha-2)");
  }

  /**
   * An OrderStatus field: `required` refuses UNSPECIFIED (otherwise it means "any": undefined);
   * an enum number the API does not define is always refused (proto3 enums are open, so any
   * int32 can arrive).
   */
  orderStatus(field: string, value: OrderStatusEnum, required: boolean): OrderStatus | undefined {
    if (value === OrderStatusEnum.UNSPECIFIED) {
      this.check(!required, field, "is required");
      return undefined;
    }
    const known = statusFromProto(value);
    this.check(known !== undefined, field, `unknown OrderStatus ${value}`);
    return known;
  }

  /** Throws INVALID_FIELD listing every violation, if any. */
  done(): void {
    if (this.list.length > 0) throw invalidFields(this.list);
  }
}

/** total_segments of a scan request, validated alone: 1-64, 0 → 4. */
export function totalSegmentsOf(value: number): number {
  const v = new Violations();
  const segments = v.totalSegments("total_segments", value);
  v.done();
  return segments;
}

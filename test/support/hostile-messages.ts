/**
 * fast-check arbitraries for hostile request messages, built from the generated
 * descriptors alone, so a field or an RPC added to the contract is fuzzed without touching
 * the tests: every scalar, enum, message, list and map field gets values from the edges of
 * its type and of our limits — empty, just under and over each length cap, far over the
 * message size limit, unicode (lone surrogates, NUL, RTL marks, emoji), negative numbers,
 * int64 extremes, unknown enum numbers, invalid Timestamps (seconds or nanos out of
 * range), FieldMasks with unknown paths, lists just over their caps, nested messages with
 * junk. Fields named like the API's ids (sku, account_id, order_id, page_token, ...)
 * also draw from `pools` (ids that exist, tokens the server made), so requests get past
 * the first rule and reach deeper ones.
 */
import {
  create,
  type DescField,
  type DescMessage,
  type MessageInitShape,
  ScalarType,
  toBinary,
} from "@bufbuild/protobuf";
import fc from "fast-check";

/** Real values the fuzzer mixes in: ids that exist and page tokens the server issued. */
export interface Pools {
  skus: string[];
  accountIds: string[];
  customerIds: string[];
  orderIds: string[];
  transferIds: string[];
  pageTokens: string[];
}

/** A message's init shape, as create() and the typed clients take it. */
export type MessageInit = Record<string, unknown>;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
/** google.protobuf.Timestamp's valid range: 0001-01-01 to 9999-12-31. */
const TIMESTAMP_MIN = -62_135_596_800n;
const TIMESTAMP_MAX = 253_402_300_799n;

/** Over the default 4 MiB message limit (the harness's) once encoded. Built once; shared by reference. */
export const OVER_MESSAGE_LIMIT = "x".repeat(4 * 1024 * 1024 + 1024);

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const anyCodeUnit = fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), loneSurrogate);

/** Lengths around the caps in validate.ts and API.md (64, 128, 200, 500, ...). */
const edgeStrings = [
  "",
  " ",
  "a",
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(128),
  "x".repeat(129),
  "x".repeat(200),
  "x".repeat(201),
  "é".repeat(201),
  "x".repeat(501),
  "🙂".repeat(100),
  "🙂".repeat(101),
  "\u0000",
  "a\u0000b",
  "\ud800",
  "a\udc00b",
  "\u202eevil\u202c",
  "\u200b",
  "\u0085",
  "\ufeff",
  "line\nbreak",
  "tab\t",
  "../../etc/passwd",
  "#p0",
  ":v0",
  "$" + "{jndi:x}", // a template-injection probe, on purpose not a template
  "' OR '1'='1",
  "__proto__",
  "constructor",
  "ORD-",
  "ORD-01ARZ3NDEKTSV4RRFFQ69G5FAV",
  "ORD-01arz3ndektsv4rrffq69g5fav",
];

/** Strings for any field: at most a few hundred characters, so a list of 101 stays small. */
const shortString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...edgeStrings) },
  { weight: 3, arbitrary: fc.string({ unit: anyCodeUnit, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 80 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,70}$/) },
);

/** Strings for a single field: also far over every cap, and (top level only) over the message limit. */
function hostileString(depth: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 12, arbitrary: shortString },
    { weight: 1, arbitrary: fc.constantFrom("x".repeat(5000), "ü".repeat(70_000)) },
    ...(depth === 0 ? [{ weight: 1, arbitrary: fc.constant(OVER_MESSAGE_LIMIT) }] : []),
  );
}

const int64 = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 2n, INT64_MAX, INT64_MIN, INT64_MAX - 1n, INT64_MIN + 1n),
  fc.constantFrom(10_000n, 10_001n, 10n ** 15n, 10n ** 15n + 1n, 999_999_999_999_999_999n, 10n ** 18n),
  fc.bigInt({ min: -5n, max: 200n }),
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
);
const uint64 = fc.oneof(fc.constantFrom(0n, 1n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const int32 = fc.oneof(
  fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 1_000_000_000, 999_999_999, -999_999_999, -1_000_000_000),
  fc.constantFrom(50, 51, 64, 65, 100, 101, 1000, 1001),
  fc.integer({ min: -5, max: 120 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
);
const uint32 = fc.oneof(fc.constantFrom(0, 1, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));

function scalar(type: ScalarType, strings: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return strings;
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return int64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return uint64;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return int32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return uint32;
    case ScalarType.DOUBLE:
      return fc.double();
    case ScalarType.FLOAT:
      return fc.float();
  }
}

const timestamp = fc.record({
  seconds: fc.oneof(
    fc.constantFrom(
      TIMESTAMP_MIN - 1n,
      TIMESTAMP_MIN,
      TIMESTAMP_MAX,
      TIMESTAMP_MAX + 1n,
      0n,
      -1n,
      INT64_MAX,
      INT64_MIN,
    ),
    fc.bigInt({ min: 1_600_000_000n, max: 1_900_000_000n }),
    fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  ),
  nanos: fc.oneof(fc.constantFrom(0, -1, 999_999_999, 1_000_000_000, 1_000_000, 500), int32),
});

/** Paths our read masks allow somewhere, and junk. */
const maskPath = fc.oneof(
  fc.constantFrom("sku", "name", "unit_price", "quantity", "version", "created_at", "updated_at"),
  fc.constantFrom("customer_id", "order_id", "lines", "total", "status", "shipping_address"),
  fc.constantFrom("", "nope", "unit_price.units", "UnitPrice", "a b", "__proto__", "toString", "x".repeat(300)),
  shortString,
);

/** Values for the API's well-known field names; undefined for any other field. */
function pooled(name: string, pools: Pools): fc.Arbitrary<string> | undefined {
  const from = (values: string[]) => (values.length > 0 ? fc.constantFrom(...values) : undefined);
  switch (name) {
    case "sku":
    case "skus":
      return from(pools.skus);
    case "account_id":
    case "account_ids":
    case "from_account_id":
    case "to_account_id":
      return from(pools.accountIds);
    case "customer_id":
      return from(pools.customerIds);
    case "order_id":
      return from(pools.orderIds);
    case "transfer_id":
      return from(pools.transferIds);
    case "page_token":
      return from([
        ...pools.pageTokens,
        ...pools.pageTokens.map((t) => `${t.slice(0, -2)}AA`),
        ...pools.pageTokens.map((t) => t.split(".").reverse().join(".")),
        "e30.AAAA",
        "a.b.c",
        ".",
      ]);
    case "currency_code":
      return fc.constantFrom("EUR", "USD", "eur", "EU", "EURO", "€€€");
    case "country_code":
      return fc.constantFrom("BE", "be", "BEL", "B1");
    case "request_id":
      return fc.stringMatching(/^[a-z0-9-]{1,24}$/);
    default:
      return undefined;
  }
}

/** A string field's values: the pool (if its name has one) mixed with hostile strings. */
function stringFor(field: DescField, pools: Pools, strings: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const pool = pooled(field.name, pools);
  return pool ? fc.oneof({ weight: 3, arbitrary: pool }, { weight: 2, arbitrary: strings }) : strings;
}

function enumValue(numbers: readonly number[]): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...numbers) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 6, 99, 2 ** 31 - 1, -(2 ** 31)) },
  );
}

/** Nesting below this depth leaves message fields unset (Order → lines → unit_price is 3 deep). */
const MAX_DEPTH = 4;

export function hostileMessage(schema: DescMessage, pools: Pools, depth = 0): fc.Arbitrary<MessageInit> {
  if (schema.typeName === "google.protobuf.Timestamp") return timestamp;
  if (schema.typeName === "google.protobuf.FieldMask") {
    return fc.record({ paths: fc.array(maskPath, { maxLength: 4 }) });
  }
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) {
    const value = fieldValue(field, pools, depth);
    if (value) fields[field.localName] = value;
  }
  return fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<MessageInit>;
}

function single(field: DescField, pools: Pools, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return field.scalar === ScalarType.STRING
        ? stringFor(field, pools, hostileString(depth))
        : scalar(field.scalar, shortString);
    case "enum":
      return enumValue(field.enum.values.map((v) => v.number));
    case "message":
      return depth + 1 < MAX_DEPTH ? hostileMessage(field.message, pools, depth + 1) : undefined;
    default:
      return undefined;
  }
}

function fieldValue(field: DescField, pools: Pools, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar":
    case "enum":
    case "message":
      return single(field, pools, depth);
    case "list": {
      const element =
        field.listKind === "message"
          ? depth + 1 < MAX_DEPTH
            ? hostileMessage(field.message, pools, depth + 1)
            : undefined
          : field.listKind === "enum"
            ? enumValue(field.enum.values.map((v) => v.number))
            : field.scalar === ScalarType.STRING
              ? stringFor(field, pools, shortString)
              : scalar(field.scalar, shortString);
      if (!element) return undefined;
      // Top-level lists also just over the caps of API.md (50 lines, 100 keys / skus / ids).
      const overCap = depth === 0 ? [51, 101] : [];
      return fc.oneof(
        { weight: 8, arbitrary: fc.array(element, { maxLength: 4 }) },
        ...overCap.map((n) => ({ weight: 1, arbitrary: fc.array(element, { minLength: n, maxLength: n }) })),
      );
    }
    case "map": {
      const value =
        field.mapKind === "message"
          ? depth + 1 < MAX_DEPTH
            ? hostileMessage(field.message, pools, depth + 1)
            : undefined
          : field.mapKind === "enum"
            ? enumValue(field.enum.values.map((v) => v.number))
            : scalar(field.scalar, shortString);
      const key = field.mapKey === ScalarType.STRING ? shortString : scalar(field.mapKey, shortString).map(String);
      return value ? fc.dictionary(key, value, { maxKeys: 3 }) : undefined;
    }
  }
}

/** A message init, encoded in the binary format. */
export function encodeInit(schema: DescMessage, init: MessageInit): Uint8Array {
  return toBinary(schema, create(schema, init as MessageInitShape<DescMessage>));
}

type Mutation =
  | { op: "flip"; at: number; mask: number }
  | { op: "set"; at: number; value: number }
  | { op: "cut"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "repeat"; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  // 0x80/0xff make a varint or length run on; 0x7f makes a length claim more than follows.
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x07, 0x7f, 0x80, 0xff) }),
  fc.record({ op: fc.constant("cut" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant("repeat" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  switch (m.op) {
    case "flip":
    case "set": {
      if (bytes.length === 0) return new Uint8Array([m.op === "set" ? m.value : m.mask]);
      const out = bytes.slice();
      out[at] = m.op === "set" ? m.value : out[at]! ^ m.mask;
      return out;
    }
    case "cut":
      return bytes.subarray(0, at);
    case "insert":
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case "repeat":
      return Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
  }
}

/** A hostile message's binary encoding, then damaged: bytes flipped or set, cut, inserted, repeated. */
export function mutatedBytes(schema: DescMessage, pools: Pools): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(hostileMessage(schema, pools), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([init, mutations]) => mutations.reduce(mutate, encodeInit(schema, init)));
}

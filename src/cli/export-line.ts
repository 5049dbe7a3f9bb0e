/**
 * One line of an export file: `{"table":"Orders","item":{...}}`. `table` is the logical
 * (unprefixed) name, so a file exported under one TABLE_PREFIX imports under another;
 * `item` is DynamoDB's own JSON form of the item (`{"price":{"N":"12.5"}}`): numbers stay
 * the exact decimal strings DynamoDB holds, never JavaScript numbers. Binary values are
 * base64, as on DynamoDB's wire. Pure (test/cli/export-line.test.ts).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

export type RawItem = Record<string, AttributeValue>;

export interface ExportLine {
  table: string;
  item: RawItem;
}

export function formatExportLine(table: string, item: RawItem): string {
  return `${JSON.stringify({ table, item: mapValues(item, toJson) })}\n`;
}

/** Throws a plain Error saying what is wrong with the line. */
export function parseExportLine(text: string): ExportLine {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== "object" || parsed === null) throw new Error("not a JSON object");
  const { table, item } = parsed as { table?: unknown; item?: unknown };
  if (typeof table !== "string" || table === "") throw new Error('no "table" name');
  if (typeof item !== "object" || item === null || Array.isArray(item)) throw new Error('no "item" object');
  return { table, item: mapValues(item as Record<string, unknown>, fromJson) };
}

function mapValues<A, B>(record: Record<string, A>, f: (v: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v)]));
}

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const bytes = (text: unknown) => {
  if (typeof text !== "string") throw new Error("a binary value is not a base64 string");
  return new Uint8Array(Buffer.from(text, "base64"));
};

/** Only B, BS and the containers need work: every other type is JSON as the SDK holds it. */
function toJson(value: AttributeValue): unknown {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: mapValues(value.M, toJson) };
  if (value.L !== undefined) return { L: value.L.map(toJson) };
  return value;
}

function fromJson(value: unknown): AttributeValue {
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length !== 1) {
    throw new Error(`not an attribute value: ${JSON.stringify(value)}`);
  }
  const v = value as Record<string, unknown>;
  if ("B" in v) return { B: bytes(v["B"]) };
  if ("BS" in v) return { BS: (v["BS"] as unknown[]).map(bytes) };
  if ("M" in v) return { M: mapValues(v["M"] as Record<string, unknown>, fromJson) };
  if ("L" in v) return { L: (v["L"] as unknown[]).map(fromJson) };
  const [type, inner] = Object.entries(v)[0]!;
  if (!SCALARS[type]?.(inner)) throw new Error(`not an attribute value: ${JSON.stringify(value)}`);
  return v as unknown as AttributeValue;
}

const isString = (x: unknown) => typeof x === "string";
const isStrings = (x: unknown) => Array.isArray(x) && x.every(isString);
/** The other attribute types and the JSON each holds. */
const SCALARS: Record<string, (x: unknown) => boolean> = {
  S: isString,
  N: isString,
  BOOL: (x) => typeof x === "boolean",
  NULL: (x) => x === true,
  SS: isStrings,
  NS: isStrings,
};

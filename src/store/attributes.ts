/**
 * Reading attributes written by us back into domain values. Numbers arrive as
 * NumberValue (wrapNumbers), so they are read from their exact string, never a float.
 */
import { type Money, moneyFromDecimal } from "../domain/money.js";

export type Stored = Record<string, unknown>;

function text(v: unknown): string {
  return typeof v === "object" && v !== null && "value" in v ? String((v as { value: unknown }).value) : String(v);
}

export function readBigInt(item: Stored, name: string): bigint {
  return BigInt(text(item[name]));
}

export function readString(item: Stored, name: string): string {
  return String(item[name] ?? "");
}

/** An amount stored as an exact decimal `N` plus its currency in another attribute. */
export function readMoney(item: Stored, amountName: string, currencyName: string): Money {
  return moneyFromDecimal(readString(item, currencyName), text(item[amountName]));
}

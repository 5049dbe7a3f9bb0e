import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addMoney,
  decimalToNanos,
  fromNanos,
  moneyFromDecimal,
  moneyViolations,
  nanosToDecimal,
  toNanos,
} from "../../src/domain/money.js";

const nanoAmount = fc.bigInt({ min: -(10n ** 27n) + 1n, max: 10n ** 27n - 1n });

describe("money", () => {
  it("0.1 + 0.2 is exactly 0.3", () => {
    const tenth = { currencyCode: "EUR", units: 0n, nanos: 100_000_000 };
    const fifth = { currencyCode: "EUR", units: 0n, nanos: 200_000_000 };
    expect(addMoney(tenth, fifth)).toEqual({ currencyCode: "EUR", units: 0n, nanos: 300_000_000 });
  });

  it("round-trips nanos through units/nanos with one sign", () => {
    fc.assert(
      fc.property(nanoAmount, (n) => {
        const m = fromNanos("USD", n);
        expect(toNanos(m)).toBe(n);
        expect(m.units > 0n && m.nanos < 0).toBe(false);
        expect(m.units < 0n && m.nanos > 0).toBe(false);
        expect(moneyViolations("m", m)).toEqual([]);
      }),
    );
  });

  it("round-trips nanos through the exact decimal string", () => {
    fc.assert(fc.property(nanoAmount, (n) => decimalToNanos(nanosToDecimal(n)) === n));
    expect(nanosToDecimal(-1_500_000_000n)).toBe("-1.5");
    expect(nanosToDecimal(999_999_999_999_999_999_999_999_999n)).toBe("999999999999999999.999999999");
  });

  it("reads a stored decimal into the Money that decimalToNanos and fromNanos make", () => {
    const exponentForms = fc.constantFrom("1E+3", "1.25e-7", "-0.000000001", "+2.5", "-0", "0.10", ".5", "-7.");
    fc.assert(
      fc.property(fc.oneof(nanoAmount.map(nanosToDecimal), exponentForms), (text) => {
        expect(moneyFromDecimal("EUR", text)).toEqual(fromNanos("EUR", decimalToNanos(text)));
      }),
    );
    expect(() => moneyFromDecimal("EUR", "0.0000000001")).toThrow(/9 decimal places/);
  });

  it("parses DynamoDB's number forms, exponent included", () => {
    expect(decimalToNanos("1E+3")).toBe(1000n * 10n ** 9n);
    expect(decimalToNanos("1.25e-7")).toBe(125n);
    expect(decimalToNanos("-0.000000001")).toBe(-1n);
    expect(() => decimalToNanos("0.0000000001")).toThrow(/9 decimal places/);
    expect(() => decimalToNanos("abc")).toThrow();
  });

  it("parses plain decimals in any spelling: leading zeros, short or trailing-zero fractions, signs", () => {
    expect(decimalToNanos("007.5")).toBe(7_500_000_000n);
    expect(decimalToNanos("-0.10")).toBe(-100_000_000n);
    expect(decimalToNanos("-0")).toBe(0n);
    expect(decimalToNanos("+12")).toBe(12_000_000_000n);
    expect(decimalToNanos(" 3.5 ")).toBe(3_500_000_000n);
    expect(decimalToNanos("12.")).toBe(12_000_000_000n);
    expect(decimalToNanos(".5")).toBe(500_000_000n);
    expect(decimalToNanos("1.1234567890")).toBe(1_123_456_789n);
    expect(() => decimalToNanos("1.1234567891")).toThrow(/9 decimal places/);
  });

  it("names the field and rule of every violation", () => {
    expect(moneyViolations("amount", undefined)).toEqual([{ field: "amount", description: "is required" }]);
    const bad = moneyViolations("amount", { currencyCode: "eur", units: 1n, nanos: -5 });
    expect(bad.map((v) => v.field)).toEqual(["amount.currency_code", "amount.nanos"]);
    expect(moneyViolations("amount", { currencyCode: "EUR", units: 0n, nanos: 1_000_000_000 })[0]?.field).toBe(
      "amount.nanos",
    );
    expect(moneyViolations("amount", { currencyCode: "EUR", units: 0n, nanos: 0 }, { positive: true })).toEqual([
      { field: "amount", description: "must be greater than zero" },
    ]);
    expect(
      moneyViolations("amount", { currencyCode: "EUR", units: -1n, nanos: 0 }, { nonNegative: true })[0]?.description,
    ).toMatch(/negative/);
  });
});

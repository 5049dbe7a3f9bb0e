/** Protobuf messages ↔ domain values. The only place that knows both shapes. */
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { amountOutOfRange } from "../domain/errors.js";
import type { Money } from "../domain/money.js";
import type { Money as MoneyMessage } from "../gen/commerce/v1/money_pb.js";
import { MoneySchema } from "../gen/commerce/v1/money_pb.js";

export function moneyFromProto(m: MoneyMessage | undefined): Money | undefined {
  return m === undefined ? undefined : { currencyCode: m.currencyCode, units: m.units, nanos: m.nanos };
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A computed amount (a sum over many balances) can outgrow google.type.Money's int64
 * units; that is a clear OUT_OF_RANGE naming the currency, not an encoder crash later.
 */
export function moneyToProto(m: Money | undefined): MoneyMessage | undefined {
  if (m === undefined) return undefined;
  if (m.units > INT64_MAX || m.units < -INT64_MAX) {
    throw amountOutOfRange(m);
  }
  return create(MoneySchema, { currencyCode: m.currencyCode, units: m.units, nanos: m.nanos });
}

/** Stored times are ISO-8601 UTC strings (parsed without a Date: two per item read). */
export function timestampToProto(iso: string | undefined): Timestamp | undefined {
  return iso === undefined || iso === "" ? undefined : timestampFromMs(Date.parse(iso));
}

/** Protobuf messages ↔ domain values. The only place that knows both shapes. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Money as MoneyMessage } from "../gen/commerce/v1/money_pb.js";
import { MoneySchema } from "../gen/commerce/v1/money_pb.js";
import type { Money } from "../domain/money.js";

export function moneyFromProto(m: MoneyMessage | undefined): Money | undefined {
  return m === undefined ? undefined : { currencyCode: m.currencyCode, units: m.units, nanos: m.nanos };
}

export function moneyToProto(m: Money | undefined): MoneyMessage | undefined {
  return m === undefined ? undefined : create(MoneySchema, { currencyCode: m.currencyCode, units: m.units, nanos: m.nanos });
}

/** Stored times are ISO-8601 UTC strings. */
export function timestampToProto(iso: string | undefined): Timestamp | undefined {
  return iso === undefined || iso === "" ? undefined : timestampFromDate(new Date(iso));
}

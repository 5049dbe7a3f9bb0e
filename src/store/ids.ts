/** Server-made ids that sort by creation time: prefix + ULID (monotonic within a millisecond). */
import { monotonicFactory } from "ulid";

const next = monotonicFactory();

export function timeOrderedId(prefix: "ORD" | "TRF" | "ACC" | "RFD"): string {
  return `${prefix}-${next()}`;
}

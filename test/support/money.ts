/**
 * Money for requests and domain calls alike (the proto init shape and the domain type
 * share these three fields), so tests never spell the object out.
 */

const NANOS_PER_UNIT = 1_000_000_000n;

/** `money("JPY", 5n)`; `nanos` as in google.type.Money: same sign as `units`. */
export const money = (currencyCode: string, units: bigint, nanos = 0) => ({ currencyCode, units, nanos });

/** `eur(12n, 500_000_000)` is 12.50 EUR. */
export const eur = (units: bigint, nanos = 0) => money("EUR", units, nanos);

/** EUR from a total in nanos, for tests that do their sums in nanos; both parts keep its sign. */
export const eurFromNanos = (total: bigint) => eur(total / NANOS_PER_UNIT, Number(total % NANOS_PER_UNIT));

/**
 * JSON that keeps bigints exact, for results stored with an idempotency key and replayed
 * later. bigint ↔ {"$bigint": "digits"}; everything else is plain JSON.
 */
export function encodeSnapshot(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? { $bigint: v.toString() } : v));
}

export function decodeSnapshot<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === "object" && "$bigint" in v && Object.keys(v).length === 1) {
      return BigInt((v as { $bigint: string }).$bigint);
    }
    return v;
  }) as T;
}

/** Canonical JSON (sorted keys, exact bigints): equal commands give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return { $bigint: v.toString() };
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

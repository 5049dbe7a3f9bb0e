/**
 * read_mask → ProjectionExpression through an allow-list. Client paths never reach the
 * expression: each maps to attribute names we chose, always through
 * ExpressionAttributeNames (#p0, #p1, ...), so no client string becomes expression text.
 */
import { invalidField } from "../domain/errors.js";

/** proto field path → the DynamoDB attributes that hold it. */
export type ProjectionAllowList = Readonly<Record<string, readonly string[]>>;

export interface Projection {
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
}

/**
 * undefined for an empty mask (read everything). `alwaysRead` are attributes the store
 * needs whatever the mask (the key, to map the item back).
 */
export function buildProjection(
  paths: readonly string[],
  allow: ProjectionAllowList,
  alwaysRead: readonly string[],
  field = "read_mask",
): Projection | undefined {
  if (paths.length === 0) return undefined;
  const attributes = new Set(alwaysRead);
  for (const path of paths) {
    const attrs = allow[path];
    if (attrs === undefined || !Object.hasOwn(allow, path)) {
      throw invalidField(
        `${field}.paths`,
        `unknown path ${JSON.stringify(path.slice(0, 100))}; allowed: ${Object.keys(allow).join(", ")}`,
      );
    }
    for (const a of attrs) attributes.add(a);
  }
  const names: Record<string, string> = {};
  const placeholders = [...attributes].map((attr, i) => {
    names[`#p${i}`] = attr;
    return `#p${i}`;
  });
  return { ProjectionExpression: placeholders.join(", "), ExpressionAttributeNames: names };
}

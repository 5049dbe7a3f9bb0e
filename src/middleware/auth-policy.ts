/**
 * The access policy of AUTH_POLICY_FILE: the principals, how each proves who it is (the
 * SHA-256 of its bearer token, or its mTLS identity), the methods each may call, and the
 * methods open to everyone. The JSON shape is the operators' contract (README
 * "Authentication"). parsePolicy checks all of it and names the first problem by its JSON
 * path, so a bad file is refused whole: at start, or on SIGHUP, where the old policy stays.
 */
import { hash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { DescService } from "@bufbuild/protobuf";

/** How logs and metrics name a caller that proved no identity; no principal may take it. */
export const ANONYMOUS_NAME = "anonymous";

/** Open to every caller unless the file says otherwise: probes and grpcurl need them. */
export const DEFAULT_PUBLIC = Object.freeze([
  "grpc.health.v1.Health/*",
  "grpc.reflection.v1.ServerReflection/*",
  "grpc.reflection.v1alpha.ServerReflection/*",
]);

export interface Principal {
  readonly name: string;
  /** The token's SHA-256; the token itself is never kept. */
  readonly tokenSha256: Buffer | undefined;
  readonly mtlsIdentity: string | undefined;
  readonly allow: MethodPatterns;
}

/** `*`, `pkg.Service/*` and `pkg.Service/Method` entries, matched by set lookups. */
export class MethodPatterns {
  readonly #entries: ReadonlySet<string>;

  constructor(entries: readonly string[]) {
    this.#entries = new Set(entries);
  }

  matches(service: string, method: string): boolean {
    const e = this.#entries;
    return e.has("*") || e.has(`${service}/*`) || e.has(`${service}/${method}`);
  }
}

export interface Policy {
  readonly principals: readonly Principal[];
  readonly public: MethodPatterns;
  /** The principal whose token this is, compared in constant time against every hash. */
  principalOfToken(token: string): Principal | undefined;
  principalOfIdentity(identity: string): Principal | undefined;
}

export class PolicyError extends Error {
  override readonly name = "PolicyError";
}

/** Method names per service ("commerce.v1.OrderService" → CreateOrder, ...): what a pattern may name. */
export type MethodCatalog = ReadonlyMap<string, ReadonlySet<string>>;

export function methodCatalog(services: readonly DescService[]): MethodCatalog {
  return new Map(services.map((s) => [s.typeName, new Set(s.methods.map((m) => m.name))]));
}

const PRINCIPAL_KEYS = new Set(["name", "token_sha256", "mtls_identity", "allow"]);
const POLICY_KEYS = new Set(["principals", "public"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function unknownKey(value: Record<string, unknown>, allowed: ReadonlySet<string>, path: string): void {
  const extra = Object.keys(value).find((k) => !allowed.has(k));
  // A misspelt key ("alow") would otherwise silently grant or deny nothing.
  if (extra !== undefined) throw new PolicyError(`${path}: unknown key ${JSON.stringify(extra)}`);
}

/**
 * A pattern must name a method or service this server has: a typo would otherwise deny
 * (or fail to open) something without anyone noticing.
 */
function patterns(value: unknown, path: string, catalog: MethodCatalog): MethodPatterns {
  if (!Array.isArray(value)) throw new PolicyError(`${path}: expected an array of method patterns`);
  const entries = value.map((entry, i) => {
    const at = `${path}[${i}]`;
    if (typeof entry !== "string") throw new PolicyError(`${at}: expected a string`);
    if (entry === "*") return entry;
    const slash = entry.indexOf("/");
    const service = entry.slice(0, slash);
    const method = entry.slice(slash + 1);
    if (slash < 0 || method.includes("/")) {
      throw new PolicyError(`${at}: ${JSON.stringify(entry)} is not package.Service/Method, package.Service/* or *`);
    }
    const methods = catalog.get(service);
    if (methods === undefined) {
      throw new PolicyError(
        `${at}: ${JSON.stringify(entry)} names no service of this server (${[...catalog.keys()].join(", ")})`,
      );
    }
    if (method !== "*" && !methods.has(method)) {
      throw new PolicyError(`${at}: ${JSON.stringify(entry)} names no method of ${service}`);
    }
    return entry;
  });
  return new MethodPatterns(entries);
}

function principal(value: unknown, path: string, catalog: MethodCatalog): Principal {
  if (!isObject(value)) throw new PolicyError(`${path}: expected an object`);
  unknownKey(value, PRINCIPAL_KEYS, path);
  const { name, token_sha256: token, mtls_identity: identity } = value;
  if (typeof name !== "string" || !/^[A-Za-z0-9_.:@-]{1,64}$/.test(name)) {
    // The name becomes a log field and a metric label: short and plain.
    throw new PolicyError(`${path}.name: expected 1 to 64 of [A-Za-z0-9_.:@-]`);
  }
  if (name === ANONYMOUS_NAME) {
    throw new PolicyError(`${path}.name: "${ANONYMOUS_NAME}" is reserved for callers that proved no identity`);
  }
  if (token !== undefined && (typeof token !== "string" || !/^[0-9a-fA-F]{64}$/.test(token))) {
    throw new PolicyError(`${path}.token_sha256: expected 64 hex digits (the SHA-256 of the bearer token)`);
  }
  if (identity !== undefined && (typeof identity !== "string" || identity === "" || identity.length > 1024)) {
    throw new PolicyError(`${path}.mtls_identity: expected a non-empty string (a URI SAN or a subject CN)`);
  }
  if (token === undefined && identity === undefined) {
    throw new PolicyError(`${path}: needs token_sha256 or mtls_identity (how the principal proves who it is)`);
  }
  if (value["allow"] === undefined) throw new PolicyError(`${path}.allow: missing (the methods it may call)`);
  return {
    name,
    tokenSha256: token === undefined ? undefined : Buffer.from(token, "hex"),
    mtlsIdentity: identity,
    allow: patterns(value["allow"], `${path}.allow`, catalog),
  };
}

function noDuplicates(principals: readonly Principal[], key: (p: Principal) => string | undefined, what: string) {
  const seen = new Map<string, string>();
  for (const p of principals) {
    const k = key(p);
    if (k === undefined) continue;
    const other = seen.get(k);
    if (other !== undefined) throw new PolicyError(`principals ${other} and ${p.name} have the same ${what}`);
    seen.set(k, p.name);
  }
}

export function parsePolicy(text: string, catalog: MethodCatalog): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`not JSON (${(err as Error).message})`);
  }
  if (!isObject(json)) throw new PolicyError("expected a JSON object with principals (and optionally public)");
  unknownKey(json, POLICY_KEYS, "policy");
  if (!Array.isArray(json["principals"])) throw new PolicyError("principals: expected an array");
  const principals = json["principals"].map((p, i) => principal(p, `principals[${i}]`, catalog));
  noDuplicates(principals, (p) => p.name, "name");
  noDuplicates(principals, (p) => p.tokenSha256?.toString("hex"), "token_sha256");
  noDuplicates(principals, (p) => p.mtlsIdentity, "mtls_identity");
  // Omitted means the default; anything else, null included, must be a list.
  const open = patterns("public" in json ? json["public"] : DEFAULT_PUBLIC, "public", catalog);
  const withTokens = principals.filter((p) => p.tokenSha256 !== undefined);
  const byIdentity = new Map(principals.flatMap((p) => (p.mtlsIdentity ? [[p.mtlsIdentity, p] as const] : [])));
  return {
    principals,
    public: open,
    principalOfToken(token) {
      const presented = hash("sha256", token, "buffer");
      // Every hash is compared, match or not, so the time taken says nothing about which
      // (or whether any) principal matched.
      let found: Principal | undefined;
      for (const p of withTokens) {
        if (timingSafeEqual(presented, p.tokenSha256!) && found === undefined) found = p;
      }
      return found;
    },
    principalOfIdentity: (identity) => byIdentity.get(identity),
  };
}

/** Reads and parses the file; a read failure is a PolicyError too, naming the errno. */
export function readPolicyFile(file: string, catalog: MethodCatalog): Policy {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new PolicyError(`cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parsePolicy(text, catalog);
}

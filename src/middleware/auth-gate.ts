/**
 * The one authentication and authorization decision, shared by both transports: each
 * hands it what its connection and headers carry (an `authorization` header, the client
 * certificate's identity) before the request body is decoded, and puts the answer in the
 * call's context (principalKey) for the middleware (log line, metric label).
 *
 * none:  every caller is "anonymous" and may call everything (loopback only by default).
 * token: `authorization: Bearer <token>`; the token's SHA-256 names the principal.
 * mtls:  the client certificate's first URI SAN, else its subject CN, names the principal.
 */
import { createContextKey } from "@connectrpc/connect";
import { DomainError, permissionDenied, unauthenticated } from "../domain/errors.js";
import { ANONYMOUS_NAME, type Policy, type Principal } from "./auth-policy.js";

export type AuthMode = "none" | "token" | "mtls";

/** Who made a call that presented no (or no valid) credentials; also every caller in mode none. */
export const ANONYMOUS = ANONYMOUS_NAME;

/** The call's principal, as the gate decided it; read by wrapService for CallInfo. */
export const principalKey = createContextKey<string>(ANONYMOUS, { description: "authenticated principal" });

/** What a transport found on the connection and in the request headers. */
export interface Credentials {
  /** The `authorization` header (gRPC metadata or HTTP header), if any. */
  readonly authorization: string | undefined;
  /** The verified client certificate's identity (peerIdentity), if the connection has one. */
  readonly peerIdentity: string | undefined;
}

export interface AuthGate {
  readonly mode: AuthMode;
  /**
   * The principal calling `service`/`method` (e.g. "commerce.v1.OrderService",
   * "CreateOrder"); throws UNAUTHENTICATED or PERMISSION_DENIED (DomainError).
   */
  admit(service: string, method: string, credentials: Credentials): string;
  /** Swaps the policy for calls admitted from now on (SIGHUP); calls in flight keep their answer. */
  replacePolicy(policy: Policy): void;
}

/** RFC 6750: scheme case-insensitive, one space, a b64token. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function createAuthGate(mode: AuthMode, initial: Policy | undefined): AuthGate {
  if (mode !== "none" && initial === undefined) throw new Error(`AUTH_MODE=${mode} needs a policy`);
  let policy = initial;

  /** The principal the credentials prove, or why they prove none. */
  const identify = (credentials: Credentials): Principal | string => {
    if (mode === "token") {
      const header = credentials.authorization;
      if (header === undefined || header === "") return "no credentials: send authorization: Bearer <token>";
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) return "the authorization header is not a Bearer token";
      return policy!.principalOfToken(token) ?? "the bearer token belongs to no principal";
    }
    const identity = credentials.peerIdentity;
    if (identity === undefined) return "no client certificate identity (a URI SAN or subject CN)";
    // The identity itself stays out of the message: it is the caller's, of any length.
    return policy!.principalOfIdentity(identity) ?? "the client certificate's identity belongs to no principal";
  };

  return {
    mode,
    admit(service, method, credentials) {
      if (mode === "none") return ANONYMOUS;
      const found = identify(credentials);
      // Public methods answer everyone; a caller that did prove who it is still gets its name logged.
      if (policy!.public.matches(service, method)) return typeof found === "string" ? ANONYMOUS : found.name;
      if (typeof found === "string") throw unauthenticated(`${service}/${method}`, found);
      if (!found.allow.matches(service, method)) throw permissionDenied(found.name, `${service}/${method}`);
      return found.name;
    },
    replacePolicy(next) {
      policy = next;
    },
  };
}

/** Who a refused call came from: PERMISSION_DENIED names its principal, UNAUTHENTICATED nobody. */
export function refusedPrincipal(err: unknown): string | undefined {
  return DomainError.match(err, "PERMISSION_DENIED") ? err.metadata["principal"] : undefined;
}

/**
 * Principals the mode can never name (only an mtls_identity under token, only a
 * token_sha256 under mtls): legal in the file, which may serve both modes, but worth a
 * warning, since their callers will be refused.
 */
export function unusablePrincipals(mode: AuthMode, policy: Policy): string[] {
  if (mode === "none") return [];
  return policy.principals
    .filter((p) => (mode === "token" ? p.tokenSha256 === undefined : p.mtlsIdentity === undefined))
    .map((p) => p.name);
}

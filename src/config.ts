/**
 * Every setting, read from the environment once and validated. Nothing else reads
 * process.env (STYLE.md practice 7). A bad value stops the start with one line naming the
 * variable and what is allowed (ConfigError; main prints only its message).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AuthMode } from "./middleware/auth-gate.js";
import { methodCatalog, type Policy, PolicyError, readPolicyFile } from "./middleware/auth-policy.js";
import { SERVED_SERVICES } from "./transport/served-services.js";
import type { ServerTls } from "./transport/tls.js";

export type StoreMode =
  | { kind: "embedded"; dataDir: string }
  /** credentials: the caller's own when AWS_ACCESS_KEY_ID is set, else fixed local ones. */
  | { kind: "endpoint"; endpoint: string; credentials: "local" | "chain" }
  | { kind: "aws" };

/**
 * Where the data lives: the settings the server and the commerce-admin CLI share, so
 * both reach the same tables (loadStoreConfig).
 */
export interface StoreConfig {
  readonly store: StoreMode;
  readonly awsRegion: string;
  readonly tablePrefix: string;
}

export interface Config extends StoreConfig {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly httpHost: string;
  /** 0 turns the HTTP (Connect + gRPC-Web) listener off. */
  readonly httpPort: number;
  /** 0 turns /metrics off. */
  readonly metricsPort: number;
  readonly ensureTables: boolean;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  /** HMAC key of page tokens; random per process unless set (tokens then die with it). */
  readonly pageTokenSecret: Buffer;
  readonly pageTokenSecretIsEphemeral: boolean;
  readonly maxMessageBytes: number;
  readonly maxDeadlineMs: number;
  /** Both listeners serve TLS with this material when set (mTLS with a client CA). */
  readonly tls: ServerTls | undefined;
  /** Plaintext on a non-loopback address, explicitly allowed (and logged at start). */
  readonly plaintextNonLoopback: boolean;
  readonly auth: AuthSettings;
  /** OpenTelemetry traces exported over OTLP; undefined: tracing off. */
  readonly tracing: TracingConfig | undefined;
}

export interface AuthSettings {
  readonly mode: AuthMode;
  /** AUTH_POLICY_FILE, read again on SIGHUP; set exactly when mode is not none. */
  readonly policyFile: string | undefined;
  /** The policy as read at start. */
  readonly policy: Policy | undefined;
}

export interface TracingConfig {
  /**
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT. The OTLP exporter
   * reads these (and the other OTEL_EXPORTER_OTLP_* variables) itself, with the
   * specification's rules (`/v1/traces` appended to the second); here they turn tracing
   * on and are checked.
   */
  readonly otlpEndpoint: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === "" ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected an integer from ${min} to ${max}`);
  }
  return Number(raw);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected true or false`);
}

/**
 * A host to bind. An IPv6 address may be written bracketed, as in URLs (`[::1]`); it is
 * returned bare, which is what `listen` takes (a bracketed one fails with ENOTFOUND).
 * Pinned by test/unit/config-ipv6-host.test.ts.
 */
function host(env: Env, name: string, fallback: string): string {
  const v = str(env, name, fallback);
  if (/\s/.test(v))
    throw new ConfigError(`${name}=${JSON.stringify(v)} is invalid: expected a host name or IP address`);
  return /^\[[0-9A-Fa-f:.]+\]$/.test(v) ? v.slice(1, -1) : v;
}

/**
 * Real AWS is only ever chosen by `DYNAMODB_MODE=aws`, never inferred from a stray
 * AWS_REGION: a laptop with AWS credentials must not write to a real table by accident.
 */
function storeMode(env: Env): StoreMode {
  const mode = str(env, "DYNAMODB_MODE", "");
  const endpoint = str(env, "DYNAMODB_ENDPOINT", "");
  if (mode !== "" && mode !== "embedded" && mode !== "aws") {
    throw new ConfigError(`DYNAMODB_MODE=${JSON.stringify(mode)} is invalid: expected embedded or aws (or unset)`);
  }
  if (endpoint !== "") {
    if (mode !== "") throw new ConfigError("DYNAMODB_ENDPOINT and DYNAMODB_MODE are exclusive: set one of them");
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ConfigError(
        `DYNAMODB_ENDPOINT=${JSON.stringify(endpoint)} is invalid: expected an http:// or https:// URL`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError(
        `DYNAMODB_ENDPOINT=${JSON.stringify(endpoint)} is invalid: expected an http:// or https:// URL`,
      );
    }
    const ownCredentials = str(env, "AWS_ACCESS_KEY_ID", "") !== "" || str(env, "AWS_PROFILE", "") !== "";
    return { kind: "endpoint", endpoint, credentials: ownCredentials ? "chain" : "local" };
  }
  if (mode === "aws") return { kind: "aws" };
  return { kind: "embedded", dataDir: str(env, "DATA_DIR", "./var") };
}

/**
 * Tracing is on when an OTLP endpoint is set, unless OTEL_SDK_DISABLED=true (the
 * specification's switch). Only OTLP over HTTP with protobuf bodies is shipped, so another
 * OTEL_EXPORTER_OTLP_PROTOCOL stops the start instead of sending protobuf to a gRPC port.
 * Exported for src/telemetry/startup.ts, which must decide before the rest loads.
 */
/** Only the OTLP exporter we ship (HTTP + protobuf) may be asked for. */
function otlpProtocol(env: Env, name: string): void {
  const protocol = str(env, name, "http/protobuf");
  if (protocol !== "http/protobuf") {
    throw new ConfigError(`${name}=${JSON.stringify(protocol)} is invalid: only http/protobuf is supported`);
  }
}

export function tracingSettings(env: Env = process.env): TracingConfig | undefined {
  const rawDisabled = str(env, "OTEL_SDK_DISABLED", "false");
  // Case-insensitive, as the specification defines its booleans.
  const disabled = rawDisabled.toLowerCase();
  if (disabled !== "true" && disabled !== "false") {
    throw new ConfigError(`OTEL_SDK_DISABLED=${JSON.stringify(rawDisabled)} is invalid: expected true or false`);
  }
  otlpProtocol(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  otlpProtocol(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
  // The traces-only endpoint wins over the base one, as the specification says.
  const tracesOnly = str(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "");
  const name = tracesOnly !== "" ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT";
  const endpoint = tracesOnly !== "" ? tracesOnly : str(env, "OTEL_EXPORTER_OTLP_ENDPOINT", "");
  if (endpoint === "" || disabled === "true") return undefined;
  if (!/^https?:\/\/[^/]/.test(endpoint) || !URL.canParse(endpoint)) {
    throw new ConfigError(`${name}=${JSON.stringify(endpoint)} is invalid: expected an http:// or https:// URL`);
  }
  return { otlpEndpoint: endpoint };
}

function secret(env: Env): { key: Buffer; ephemeral: boolean } {
  const raw = env["PAGE_TOKEN_SECRET"];
  if (raw === undefined || raw === "") return { key: randomBytes(32), ephemeral: true };
  if (raw.length < 32) throw new ConfigError("PAGE_TOKEN_SECRET is invalid: expected at least 32 characters");
  return { key: Buffer.from(raw, "utf8"), ephemeral: false };
}

function pemFile(env: Env, name: string): Buffer | undefined {
  const file = env[name];
  if (file === undefined || file === "") return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      `${name}=${JSON.stringify(file)} is invalid: cannot read it (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

function tlsSettings(env: Env): ServerTls | undefined {
  const cert = pemFile(env, "TLS_CERT_FILE");
  const key = pemFile(env, "TLS_KEY_FILE");
  const clientCa = pemFile(env, "TLS_CLIENT_CA_FILE");
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(
      `${cert ? "TLS_KEY_FILE" : "TLS_CERT_FILE"} is missing: TLS needs both TLS_CERT_FILE and TLS_KEY_FILE`,
    );
  }
  if (clientCa && !cert)
    throw new ConfigError(
      "TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE (mTLS is TLS with client certificates)",
    );
  return cert && key ? { cert, key, clientCa } : undefined;
}

const AUTH_MODES: readonly AuthMode[] = ["none", "token", "mtls"];

/**
 * AUTH_MODE and its policy. Unset means none, which is only allowed while every
 * listener is on loopback (checked in loadConfig): exposing the service without auth
 * must be a written decision, `AUTH_MODE=none`.
 */
function authSettings(env: Env, tls: ServerTls | undefined): AuthSettings & { explicit: boolean } {
  const raw = str(env, "AUTH_MODE", "");
  if (raw !== "" && !AUTH_MODES.includes(raw as AuthMode)) {
    throw new ConfigError(`AUTH_MODE=${JSON.stringify(raw)} is invalid: expected one of ${AUTH_MODES.join(", ")}`);
  }
  const mode = (raw || "none") as AuthMode;
  const file = str(env, "AUTH_POLICY_FILE", "");
  if (mode === "none") {
    if (file !== "") {
      throw new ConfigError("AUTH_POLICY_FILE is set but AUTH_MODE is none: set AUTH_MODE=token or mtls to enforce it");
    }
    return { mode, policyFile: undefined, policy: undefined, explicit: raw !== "" };
  }
  if (file === "") throw new ConfigError(`AUTH_POLICY_FILE is missing: AUTH_MODE=${mode} needs a policy file`);
  if (mode === "mtls" && tls?.clientCa === undefined) {
    throw new ConfigError(
      "AUTH_MODE=mtls needs TLS_CERT_FILE, TLS_KEY_FILE and TLS_CLIENT_CA_FILE (client certificates name the principals)",
    );
  }
  try {
    return { mode, policyFile: file, policy: readPolicyFile(file, methodCatalog(SERVED_SERVICES)), explicit: true };
  } catch (err) {
    if (err instanceof PolicyError) {
      throw new ConfigError(`AUTH_POLICY_FILE=${JSON.stringify(file)} is invalid: ${err.message}`);
    }
    throw err;
  }
}

/** Loopback: 127.0.0.0/8, ::1, localhost. Plaintext is only allowed there by default. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The store settings alone (DYNAMODB_MODE, DYNAMODB_ENDPOINT, DATA_DIR, AWS_REGION,
 * TABLE_PREFIX): what commerce-admin needs, without the listener and TLS checks of a server.
 */
export function loadStoreConfig(env: Env = process.env): StoreConfig {
  return Object.freeze({
    store: storeMode(env),
    awsRegion: str(env, "AWS_REGION", "us-east-1"),
    tablePrefix: validPrefix(str(env, "TABLE_PREFIX", "")),
  });
}

export function loadConfig(env: Env = process.env): Config {
  const storeConfig = loadStoreConfig(env);
  const { store } = storeConfig;
  const logLevel = str(env, "LOG_LEVEL", "info");
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(logLevel)} is invalid: expected one of ${LOG_LEVELS.join(", ")}`);
  }
  const { key, ephemeral } = secret(env);
  const grpcHost = host(env, "GRPC_HOST", "127.0.0.1");
  const httpHost = host(env, "HTTP_HOST", "127.0.0.1");
  const httpPort = int(env, "HTTP_PORT", 8080, 0, 65535);
  const metricsPort = int(env, "METRICS_PORT", 9464, 0, 65535);
  const tls = tlsSettings(env);
  const plaintextNonLoopback = bool(env, "ALLOW_PLAINTEXT_NON_LOOPBACK", false);
  const { explicit: authExplicit, ...auth } = authSettings(env, tls);
  const exposed = [
    ["GRPC_HOST", grpcHost],
    ...(httpPort !== 0 || metricsPort !== 0 ? [["HTTP_HOST", httpHost]] : []),
  ].find(([, h]) => !isLoopback(h!));
  if (exposed && !authExplicit) {
    throw new ConfigError(
      `${exposed[0]}=${JSON.stringify(exposed[1])} is not a loopback address: ` +
        "set AUTH_MODE (token, mtls, or none to serve every caller) to say who may call",
    );
  }
  // Secure by default: plaintext only where nobody else can listen in.
  if (tls === undefined && !plaintextNonLoopback) {
    if (exposed) {
      throw new ConfigError(
        `${exposed[0]}=${JSON.stringify(exposed[1])} is not a loopback address: ` +
          "set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAINTEXT_NON_LOOPBACK=true",
      );
    }
  }
  return Object.freeze({
    ...storeConfig,
    grpcHost,
    grpcPort: int(env, "GRPC_PORT", 50051, 0, 65535),
    httpHost,
    httpPort,
    metricsPort,
    ensureTables: bool(env, "ENSURE_TABLES", store.kind !== "aws"),
    logLevel,
    shutdownGraceMs: int(env, "SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    pageTokenSecret: key,
    pageTokenSecretIsEphemeral: ephemeral,
    maxMessageBytes: int(env, "MAX_MESSAGE_BYTES", 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxDeadlineMs: int(env, "MAX_DEADLINE_MS", 300_000, 1_000, 3_600_000),
    tls,
    plaintextNonLoopback,
    auth: Object.freeze(auth),
    tracing: tracingSettings(env),
  });
}

function validPrefix(prefix: string): string {
  // DynamoDB table names: [a-zA-Z0-9_.-], 3-255 chars; leave room for our own names.
  if (!/^[A-Za-z0-9_.-]{0,200}$/.test(prefix)) {
    throw new ConfigError(`TABLE_PREFIX=${JSON.stringify(prefix)} is invalid: expected up to 200 of [A-Za-z0-9_.-]`);
  }
  return prefix;
}

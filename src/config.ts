/**
 * Every setting, read from the environment once and validated. Nothing else reads
 * process.env (STYLE.md practice 7). A bad value stops the start with one line naming the
 * variable and what is allowed (ConfigError; main prints only its message).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
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
  // Secure by default: plaintext only where nobody else can listen in.
  if (tls === undefined && !plaintextNonLoopback) {
    const exposed = [
      ["GRPC_HOST", grpcHost],
      ...(httpPort !== 0 || metricsPort !== 0 ? [["HTTP_HOST", httpHost]] : []),
    ].find(([, h]) => !isLoopback(h!));
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
  });
}

function validPrefix(prefix: string): string {
  // DynamoDB table names: [a-zA-Z0-9_.-], 3-255 chars; leave room for our own names.
  if (!/^[A-Za-z0-9_.-]{0,200}$/.test(prefix)) {
    throw new ConfigError(`TABLE_PREFIX=${JSON.stringify(prefix)} is invalid: expected up to 200 of [A-Za-z0-9_.-]`);
  }
  return prefix;
}

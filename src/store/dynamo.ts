/**
 * The DynamoDB clients and the one place SDK failures become domain errors. Stores run
 * every command through `StoreClient.call` (or `callAtMostOnce`, or `getItem` for a
 * single-item read, `readPage` for a page of a Query or Scan), passing the RPC's abort
 * signal, so a cancelled or expired call stops its DynamoDB work too.
 */
import { type AttributeValue, DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import {
  type BatchGetCommandInput,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  type QueryCommandInput,
  type ScanCommandInput,
  type TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { HttpRequest } from "@smithy/core/protocols";
import type { RetryErrorInfo, StandardRetryToken, UserAgentPair } from "@smithy/types";
import { UndiciHttpHandler } from "@smithy/undici-http-handler";
import { StandardRetryStrategy } from "@smithy/util-retry";
import { DomainError, storeUnavailable, throttled } from "../domain/errors.js";
import { SDK_MAX_ATTEMPTS } from "../domain/retry-policy.js";
import { createStoreBreaker, type StoreBreaker, type StoreBreakerOptions } from "../resilience/circuit-breaker.js";
import { SignalScopedHandler } from "./call-signal.js";
import {
  type BatchGetRead,
  type BatchWriteDone,
  DirectCalls,
  ITEM_MARSHALL_OPTIONS,
  ITEM_UNMARSHALL_OPTIONS,
  type PageOperation,
  type PageRead,
} from "./direct-calls.js";
import { signerBuiltOnce } from "./request-signer.js";
import { SigningSha256 } from "./signing-hash.js";
import { keyAttributesOf } from "./tables.js";

export interface StoreClientOptions {
  /** DynamoDB-compatible endpoint (embedded DynamoDB Local, or DYNAMODB_ENDPOINT); unset: AWS. */
  endpoint?: string;
  region: string;
  /**
   * "local": fixed dummy credentials (for DynamoDB Local and other local engines); "chain":
   * the SDK's default provider chain (environment, profile, role). Default "chain".
   * DynamoDB Local without -sharedDb keeps one database per access key and region, so an
   * endpoint given by the operator uses their AWS_ACCESS_KEY_ID when they set one.
   */
  credentials?: "local" | "chain";
  /**
   * SDK attempts per call (standard retry mode: exponential backoff with full jitter on
   * throttling, 5xx and network errors). Default SDK_MAX_ATTEMPTS (4): enough to ride out a short throttle,
   * small enough that a caller's deadline is not eaten by retries.
   */
  maxAttempts?: number;
  /** The circuit breaker around every call (src/resilience/circuit-breaker.ts). */
  breaker?: StoreBreakerOptions;
  /** Told of every DynamoDB operation once it ends (after the SDK's retries): for metrics. */
  onOperation?: (event: StoreOperationEvent) => void;
}

export interface StoreOperationEvent {
  /** The DynamoDB operation, e.g. "TransactWriteItems". */
  operation: string;
  durationMs: number;
  /** "OK", or the error's name (ThrottlingException, ConditionalCheckFailedException, ...). */
  outcome: string;
  /** HTTP attempts the SDK made (1 = no retry). */
  attempts: number;
}

export interface StoreClient {
  readonly doc: DynamoDBDocumentClient;
  readonly raw: DynamoDBClient;
  /**
   * Runs one SDK call (`c => c.send(new GetCommand(...), { abortSignal })`) and turns
   * throttling and unavailability into DomainErrors; other errors pass through unchanged.
   * The SDK retries throttling, 5xx and network errors: for reads, and for transactions
   * (made safe to repeat by ClientRequestToken and the idempotency record).
   */
  call<T>(fn: (doc: DynamoDBDocumentClient) => Promise<T>): Promise<T>;
  /**
   * One GetItem, as `call` would run it with a GetCommand, through a client that resolves
   * its SDK middleware once rather than per call: the item, or undefined.
   */
  getItem(input: GetCommandInput, signal: AbortSignal | undefined): Promise<Record<string, unknown> | undefined>;
  /** One page of a Query or Scan (document client form), read as `getItem` reads an item. */
  readPage(
    operation: PageOperation,
    input: QueryCommandInput | ScanCommandInput,
    signal: AbortSignal | undefined,
  ): Promise<PageRead>;
  /** One BatchGetItem (document client form), sent as `getItem` sends a read. */
  batchGet(input: BatchGetCommandInput, signal: AbortSignal | undefined): Promise<BatchGetRead>;
  /** One BatchWriteItem of unconditional puts and deletes (document client form), sent as `getItem` sends a read. */
  batchWrite(input: BatchWriteCommandInput, signal: AbortSignal | undefined): Promise<BatchWriteDone>;
  /**
   * One TransactWriteItems (document client form), sent as `getItem` sends a read, and
   * retried by the SDK as `call` would retry it: give it a ClientRequestToken.
   */
  transactWrite(input: TransactWriteCommandInput, signal: AbortSignal | undefined): Promise<void>;
  /**
   * The same for a single write that is not safe to repeat (a conditional put, an
   * increment): the SDK retries only throttling, which DynamoDB guarantees was not
   * applied. After a 5xx or a lost connection the write may or may not have happened, so
   * the caller is told so (STORE_UNAVAILABLE) instead of the SDK applying it twice or
   * turning our own first success into a false "already exists".
   */
  callAtMostOnce<T>(fn: (doc: DynamoDBDocumentClient) => Promise<T>): Promise<T>;
  /** A cheap data-plane read of a key that never exists in `table` (one of ours): resolves if the store answers. */
  ping(table: string, signal?: AbortSignal): Promise<void>;
  /** The breaker's state, for health and metrics. */
  readonly breaker: Pick<StoreBreaker, "state" | "onChange">;
  destroy(): void;
}

export function createStoreClient(options: StoreClientOptions): StoreClient {
  // The SDK's undici handler instead of its node:http one: about a sixth less client CPU
  // per call (README, Performance). One handler, so every client below shares one
  // connection pool; undici keeps connections alive and reuses them by default. Its own
  // pool (Agent options given), not undici's process-wide one that fetch() shares, and at
  // most 50 connections to the endpoint, as the SDK's default handler (maxSockets).
  const http = new UndiciHttpHandler({ dispatcher: { connections: 50 } });
  const maxAttempts = options.maxAttempts ?? SDK_MAX_ATTEMPTS;
  const sdkClient = (settings: Partial<DynamoDBClientConfig>): DynamoDBClient => {
    const client: DynamoDBClient = new DynamoDBClient({
      region: options.region,
      maxAttempts,
      retryMode: "standard",
      requestHandler: http,
      sha256: SigningSha256,
      signer: signerBuiltOnce(() => client.config),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      // DynamoDB Local accepts any credentials; fixed ones keep a developer's real AWS
      // credentials out of requests to it.
      ...(options.credentials === "local" ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
      ...settings,
    });
    // No SDK logger is configured, yet the SDK's logger middleware still builds what it
    // would log — a copy of every input and output with sensitive fields masked, every
    // item of a Scan page included — and hands it to its default no-op logger: since that
    // logger gained an `info` method, the middleware does this on every call
    // (aws/aws-sdk-js-v3#3846). The document clients share these stacks.
    client.middlewareStack.remove("loggerMiddleware");
    buildUserAgentOnce(client);
    return client;
  };
  // Fresh objects for each document client: lib-dynamodb writes its own defaults into
  // the options it is given (convertTopLevelContainer, which would make our own marshall
  // of a key wrap it in {M: ...}).
  const translation = () => ({
    marshallOptions: { ...ITEM_MARSHALL_OPTIONS },
    unmarshallOptions: { ...ITEM_UNMARSHALL_OPTIONS },
  });
  const report = options.onOperation;
  const raw = sdkClient({});
  const doc = DynamoDBDocumentClient.from(raw, translation());
  const rawOnce = sdkClient({ retryStrategy: new ThrottlingOnlyRetryStrategy(maxAttempts) });
  const docOnce = DynamoDBDocumentClient.from(rawOnce, translation());
  if (report) for (const client of [raw, rawOnce]) observeOperations(client, report);
  // Reads of an item or a page, batches and transactions, the commonest calls, send their
  // first attempt themselves (direct-calls.ts) and go through the SDK on a client that
  // resolves its middleware once per command (call-signal.ts says why the signal travels
  // apart). The document client refuses `cacheMiddleware`, so this one is raw and the
  // calls marshal and unmarshal their items themselves, with the document clients'
  // options. Its retry quota (which throttled retries drain) is its own: the other
  // clients' calls draw on theirs.
  const direct = sdkClient({ cacheMiddleware: true, requestHandler: new SignalScopedHandler(http) });
  const directCalls = new DirectCalls(direct, http, maxAttempts);
  const breaker = createStoreBreaker(options.breaker);
  /** A direct call, reported as an operation when operations are observed. */
  const timed = <T extends { attempts: number }>(operation: string, send: () => Promise<T>): Promise<T> =>
    report ? timedOperation(report, operation, send, (r) => r.attempts) : send();
  /** One SDK call through the breaker, its failures classified (classifySdkError). */
  const guarded = <T>(send: () => Promise<T>, classify: { writeOutcomeUnknown?: boolean } = {}): Promise<T> =>
    breaker.run(async () => {
      try {
        return await send();
      } catch (err) {
        throw classifySdkError(err, classify);
      }
    });
  // A document client's destroy() does nothing: the clients it wraps are destroyed here.
  const sdkClients = [raw, rawOnce, direct];
  return {
    doc,
    raw,
    call: (fn) => guarded(() => fn(doc)),
    getItem: (input, signal) =>
      guarded(async () => (await timed("GetItem", () => directCalls.item(input, signal))).item),
    readPage: (operation, input, signal) =>
      guarded(() => timed(operation, () => directCalls.page(operation, input, signal))),
    batchGet: (input, signal) => guarded(() => timed("BatchGetItem", () => directCalls.batchGet(input, signal))),
    batchWrite: (input, signal) => guarded(() => timed("BatchWriteItem", () => directCalls.batchWrite(input, signal))),
    transactWrite: async (input, signal) => {
      await guarded(() => timed("TransactWriteItems", () => directCalls.transactWrite(input, signal)));
    },
    callAtMostOnce: (fn) => guarded(() => fn(docOnce), { writeOutcomeUnknown: true }),
    async ping(table, signal) {
      const request = pingRequest(table);
      await this.call((d) => d.send(new GetCommand(request), withSignal(signal)));
    },
    breaker,
    destroy() {
      breaker.shutdown();
      for (const client of sdkClients) client.destroy();
    },
  };
}

/**
 * The probe's read: every key attribute of `table` set to a value no item has. A key
 * missing one of the table's attributes would be a ValidationException, i.e. a failed
 * probe against a healthy store (test/store/ping-request.test.ts).
 */
export function pingRequest(table: string): GetCommandInput {
  const attributes = keyAttributesOf(table);
  if (attributes === undefined) throw new Error(`cannot probe ${table}: not one of the service's tables`);
  return { TableName: table, Key: Object.fromEntries(attributes.map((a) => [a, "__health_probe__"])) };
}

/**
 * The SDK's user-agent middleware rebuilds the same header on every call (awaiting its
 * providers, escaping every section, probing the call's features): about a tenth of a
 * GetItem's client CPU here. The header only tells AWS which SDK is calling, so this one
 * builds it once per client from the SDK's own default sections, in the SDK's format
 * (`aws-sdk-js/3.x ua/2.1 os/linux#6.18 lang/js md/nodejs#24.21.0 api/dynamodb#3.x`),
 * leaving out only the per-call feature list (`m/...`).
 */
function buildUserAgentOnce(client: DynamoDBClient): void {
  client.middlewareStack.remove("getUserAgentMiddleware");
  let header: Promise<string> | undefined;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (HttpRequest.isInstance(args.request)) {
        header ??= client.config.defaultUserAgentProvider().then((pairs) => pairs.map(userAgentSection).join(" "));
        args.request.headers["user-agent"] = await header;
      }
      return next(args);
    },
    { step: "build", name: "commerceUserAgent" },
  );
}

/** ["os/linux", "6.18"] → "os/linux#6.18", ["aws-sdk-js", "3.1"] → "aws-sdk-js/3.1", as the SDK's (unexported) escapeUserAgent. */
function userAgentSection([name, version]: UserAgentPair): string {
  const parts = name.split("/").map((part) => part.replace(/[^!$%&'*+\-.^_`|~\w]/g, "-"));
  if (parts[0] === "api" && parts[1] !== undefined) parts[1] = parts[1].toLowerCase();
  const escapedName = parts.join("/");
  if (version === undefined) return escapedName;
  const escapedVersion = version.replace(/[^!$%&'*+\-.^_`|~\w#]/g, "-");
  return `${escapedName}${escapedName.includes("/") ? "#" : "/"}${escapedVersion}`;
}

const operationNames = new Map<string | undefined, string>();

/** "GetItemCommand" → "GetItem", worked out once per command. */
function operationName(commandName: string | undefined): string {
  let name = operationNames.get(commandName);
  if (name === undefined) {
    name = String(commandName ?? "unknown").replace(/Command$/, "");
    operationNames.set(commandName, name);
  }
  return name;
}

/** Times each operation around the SDK's retries ("initialize" wraps the whole call). */
function observeOperations(client: DynamoDBClient, report: (event: StoreOperationEvent) => void): void {
  client.middlewareStack.add(
    (next, context) => (args) =>
      timedOperation(
        report,
        operationName(context.commandName),
        () => next(args),
        (out) => (out.output as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1,
      ),
    { step: "initialize", name: "commerceOperationMetrics" },
  );
}

/** Runs one operation and reports it, with the attempts its result or error says were made. */
async function timedOperation<T>(
  report: (event: StoreOperationEvent) => void,
  operation: string,
  run: () => Promise<T>,
  attemptsOf: (result: T) => number,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await run();
    report({ operation, durationMs: performance.now() - started, outcome: "OK", attempts: attemptsOf(result) });
    return result;
  } catch (err) {
    const attempts = (err as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
    report({
      operation,
      durationMs: performance.now() - started,
      outcome: err instanceof Error ? err.name : "Error",
      attempts,
    });
    throw err;
  }
}

/** The SDK's per-call options carrying the RPC's abort signal. */
export function withSignal(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

/**
 * The item as it was when a condition failed (ReturnValuesOnConditionCheckFailure), from
 * the raw AttributeValues the SDK leaves on the error; numbers stay exact (wrapNumbers).
 */
export function itemAtFailure(raw: Record<string, AttributeValue> | undefined): Record<string, unknown> | undefined {
  return raw ? unmarshall(raw, ITEM_UNMARSHALL_OPTIONS) : undefined;
}

const THROTTLING = new Set(["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"]);
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/**
 * SDK v3 error → DomainError for the failures a caller can do something about (retry
 * later); anything else is returned unchanged for the store to interpret (conditional
 * checks, cancellations) or for the error mapping to report as INTERNAL. Checked by
 * `name` and HTTP status, never SDK v2's `code`.
 */
export function classifySdkError(err: unknown, options: { writeOutcomeUnknown?: boolean } = {}): unknown {
  if (!(err instanceof Error) || err instanceof DomainError) return err;
  if (err.name === "AbortError") return err;
  if (THROTTLING.has(err.name)) {
    return throttled(err);
  }
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (err as { code?: string }).code;
  if (
    err.name === "InternalServerError" ||
    err.name === "ServiceUnavailable" ||
    err.name === "TimeoutError" ||
    (status !== undefined && status >= 500) ||
    (code !== undefined && NETWORK_CODES.has(code))
  ) {
    return storeUnavailable(err, options.writeOutcomeUnknown);
  }
  return err;
}

/**
 * The SDK's standard strategy, but giving up on anything except throttling. Throttled
 * requests are rejected before DynamoDB applies them, so repeating them is always safe.
 */
class ThrottlingOnlyRetryStrategy extends StandardRetryStrategy {
  override refreshRetryTokenForRetry(token: StandardRetryToken, info: RetryErrorInfo): Promise<StandardRetryToken> {
    if (info.errorType !== "THROTTLING") return Promise.reject(info.error ?? new Error("not retried: outcome unknown"));
    return super.refreshRetryTokenForRetry(token, info);
  }
}

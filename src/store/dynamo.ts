/**
 * The DynamoDB client and the one place SDK failures become domain errors. Stores run
 * every command through `StoreClient.call`, passing the RPC's abort signal, so a
 * cancelled or expired call stops its DynamoDB work too.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { createStoreBreaker, type StoreBreaker, type StoreBreakerOptions } from "../resilience/circuit-breaker.js";
import { DomainError } from "./errors.js";

export interface StoreClientOptions {
  /** DynamoDB-compatible endpoint (embedded DynamoDB Local, or DYNAMODB_ENDPOINT); unset: AWS. */
  endpoint?: string;
  region: string;
  /**
   * SDK attempts per call (standard retry mode: exponential backoff with full jitter on
   * throttling, 5xx and network errors). Default 4: enough to ride out a short throttle,
   * small enough that a caller's deadline is not eaten by retries.
   */
  maxAttempts?: number;
  /** The circuit breaker around every call (src/resilience/circuit-breaker.ts). */
  breaker?: StoreBreakerOptions;
}

export interface StoreClient {
  readonly doc: DynamoDBDocumentClient;
  readonly raw: DynamoDBClient;
  /**
   * Runs one SDK call (`c => c.send(new GetCommand(...), { abortSignal })`) and turns
   * throttling and unavailability into DomainErrors; other errors pass through unchanged.
   */
  call<T>(fn: (doc: DynamoDBDocumentClient) => Promise<T>): Promise<T>;
  /** A cheap data-plane read of a key that never exists in `table`: resolves if the store answers. */
  ping(table: string, signal?: AbortSignal): Promise<void>;
  /** The breaker's state, for health and metrics. */
  readonly breaker: Pick<StoreBreaker, "state" | "onChange">;
  destroy(): void;
}


export function createStoreClient(options: StoreClientOptions): StoreClient {
  const config: DynamoDBClientConfig = {
    region: options.region,
    maxAttempts: options.maxAttempts ?? 4,
    retryMode: "standard",
  };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    // DynamoDB Local accepts any credentials; fixed ones keep a developer's real AWS
    // credentials out of requests to it.
    config.credentials = { accessKeyId: "local", secretAccessKey: "local" };
  }
  const raw = new DynamoDBClient(config);
  const doc = DynamoDBDocumentClient.from(raw, {
    // Every number read back as a NumberValue string: exact for money and int64.
    unmarshallOptions: { wrapNumbers: true },
    marshallOptions: { removeUndefinedValues: true },
  });
  const breaker = createStoreBreaker(options.breaker);
  return {
    doc,
    raw,
    call<T>(fn: (doc: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
      return breaker.run(async () => {
        try {
          return await fn(doc);
        } catch (err) {
          throw classifySdkError(err);
        }
      });
    },
    async ping(table, signal) {
      await this.call((d) =>
        d.send(new GetCommand({ TableName: table, Key: { request_id: "__health_probe__" } }), signal ? { abortSignal: signal } : {}),
      );
    },
    breaker,
    destroy() {
      breaker.shutdown();
      doc.destroy();
      raw.destroy();
    },
  };
}

const THROTTLING = new Set([
  "ThrottlingException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
]);
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
export function classifySdkError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof DomainError) return err;
  if (err.name === "AbortError") return err;
  if (THROTTLING.has(err.name)) {
    return new DomainError("THROTTLED", "the store is throttling requests; retry later", {
      retryAfterMs: 1000,
      cause: err,
    });
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
    return new DomainError("STORE_UNAVAILABLE", "the store is unavailable; retry later", {
      retryAfterMs: 1000,
      cause: err,
    });
  }
  return err;
}

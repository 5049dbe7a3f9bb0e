/**
 * The store's commonest calls — reads of an item (GetItem) or a page (Query, Scan), batches
 * (BatchGetItem, BatchWriteItem) and transactions (TransactWriteItems) — with their first
 * attempt sent in one step instead of through the SDK's middleware stack. These are the
 * calls the store may send again (reads; unconditional puts and deletes; transactions
 * with a ClientRequestToken), which is what lets the SDK take over any attempt below.
 *
 * Why: the SDK's per-call pipeline (schema serializer and deserializer, endpoint rules,
 * retry bookkeeping, ten-odd async layers, three copies of its resolved configuration)
 * cost about 450 µs of CPU per GetItem here, against about 200 µs for the HTTP request
 * itself: measured in one process against DynamoDB Local, the SDK read took 1.1 ms at
 * p50 where the same request sent and signed as below took 0.67 ms (README, Performance).
 * A page pays the deserializer's walk over every attribute of every item on top, and the
 * document client's second walk to translate them; a write, the serializer's walk and the
 * document client's over every item it writes, and (through the document client, which
 * cannot cache its middleware) the whole middleware stack resolved again for every call.
 *
 * What stays the SDK's: the first call of each operation on each set of tables goes
 * through it whole, and a small middleware notes the request it built (endpoint, host,
 * target, user agent) and the auth scheme it chose; later calls send that request again
 * with their own body, signed as the client's own signer signs (direct-signer.ts: the
 * client's credentials, its clock-skew offset, and the offset sampled again from each
 * answer's Date header by the SDK's AwsSdkSigV4Signer), through the client's own HTTP
 * handler. Only a 200 is finished here: any other answer, or a failure to send, is handed
 * to the SDK as its own first attempt's (call-signal.ts), so error typing, clock-skew
 * correction, Retry-After and retries with backoff are the SDK's, counted as if it had
 * sent that attempt. A
 * success is recorded with the client's retry strategy, as the SDK's retry middleware
 * records one (it refills the retry quota that throttling drains). One difference: the
 * SDK's retries carry an invocation id (amz-sdk-invocation-id) of their own, not the
 * first attempt's.
 *
 * Everything the SDK would fill in or check for these calls is done here the same way:
 * the document client's marshalling, with its options; a transaction's ClientRequestToken
 * (an idempotency token: the SDK makes a random one when none is given); binary values,
 * which the SDK sends as base64, leave the call to the SDK. test/store/direct-writes.test.ts
 * requires, for every operation, the same request body as the SDK's for the same input.
 *
 * A call inside a traced RPC goes through the SDK too, so that
 * @opentelemetry/instrumentation-aws-sdk records its DynamoDB span as for every other call.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { text as streamText } from "node:stream/consumers";
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { AwsSdkSigV4Signer } from "@aws-sdk/core/httpAuthSchemes";
import type {
  BatchGetCommandInput,
  BatchWriteCommandInput,
  GetCommandInput,
  QueryCommandInput,
  ScanCommandInput,
  TransactWriteCommandInput,
} from "@aws-sdk/lib-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { trace } from "@opentelemetry/api";
import { type HttpHandler, HttpRequest, type HttpResponse } from "@smithy/core/protocols";
import { INVOCATION_ID_HEADER, REQUEST_HEADER } from "@smithy/core/retry";
import { fromBase64 } from "@smithy/core/serde";
import { GENERATED_HEADERS } from "@smithy/signature-v4";
import type { AuthScheme, HttpHandlerOptions } from "@smithy/types";
import { abortError, type FirstAttempt, untilAborted, withCallSignal } from "./call-signal.js";
import { signDirectCall } from "./direct-signer.js";

/** Every number read back as a NumberValue string: exact for money and int64. */
export const ITEM_UNMARSHALL_OPTIONS = Object.freeze({ wrapNumbers: true });
export const ITEM_MARSHALL_OPTIONS = Object.freeze({ removeUndefinedValues: true });

/** What the SDK built for a call of an operation on a set of tables, less what belongs to one request. */
interface Route {
  protocol: string;
  hostname: string;
  port: number | undefined;
  path: string;
  headers: Record<string, string>;
  /** The endpoint's SigV4 auth scheme (signing region and name), if it names one. */
  authScheme: AuthScheme | undefined;
}

/** For its successHandler: the SDK's clock-offset sampling from an answer's Date header. */
const SIGV4 = new AwsSdkSigV4Signer();

/**
 * Headers set per request (length, date, signature, retry bookkeeping, and the trace
 * headers the SDK takes from a Lambda invocation): never copied. (Outside Lambda, where
 * this service runs, the SDK sets no trace header.)
 */
const PER_REQUEST_HEADERS = new Set([
  "content-length",
  ...GENERATED_HEADERS,
  "x-amz-security-token",
  "x-amz-content-sha256",
  INVOCATION_ID_HEADER,
  REQUEST_HEADER,
  "x-amzn-trace-id",
  "traceparent",
  "tracestate",
  "baggage",
]);

/**
 * The service's calls make a few dozen routes (each read of each table, each kind of
 * transaction). The bound only keeps stray names from growing the map.
 */
const MAX_ROUTES = 128;

export interface ItemRead {
  item: Record<string, unknown> | undefined;
  /** HTTP attempts made (1 = no retry). */
  attempts: number;
}

/** The reads of a page of items. */
export type PageOperation = "Query" | "Scan";

export interface PageRead {
  items: Record<string, unknown>[];
  /** Where the next page starts; undefined: the last page. */
  lastEvaluatedKey: Record<string, unknown> | undefined;
  /** Items examined, before a filter. */
  scannedCount: number | undefined;
  /** HTTP attempts made (1 = no retry). */
  attempts: number;
}

/** A BatchGetItem's answer in the document client's form: what batch.ts reads of it. */
export interface BatchGetRead {
  Responses: Record<string, Record<string, unknown>[]>;
  /** Per table, the keys left unread (with the table's read settings, as DynamoDB returns them). */
  UnprocessedKeys: Record<string, { Keys: Record<string, unknown>[] } & Record<string, unknown>>;
  attempts: number;
}

/** A BatchWriteItem's answer in the document client's form: the writes left unprocessed, per table. */
export interface BatchWriteDone {
  UnprocessedItems: Record<string, DocumentWrite[]>;
  attempts: number;
}

type DocumentWrite =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

/** The operations sent here, each with the SDK command that takes over from a first attempt. */
const SDK_COMMANDS = {
  GetItem: GetItemCommand,
  Query: QueryCommand,
  Scan: ScanCommand,
  BatchGetItem: BatchGetItemCommand,
  BatchWriteItem: BatchWriteItemCommand,
  TransactWriteItems: TransactWriteItemsCommand,
} as const;

type DirectOperation = keyof typeof SDK_COMMANDS;

type AttributeMap = Record<string, AttributeValue>;

/** A call's answer in DynamoDB's own form, binary values as bytes: what the SDK's client returns. */
interface WireAnswer {
  Item?: AttributeMap;
  Items?: AttributeMap[];
  LastEvaluatedKey?: AttributeMap;
  ScannedCount?: number;
  Responses?: Record<string, AttributeMap[]>;
  UnprocessedKeys?: Record<string, { Keys?: AttributeMap[] }>;
  UnprocessedItems?: Record<string, { PutRequest?: { Item?: AttributeMap }; DeleteRequest?: { Key?: AttributeMap } }[]>;
}

/** A call in DynamoDB's own form, and every attribute map in it (to tell whether any holds bytes). */
interface WireCall {
  input: Record<string, unknown>;
  values: AttributeMap[];
}

export class DirectCalls {
  readonly #routes = new Map<string, Route>();

  /**
   * `client` must send through a SignalScopedHandler wrapping `http`, and resolve its
   * middleware once (`cacheMiddleware`): its stack is told to note each call's route.
   */
  constructor(
    private readonly client: DynamoDBClient,
    private readonly http: HttpHandler,
    private readonly maxAttempts: number,
  ) {
    noteRoutes(client, this.#routes);
  }

  /** One GetItem, in the document client's form: the item or undefined. */
  async item(input: GetCommandInput, signal: AbortSignal | undefined): Promise<ItemRead> {
    const { Key, ...rest } = input;
    const wire: WireCall = { input: { ...rest }, values: [] };
    marshalInto(wire, wire.input, "Key", Key);
    const { answer, attempts } = await this.#call("GetItem", wire, signal);
    return { item: answer.Item === undefined ? undefined : unmarshalled(answer.Item), attempts };
  }

  /** One page of a Query or Scan, in the document client's form. */
  async page(
    operation: PageOperation,
    input: QueryCommandInput | ScanCommandInput,
    signal: AbortSignal | undefined,
  ): Promise<PageRead> {
    const { ExclusiveStartKey, ExpressionAttributeValues, ...rest } = input;
    // The legacy conditions carry values the document client would marshal: the store
    // writes expressions, whose values are marshalled here.
    if ("KeyConditions" in rest || "QueryFilter" in rest || "ScanFilter" in rest) {
      throw new Error("readPage takes expressions (KeyConditionExpression, FilterExpression), not legacy conditions");
    }
    const wire: WireCall = { input: { ...rest }, values: [] };
    marshalInto(wire, wire.input, "ExclusiveStartKey", ExclusiveStartKey);
    marshalInto(wire, wire.input, "ExpressionAttributeValues", ExpressionAttributeValues);
    const { answer, attempts } = await this.#call(operation, wire, signal);
    return {
      items: (answer.Items ?? []).map(unmarshalled),
      lastEvaluatedKey: answer.LastEvaluatedKey === undefined ? undefined : unmarshalled(answer.LastEvaluatedKey),
      scannedCount: answer.ScannedCount,
      attempts,
    };
  }

  /** One BatchGetItem, in the document client's form. */
  async batchGet(input: BatchGetCommandInput, signal: AbortSignal | undefined): Promise<BatchGetRead> {
    const { RequestItems, ...rest } = input;
    const wire: WireCall = { input: { ...rest }, values: [] };
    const requestItems: Record<string, unknown> = {};
    for (const [table, { Keys, ...read }] of Object.entries(RequestItems ?? {})) {
      const keys = (Keys ?? []).map((key) => marshalled(key));
      wire.values.push(...keys);
      requestItems[table] = { ...read, Keys: keys };
    }
    wire.input["RequestItems"] = requestItems;
    const { answer, attempts } = await this.#call("BatchGetItem", wire, signal);
    const Responses: BatchGetRead["Responses"] = {};
    for (const [table, items] of Object.entries(answer.Responses ?? {})) Responses[table] = items.map(unmarshalled);
    const UnprocessedKeys: BatchGetRead["UnprocessedKeys"] = {};
    for (const [table, left] of Object.entries(answer.UnprocessedKeys ?? {})) {
      UnprocessedKeys[table] = { ...left, Keys: (left.Keys ?? []).map(unmarshalled) };
    }
    return { Responses, UnprocessedKeys, attempts };
  }

  /** One BatchWriteItem, in the document client's form: the writes DynamoDB left unprocessed. */
  async batchWrite(input: BatchWriteCommandInput, signal: AbortSignal | undefined): Promise<BatchWriteDone> {
    const { RequestItems, ...rest } = input;
    const wire: WireCall = { input: { ...rest }, values: [] };
    const requestItems: Record<string, unknown[]> = {};
    for (const [table, writes] of Object.entries(RequestItems ?? {})) {
      requestItems[table] = writes.map(({ PutRequest, DeleteRequest }) => {
        const out: Record<string, Record<string, unknown>> = {};
        if (PutRequest !== undefined) {
          out["PutRequest"] = { ...PutRequest };
          marshalInto(wire, out["PutRequest"], "Item", PutRequest.Item);
        }
        if (DeleteRequest !== undefined) {
          out["DeleteRequest"] = { ...DeleteRequest };
          marshalInto(wire, out["DeleteRequest"], "Key", DeleteRequest.Key);
        }
        return out;
      });
    }
    wire.input["RequestItems"] = requestItems;
    const { answer, attempts } = await this.#call("BatchWriteItem", wire, signal);
    const UnprocessedItems: BatchWriteDone["UnprocessedItems"] = {};
    for (const [table, writes] of Object.entries(answer.UnprocessedItems ?? {})) {
      UnprocessedItems[table] = writes.map((write) =>
        write.PutRequest !== undefined
          ? { PutRequest: { Item: unmarshalled(write.PutRequest.Item ?? {}) } }
          : { DeleteRequest: { Key: unmarshalled(write.DeleteRequest?.Key ?? {}) } },
      );
    }
    return { UnprocessedItems, attempts };
  }

  /** One TransactWriteItems (document client form); its ClientRequestToken made as the SDK makes one if none is given. */
  async transactWrite(
    input: TransactWriteCommandInput,
    signal: AbortSignal | undefined,
  ): Promise<{ attempts: number }> {
    const { TransactItems, ClientRequestToken, ...rest } = input;
    const wire: WireCall = { input: { ...rest }, values: [] };
    wire.input["TransactItems"] = (TransactItems ?? []).map((transactItem) => {
      const out: Record<string, unknown> = {};
      for (const [kind, write] of Object.entries(transactItem) as [string, Record<string, unknown> | undefined][]) {
        if (write === undefined) continue;
        const { Item, Key, ExpressionAttributeValues, ...plain } = write;
        const wireWrite: Record<string, unknown> = { ...plain };
        marshalInto(wire, wireWrite, "Item", Item as Record<string, unknown> | undefined);
        marshalInto(wire, wireWrite, "Key", Key as Record<string, unknown> | undefined);
        marshalInto(
          wire,
          wireWrite,
          "ExpressionAttributeValues",
          ExpressionAttributeValues as Record<string, unknown> | undefined,
        );
        out[kind] = wireWrite;
      }
      return out;
    });
    wire.input["ClientRequestToken"] = ClientRequestToken ?? randomUUID();
    const { attempts } = await this.#call("TransactWriteItems", wire, signal);
    return { attempts };
  }

  async #call(
    operation: DirectOperation,
    wire: WireCall,
    signal: AbortSignal | undefined,
  ): Promise<{ answer: WireAnswer; attempts: number }> {
    const route = this.#routes.get(routeKey(operation, wire.input));
    // A binary value would need base64 on the wire: the SDK's serializer does that.
    if (route === undefined || traced() || wire.values.some(holdsBinaryValue)) {
      return this.#viaSdk(operation, wire.input, signal, undefined);
    }
    if (signal?.aborted) throw abortError(signal);
    const body = JSON.stringify(wire.input);
    const { config } = this.client;
    const request = new HttpRequest({
      method: "POST",
      protocol: route.protocol,
      hostname: route.hostname,
      ...(route.port === undefined ? {} : { port: route.port }),
      path: route.path,
      headers: {
        ...route.headers,
        "content-length": String(Buffer.byteLength(body)),
        [INVOCATION_ID_HEADER]: randomUUID(),
        [REQUEST_HEADER]: `attempt=1; max=${this.maxAttempts}`,
      },
      body,
    });
    // Signed as the client's signer would sign it (direct-signer.ts). A credentials refresh
    // can take a while: an abort ends the wait, as it would on the SDK's path.
    const signing = await untilAborted(
      signal,
      signDirectCall(request as HttpRequest & { body: string }, config, route.authScheme, route.headers),
    );
    const options: HttpHandlerOptions = signal === undefined ? {} : { abortSignal: signal };
    const target = String(route.headers["x-amz-target"]);
    let response: HttpResponse;
    try {
      ({ response } = await this.http.handle(request, options));
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      return this.#viaSdk(operation, wire.input, signal, { target, error });
    }
    if (response.statusCode !== 200) return this.#viaSdk(operation, wire.input, signal, { target, response });
    let answer: WireAnswer;
    try {
      const text = await bodyText(response.body, config.streamCollector);
      // An empty body is an empty answer (no item, no items), as the SDK's deserializer reads it.
      answer = text === "" ? {} : (JSON.parse(text) as WireAnswer);
      if (text.includes('"B')) decodeAnswer(answer);
    } catch (error) {
      // A body cut short (or not JSON) is that attempt's failure: the SDK decides on a
      // retry, which every call here may be sent again for.
      if (signal?.aborted) throw abortError(signal);
      return this.#viaSdk(operation, wire.input, signal, { target, error });
    }
    SIGV4.successHandler(response, signing);
    const strategy = await config.retryStrategy();
    if ("acquireInitialRetryToken" in strategy) strategy.recordSuccess(await strategy.acquireInitialRetryToken(""));
    return { answer, attempts: 1 };
  }

  async #viaSdk(
    operation: DirectOperation,
    input: Record<string, unknown>,
    signal: AbortSignal | undefined,
    firstAttempt: FirstAttempt | undefined,
  ): Promise<{ answer: WireAnswer; attempts: number }> {
    // The wire form is the raw client's input. No options to send: the SDK uses its handler
    // cache only for calls made without them.
    // Typed as one of the six for `send`, which takes each of them alike.
    const Command = SDK_COMMANDS[operation] as new (input: never) => GetItemCommand;
    const send = () => this.client.send(new Command(input as never));
    const out = (await withCallSignal(signal, send, firstAttempt)) as WireAnswer & {
      $metadata: { attempts?: number };
    };
    return { answer: out, attempts: out.$metadata.attempts ?? 1 };
  }
}

/**
 * A 200's body as text. A stream body (undici's, through the service's handler) is read
 * by node's `text()` consumer. The SDK's streamCollector pipes it into a Writable and
 * waits for its `finish`: in a scratch loop of sequential GetItems against DynamoDB Local,
 * 57 µs more per read at p50 and 16 µs more CPU. Not undici's own `body.text()`, which is
 * as quick but reads without marking the body used (node's consumer reads through the
 * stream's events, which mark it), so the body's destroy waits for a setImmediate and its
 * 'close' came after the RPC had answered: undici's listener on the RPC's abort signal
 * (removed at that 'close') was still there when the call ended, which made the end of
 * every call abort the signal (grpc-call.ts, CallScope.finish) and dispatch its event.
 * A body cut short or destroyed rejects. Any other handler's body goes through the
 * collector.
 */
function bodyText(body: unknown, collect: (body: unknown) => Promise<Uint8Array>): Promise<string> {
  if (body instanceof Readable) return streamText(body);
  return collect(body).then((bytes) => Buffer.from(bytes).toString("utf8"));
}

function marshalled(values: Record<string, unknown> | undefined): AttributeMap {
  return marshall(values, ITEM_MARSHALL_OPTIONS);
}

function unmarshalled(item: AttributeMap): Record<string, unknown> {
  return unmarshall(item, ITEM_UNMARSHALL_OPTIONS);
}

/** Sets `target[field]` to `values` marshalled (left out when undefined, as the document client leaves it), noting the map in `wire`. */
function marshalInto(
  wire: WireCall,
  target: Record<string, unknown>,
  field: string,
  values: Record<string, unknown> | undefined,
): void {
  if (values === undefined) return;
  const map = marshalled(values);
  wire.values.push(map);
  target[field] = map;
}

/**
 * What a route is noted and found under: the operation and the tables it names, in the
 * order it names them (the endpoint the SDK resolves may depend on them).
 */
function routeKey(operation: DirectOperation, input: Record<string, unknown>): string {
  return `${operation} ${tablesOf(operation, input).join(" ")}`;
}

function tablesOf(operation: DirectOperation, input: Record<string, unknown>): string[] {
  switch (operation) {
    case "BatchGetItem":
    case "BatchWriteItem":
      return Object.keys((input["RequestItems"] as object | undefined) ?? {});
    case "TransactWriteItems": {
      const tables = new Set<string>();
      for (const transactItem of (input["TransactItems"] as Record<string, { TableName?: unknown }>[] | undefined) ??
        []) {
        for (const write of Object.values(transactItem)) tables.add(String(write?.TableName));
      }
      return [...tables];
    }
    default:
      return [String(input["TableName"] ?? "")];
  }
}

/** Whether the call in progress is being traced (an active span that records). */
function traced(): boolean {
  return trace.getActiveSpan()?.isRecording() === true;
}

/**
 * Notes each call's request as the SDK built it (per operation and tables), after its build
 * step (endpoint, host, target, user agent set) and before its retry and signing steps.
 * Every call that goes through the SDK notes it again, so a route the SDK would now build
 * differently is replaced at the next one.
 */
function noteRoutes(client: DynamoDBClient, routes: Map<string, Route>): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = HttpRequest.isInstance(args.request) ? args.request : undefined;
      const operation = request === undefined ? undefined : operationOf(request.headers);
      const authScheme = context.endpointV2?.properties?.["authSchemes"] as AuthScheme[] | undefined;
      const scheme = authScheme?.[0];
      // Only SigV4 is signed here; any other scheme is left to the SDK.
      if (request !== undefined && operation !== undefined && (scheme?.name ?? "sigv4") === "sigv4") {
        const { protocol, hostname, port, path, headers } = request;
        const key = routeKey(operation, args.input as Record<string, unknown>);
        if (!routes.has(key) && routes.size >= MAX_ROUTES) routes.clear();
        routes.set(key, {
          protocol,
          hostname,
          port,
          path,
          headers: Object.fromEntries(
            Object.entries(headers).filter(([name]) => !PER_REQUEST_HEADERS.has(name.toLowerCase())),
          ),
          authScheme: scheme,
        });
      }
      return next(args);
    },
    { step: "build", priority: "low", name: "commerceNoteRoute" },
  );
}

/** The operation a request's x-amz-target names (DynamoDB_20120810.GetItem), if it is one sent here. */
function operationOf(headers: Record<string, string>): DirectOperation | undefined {
  const target = headers["x-amz-target"] ?? "";
  const operation = target.slice(target.lastIndexOf(".") + 1);
  return Object.hasOwn(SDK_COMMANDS, operation) ? (operation as DirectOperation) : undefined;
}

function holdsBinaryValue(values: AttributeMap): boolean {
  return Object.values(values).some(holdsBinary);
}

/** Whether a value holds bytes (B, BS), at any depth. */
function holdsBinary(value: AttributeValue): boolean {
  if (value.B !== undefined || value.BS !== undefined) return true;
  if (value.L !== undefined) return value.L.some(holdsBinary);
  if (value.M !== undefined) return Object.values(value.M).some(holdsBinary);
  return false;
}

/** Binary values arrive as base64 on the wire; the SDK's deserializer gives bytes, and so does this. */
function decodeAnswer(answer: WireAnswer): void {
  if (answer.Item !== undefined) decodeBinary(answer.Item);
  for (const item of answer.Items ?? []) decodeBinary(item);
  if (answer.LastEvaluatedKey !== undefined) decodeBinary(answer.LastEvaluatedKey);
  for (const items of Object.values(answer.Responses ?? {})) for (const item of items) decodeBinary(item);
  for (const left of Object.values(answer.UnprocessedKeys ?? {})) for (const key of left.Keys ?? []) decodeBinary(key);
  for (const writes of Object.values(answer.UnprocessedItems ?? {})) {
    for (const write of writes) {
      if (write.PutRequest?.Item !== undefined) decodeBinary(write.PutRequest.Item);
      if (write.DeleteRequest?.Key !== undefined) decodeBinary(write.DeleteRequest.Key);
    }
  }
}

function decodeBinary(item: AttributeMap): void {
  for (const value of Object.values(item)) decodeValue(value);
}

function decodeValue(value: AttributeValue): void {
  const v = value as unknown as Record<string, unknown>;
  if (typeof v["B"] === "string") v["B"] = fromBase64(v["B"]);
  else if (Array.isArray(v["BS"])) v["BS"] = (v["BS"] as string[]).map((b) => fromBase64(b));
  else if (Array.isArray(v["L"])) for (const element of v["L"] as AttributeValue[]) decodeValue(element);
  else if (v["M"] !== null && typeof v["M"] === "object") decodeBinary(v["M"] as AttributeMap);
}

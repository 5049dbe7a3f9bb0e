/**
 * One page of a list RPC, on a table or a GSI: a Query when there is a key condition, a
 * Scan otherwise. The page token is signed and bound to the query (page-token.ts) and
 * holds the page key: the table's key, plus the index's key on a GSI, because DynamoDB
 * resumes an index read only from both. Pure builder + thin send.
 *
 * A FilterExpression is applied after DynamoDB reads, and `Limit` counts items read, not
 * items kept, so a selective filter could take many reads to fill a page. The reads of one
 * page are capped (`maxExamined`): a filtered page may come back short, with a token to
 * continue (test/store/query-page.test.ts).
 */
import type { QueryCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Stored } from "./attributes.js";
import type { StoreClient } from "./dynamo.js";
import { type DynamoKey, type PageTokenCodec, pageOf, type QueryIdentity } from "./page-token.js";
import type { Projection } from "./projection.js";

/** Items one filtered page examines at most (DynamoDB's ScannedCount, summed over its reads). */
export const MAX_EXAMINED_PER_PAGE = 1_000;
/** Items each read of a filtered page asks for at least, so a selective filter is not one item per round trip. */
const MIN_FILTERED_READ = 100;

/** One page of a list RPC, mapped to domain values. */
export interface Page<T> {
  items: T[];
  /** "" on the last page. */
  nextPageToken: string;
}

export interface QueryPageParams {
  table: string;
  /** A GSI of `table`; undefined reads the table. Reads of a GSI are never consistent (DynamoDB rejects it). */
  index?: string | undefined;
  /** The page key's attributes: the table's key, then the index's key on a GSI. Every item must carry them. */
  pageKey: readonly string[];
  /** KeyConditionExpression; undefined scans. */
  keyCondition?: string | undefined;
  /** FilterExpression. */
  filter?: string | undefined;
  names?: Record<string, string> | undefined;
  values?: Record<string, unknown> | undefined;
  /** From buildProjection; must read the page key; its placeholders (#p0, ...) must not clash with `names`. */
  projection?: Projection | undefined;
  /** Query only: DynamoDB's ScanIndexForward (false: descending sort key). Default true. */
  forward?: boolean | undefined;
  pageSize: number;
  /** What the token is bound to: the operation and every filter that changes the result. */
  query: QueryIdentity;
  pageToken: string;
  /** Cap on items examined by a filtered page. Default MAX_EXAMINED_PER_PAGE (at least pageSize + 1). */
  maxExamined?: number | undefined;
  /**
   * For a Query of the table itself (no index), its key being partition + sort key: a read
   * from a start key resumes by a condition on the start key's sort key instead of
   * sending ExclusiveStartKey (SortKeyResume says how). The same items in the same order.
   *
   * Why: DynamoDB Local finds an ExclusiveStartKey by reading the partition from its
   * start. Against it, a Query 990 orders into a customer's 1,200 took 2.35 ms at p50
   * from ExclusiveStartKey and 1.75 ms with the bound moved, page 1 1.92 ms; a
   * ListTransfers page 4,940 entries into an account's 5,000 took 4.97 ms, page 1 2.75 ms
   * (scratch, README, Performance): a list's deep pages cost more than its first, and
   * walking a whole list cost the square of its length. (DynamoDB itself is not measured
   * here.)
   */
  resumeFromSortKey?: SortKeyResume | undefined;
}

/**
 * How a read resumes from the start key's sort key (`attribute`):
 * - with `between`, the key condition bounds the sort key with `BETWEEN <low> AND <high>`
 *   (the value placeholders named there): the bound the read starts from (low forward,
 *   high backward) moves to the start key's sort key, and the start item itself, which
 *   BETWEEN includes and `Limit` counts, is dropped. The start key lies within the
 *   bounds, since the token is bound to the query.
 * - without, the key condition names the partition key alone: the read adds
 *   `attribute > start` (`<` backward), placeholders `#resume_key` and `:resume_from`,
 *   which the query's own names and values must not use.
 */
export interface SortKeyResume {
  attribute: string;
  between?: { low: string; high: string } | undefined;
}

/** One read of the page: at most `limit` items examined, from `startKey`. */
export function queryPageRequest(
  params: QueryPageParams,
  limit: number,
  startKey: DynamoKey | undefined,
): QueryCommandInput {
  const resume = resumedBySortKey(params, startKey);
  const forward = params.forward ?? true;
  let keyCondition = params.keyCondition;
  let names = { ...params.names, ...params.projection?.ExpressionAttributeNames };
  let values = params.values;
  if (resume !== undefined) {
    const { from } = resume;
    if (resume.between !== undefined) {
      values = { ...values, [forward ? resume.between.low : resume.between.high]: from };
    } else {
      keyCondition = `${keyCondition} AND #resume_key ${forward ? ">" : "<"} :resume_from`;
      names = { ...names, "#resume_key": resume.attribute };
      values = { ...values, ":resume_from": from };
    }
  }
  return {
    TableName: params.table,
    ...(params.index !== undefined ? { IndexName: params.index } : { ConsistentRead: true }),
    ...(keyCondition !== undefined ? { KeyConditionExpression: keyCondition, ScanIndexForward: forward } : {}),
    ...(params.filter !== undefined ? { FilterExpression: params.filter } : {}),
    ...(params.projection ? { ProjectionExpression: params.projection.ProjectionExpression } : {}),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(values !== undefined && Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    // A read resumed within BETWEEN reads its start item back: one more for it.
    Limit: resume?.between !== undefined ? limit + 1 : limit,
    ...(startKey !== undefined && resume === undefined ? { ExclusiveStartKey: startKey } : {}),
  };
}

/**
 * A read's items without the start item that a read resumed within BETWEEN
 * (`resumeFromSortKey` with `between`) gets back first; any other read's items as they are.
 */
export function afterStartKey<T extends Record<string, unknown>>(
  params: QueryPageParams,
  startKey: DynamoKey | undefined,
  items: T[],
): T[] {
  const resume = resumedBySortKey(params, startKey);
  if (resume?.between === undefined) return items;
  return items[0]?.[resume.attribute] === resume.from ? items.slice(1) : items;
}

/**
 * How a read from `startKey` resumes by its sort key, and from which value (`from`, the
 * start key's sort key); undefined when it sends ExclusiveStartKey instead: page 1, no
 * `resumeFromSortKey`, or a Scan (only a Query has a key condition to resume by).
 */
function resumedBySortKey(
  params: QueryPageParams,
  startKey: DynamoKey | undefined,
): (SortKeyResume & { from: unknown }) | undefined {
  const resume = params.resumeFromSortKey;
  if (resume === undefined || startKey === undefined || params.keyCondition === undefined) return undefined;
  return { ...resume, from: startKey[resume.attribute] };
}

/** The page key of an item: the `pageKey` attributes, nothing else. */
export function pageKeyOf(pageKey: readonly string[], item: Stored): DynamoKey {
  return Object.fromEntries(pageKey.map((a) => [a, item[a]]));
}

export async function queryPage(
  client: StoreClient,
  tokens: PageTokenCodec,
  params: QueryPageParams,
  signal: AbortSignal | undefined,
): Promise<Page<Stored>> {
  const wanted = params.pageSize + 1;
  const budget = Math.max(wanted, params.maxExamined ?? MAX_EXAMINED_PER_PAGE);
  const items: Stored[] = [];
  let startKey = tokens.decode(params.query, params.pageToken);
  let examined = 0;
  // Read until one item beyond the page is found (it says "there is more"), the data
  // ends, or a filtered page has examined its budget.
  do {
    const needed = wanted - items.length;
    const limit =
      params.filter === undefined ? needed : Math.min(budget - examined, Math.max(needed, MIN_FILTERED_READ));
    const request = queryPageRequest(params, limit, startKey);
    const out = await client.readPage(params.keyCondition === undefined ? "Scan" : "Query", request, signal);
    const read = afterStartKey(params, startKey, out.items);
    items.push(...read);
    // The start item a resumed read drops was examined too, but not for this page.
    examined += (out.scannedCount ?? out.items.length) - (out.items.length - read.length);
    startKey = out.lastEvaluatedKey;
  } while (startKey !== undefined && items.length < wanted && (params.filter === undefined || examined < budget));
  const page = pageOf(items, params.pageSize, startKey, (s) => pageKeyOf(params.pageKey, s));
  return { items: page.items, nextPageToken: tokens.encode(params.query, page.lastKey) };
}

/**
 * Parallel scan of a table, segment by segment, as one stream of pages with backpressure
 * (parallel-scan.ts). Pure builder + thin send.
 */
import type { ScanCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Stored } from "./attributes.js";
import type { StoreClient } from "./dynamo.js";
import { parallelScan } from "./parallel-scan.js";
import type { Projection } from "./projection.js";

export interface ScanSegmentsParams {
  table: string;
  totalSegments: number;
  /** Items read per request (before the filter); undefined: up to DynamoDB's 1 MB. */
  limit?: number | undefined;
  /** FilterExpression; its names and values go in `names` and `values`. */
  filter?: string | undefined;
  names?: Record<string, string> | undefined;
  values?: Record<string, unknown> | undefined;
  /** From buildProjection; its placeholders (#p0, ...) must not clash with `names`. */
  projection?: Projection | undefined;
}

export function scanSegmentRequest(
  params: ScanSegmentsParams,
  segment: number,
  startKey: Record<string, unknown> | undefined,
): ScanCommandInput {
  const names = { ...params.names, ...params.projection?.ExpressionAttributeNames };
  return {
    TableName: params.table,
    // A scan that reports totals (balances, counts) must not see half of a transaction.
    ConsistentRead: true,
    Segment: segment,
    TotalSegments: params.totalSegments,
    ...(params.limit !== undefined ? { Limit: params.limit } : {}),
    ...(params.filter !== undefined ? { FilterExpression: params.filter } : {}),
    ...(params.projection ? { ProjectionExpression: params.projection.ProjectionExpression } : {}),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(params.values !== undefined && Object.keys(params.values).length > 0
      ? { ExpressionAttributeValues: params.values }
      : {}),
    ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
  };
}

/** Every item of the table (that passes the filter) exactly once, in pages. */
export function scanSegments(
  client: StoreClient,
  params: ScanSegmentsParams,
  signal: AbortSignal | undefined,
): AsyncGenerator<Stored[]> {
  return parallelScan(params.totalSegments, async (segment, startKey) => {
    const request = scanSegmentRequest(params, segment, startKey);
    const page = await client.readPage("Scan", request, signal);
    return { items: page.items, lastEvaluatedKey: page.lastEvaluatedKey };
  });
}

/**
 * A parallel scan as one async stream of pages, with backpressure: each segment has at
 * most one page in flight or waiting, and a segment's next page is requested only after
 * its previous page has been taken by the consumer. Memory is bounded by
 * total_segments × one page, however large the table and however slow the client.
 */
export interface ScanPage<T> {
  items: T[];
  /** Undefined on the segment's last page. */
  lastEvaluatedKey: Record<string, unknown> | undefined;
}

/** Reads one page of one segment; `startKey` undefined for the first page. */
export type ReadSegmentPage<T> = (
  segment: number,
  startKey: Record<string, unknown> | undefined,
) => Promise<ScanPage<T>>;

interface Pending<T> {
  segment: number;
  page: Promise<{ segment: number; page: ScanPage<T> }>;
}

export async function* parallelScan<T>(
  totalSegments: number,
  readPage: ReadSegmentPage<T>,
): AsyncGenerator<T[], void, undefined> {
  const inFlight = new Map<number, Pending<T>["page"]>();
  const request = (segment: number, startKey: Record<string, unknown> | undefined) => {
    const page = readPage(segment, startKey).then((p) => ({ segment, page: p }));
    // Rejections are observed through Promise.race below; this keeps an early abort
    // (consumer gone) from surfacing as an unhandled rejection of the other segments.
    page.catch(() => undefined);
    inFlight.set(segment, page);
  };
  for (let s = 0; s < totalSegments; s++) request(s, undefined);
  while (inFlight.size > 0) {
    const { segment, page } = await Promise.race(inFlight.values());
    inFlight.delete(segment);
    if (page.items.length > 0) yield page.items;
    // Requested only now: the consumer has taken the page (the yield returned).
    if (page.lastEvaluatedKey !== undefined) request(segment, page.lastEvaluatedKey);
  }
}

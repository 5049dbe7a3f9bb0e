/**
 * `export`: every item of the chosen tables, one export line each (export-line.ts), by a
 * parallel scan whose pages are written with backpressure. parallelScan requests a
 * segment's next page only once the file stream has taken the previous one, so memory
 * holds at most one page per segment plus the stream's buffer, however large the table.
 * The file appears under its name only when complete (written to FILE.partial, renamed).
 */
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { DynamoDBClient, ScanCommandInput } from "@aws-sdk/client-dynamodb";
import { parallelScan } from "../store/parallel-scan.js";
import { scanRawPage } from "../store/raw-items.js";
import { scanSegmentRequest } from "../store/scan-segments.js";
import type { TableDefinition } from "../store/tables.js";
import { formatExportLine, type RawItem } from "./export-line.js";
import type { Progress } from "./progress.js";

export interface ExportOptions {
  out: string;
  /** Parallel scan segments per table. */
  segments: number;
  progress: Progress;
}

/** Items written per table (logical name), in definition order. */
export type TableCounts = Record<string, number>;

export async function exportTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
  options: ExportOptions,
): Promise<TableCounts> {
  const counts: TableCounts = Object.fromEntries(definitions.map((d) => [d.logicalName, 0]));
  async function* lines(): AsyncGenerator<string> {
    for (const definition of definitions) {
      const table = definition.create.TableName;
      const pages = parallelScan<RawItem>(options.segments, async (segment, startKey) => {
        // The document-client builder's request has no expression values, so it is also a
        // valid request of the raw client, which keeps every value in DynamoDB's own form.
        const request = scanSegmentRequest({ table, totalSegments: options.segments }, segment, startKey);
        return scanRawPage(client, request as ScanCommandInput);
      });
      for await (const page of pages) {
        yield page.map((item) => formatExportLine(definition.logicalName, item)).join("");
        counts[definition.logicalName]! += page.length;
        options.progress.add(page.length);
      }
    }
  }
  const partial = `${options.out}.partial`;
  try {
    await pipeline(Readable.from(lines()), createWriteStream(partial));
    await rename(partial, options.out);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return counts;
}

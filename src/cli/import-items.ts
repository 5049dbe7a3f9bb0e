/**
 * `import`: puts every item of an export file into the table its line names (under this
 * run's TABLE_PREFIX). A put overwrites the item with the same key, so importing a file
 * again leaves the same data: re-running after a partial failure is safe. Items go in
 * BatchWriteItem chunks of 25 (a key at most once per chunk), `parallel` chunks in flight,
 * Unprocessed items retried with backoff (store/batch.ts untilProcessed); an item that still
 * cannot be written is counted, never dropped silently. The file is read line by line as
 * chunks complete, so memory holds only the chunks being filled and in flight.
 */
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { DynamoDBClient, WriteRequest } from "@aws-sdk/client-dynamodb";
import { writesUnprocessed } from "../domain/errors.js";
import { IMPORT_BACKOFF } from "../domain/retry-policy.js";
import { BATCH_WRITE_LIMIT, untilProcessed } from "../store/batch.js";
import { batchWriteRaw } from "../store/raw-items.js";
import type { TableDefinition } from "../store/tables.js";
import type { TableCounts } from "./export-items.js";
import { parseExportLine, type RawItem } from "./export-line.js";
import type { Progress } from "./progress.js";

export interface ImportOptions {
  /** BatchWriteItem chunks in flight at once. */
  parallel: number;
  progress: Progress;
}

export interface ImportResult {
  /** Items written per table (logical name). */
  written: TableCounts;
  /** Items (or unreadable lines) not written. */
  failed: number;
  /** Why, one line per distinct reason, at most MAX_REASONS. */
  reasons: string[];
}

const MAX_REASONS = 10;

/** Non-empty lines of the file: the progress bar's total. One streaming pass, no parsing. */
export async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 10 && last !== 10) lines++;
      last = chunk[i]!;
    }
  }
  return last === 10 ? lines : lines + 1;
}

interface Chunk {
  definition: TableDefinition;
  items: RawItem[];
  keys: Set<string>;
}

export async function importFile(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[],
  file: string,
  options: ImportOptions,
): Promise<ImportResult> {
  const byName = new Map(definitions.map((d) => [d.logicalName, d]));
  const result: ImportResult = { written: {}, failed: 0, reasons: [] };
  const fail = (count: number, reason: string) => {
    result.failed += count;
    if (result.reasons.length < MAX_REASONS && !result.reasons.includes(reason)) result.reasons.push(reason);
    options.progress.add(count);
  };
  const filling = new Map<string, Chunk>();
  const inFlight = new Set<Promise<void>>();

  const send = (chunk: Chunk): Promise<void> => {
    const table = chunk.definition.create.TableName;
    const writes: WriteRequest[] = chunk.items.map((Item) => ({ PutRequest: { Item } }));
    return untilProcessed(
      writes,
      IMPORT_BACKOFF,
      undefined,
      async (pending) => {
        return batchWriteRaw(client, table, pending);
      },
      writesUnprocessed,
    ).then(
      () => {
        const name = chunk.definition.logicalName;
        result.written[name] = (result.written[name] ?? 0) + chunk.items.length;
        options.progress.add(chunk.items.length);
      },
      (err: unknown) => fail(chunk.items.length, `${table}: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
  const dispatch = async (chunk: Chunk) => {
    filling.delete(chunk.definition.logicalName);
    const sent = send(chunk).finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    // Reading waits here: at most `parallel` chunks in flight.
    while (inFlight.size >= options.parallel) await Promise.race(inFlight);
  };

  const input = createReadStream(file);
  // A missing or unreadable file fails here, before anything is written.
  await once(input, "open");
  let lineNumber = 0;
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNumber++;
    if (text.trim() === "") continue;
    let table: string;
    let item: RawItem;
    try {
      ({ table, item } = parseExportLine(text));
    } catch (err) {
      fail(1, `line ${lineNumber}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const definition = byName.get(table);
    if (definition === undefined) {
      fail(1, `line ${lineNumber}: unknown table ${JSON.stringify(table)}`);
      continue;
    }
    const keyAttributes = (definition.create.KeySchema ?? []).map((k) => String(k.AttributeName));
    const missing = keyAttributes.find((a) => item[a] === undefined);
    if (missing !== undefined) {
      fail(1, `line ${lineNumber}: the ${table} item has no key attribute ${missing}`);
      continue;
    }
    const key = JSON.stringify(keyAttributes.map((a) => item[a]));
    let chunk = filling.get(table);
    // DynamoDB refuses a chunk that writes one key twice. (An export holds each key once; a
    // file that holds one twice, two exports joined, gets either version.)
    if (chunk?.keys.has(key)) {
      await dispatch(chunk);
      chunk = undefined;
    }
    if (chunk === undefined) {
      chunk = { definition, items: [], keys: new Set() };
      filling.set(table, chunk);
    }
    chunk.items.push(item);
    chunk.keys.add(key);
    if (chunk.items.length === BATCH_WRITE_LIMIT) await dispatch(chunk);
  }
  for (const chunk of [...filling.values()]) await dispatch(chunk);
  await Promise.all(inFlight);
  return result;
}

/**
 * The service's logger: pino JSON lines on stdout (DESIGN.md, Observability: one line per
 * RPC), written in batches. Written one write each, as pino's default destination does,
 * the write cost more CPU than everything else an RPC's line costs (README, "Performance").
 * Lines are held until about 4 KiB are ready or 100 ms have passed since the first of
 * them, then written with one synchronous write; at exit, normal or by an uncaught error,
 * whatever is held is written before the process ends. Only a SIGKILL loses lines: those
 * of the last 100 ms at most. Nothing runs while nothing is logged.
 */
import { type DestinationStream, type Logger, pino } from "pino";

/** Characters of lines held before they are written: about 25 RPC lines. */
const BATCH_CHARS = 4096;
/** Longest a line is held, ms. */
const HOLD_MS = 100;

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "commerce" } }, batchedStdout());
}

function batchedStdout(): DestinationStream {
  // Synchronous (sonic-boom retries EAGAIN and short writes), so a batch is on its way
  // when write() returns and the exit handler below can write the last one.
  const stdout = pino.destination({ dest: 1, sync: true });
  let held = "";
  let timer: NodeJS.Timeout | undefined;
  const writeHeld = () => {
    clearTimeout(timer);
    timer = undefined;
    if (held === "") return;
    const lines = held;
    held = "";
    stdout.write(lines);
  };
  process.on("exit", writeHeld);
  return {
    write(line: string) {
      held += line;
      if (held.length >= BATCH_CHARS) writeHeld();
      else timer ??= setTimeout(writeHeld, HOLD_MS).unref();
    },
  };
}

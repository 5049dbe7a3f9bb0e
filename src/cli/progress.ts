/**
 * Progress of export and import on stderr, through cli-progress: a bar with items/s on a
 * terminal; on anything else (a pipe, a CI log) the same line every 2 s as plain text
 * (its `noTTYOutput` mode) instead of cursor movements. stdout stays for the final counts.
 */
import { SingleBar } from "cli-progress";

export interface Progress {
  /** `items` more done. */
  add(items: number): void;
  /** The expected total changed (an export's item counts are DynamoDB's estimates). */
  setTotal(total: number): void;
  /** Draws the final state and releases the terminal. */
  stop(): void;
}

export function createProgress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} items | {rate} items/s | {duration_formatted}`,
    stream,
    noTTYOutput: true,
    notTTYSchedule: 2_000,
    // The cursor stays visible: cli-progress can only restore a hidden one by catching
    // SIGINT (its gracefulExit), which would keep Ctrl-C from ending the command.
    hideCursor: false,
  });
  const started = performance.now();
  let done = 0;
  const rate = () => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? Math.round(done / seconds) : 0;
  };
  bar.start(total, 0, { rate: 0 });
  return {
    add(items) {
      done += items;
      if (done > bar.getTotal()) bar.setTotal(done);
      bar.update(done, { rate: rate() });
    },
    setTotal(value) {
      bar.setTotal(Math.max(value, done));
    },
    stop() {
      bar.setTotal(done);
      bar.update(done, { rate: rate() });
      bar.stop();
    },
  };
}

/**
 * Ends every run with the plain line "N passed, N failed, N skipped" that CI reads
 * whatever the runner (vitest's own summary is not among the formats it knows). Written
 * from onFinished, which vitest calls after its default reporter's summary, so it is the
 * last line of the run.
 */
import type { RunnerTask, RunnerTestFile } from "vitest";
import type { Reporter } from "vitest/node";

function count(tasks: readonly RunnerTask[], totals: { passed: number; failed: number; skipped: number }): void {
  for (const task of tasks) {
    if (task.type === "suite") {
      count(task.tasks, totals);
      continue;
    }
    const state = task.result?.state;
    if (state === "pass") totals.passed++;
    else if (state === "fail") totals.failed++;
    else totals.skipped++;
  }
}

export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    const totals = { passed: 0, failed: errors.length, skipped: 0 };
    for (const file of files) {
      // A file that failed to load or whose hooks failed has no passing tests to show it.
      if (file.result?.state === "fail" && file.tasks.every((t) => t.result?.state !== "fail")) totals.failed++;
      count(file.tasks, totals);
    }
    process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  }
}

/**
 * Ends every run with the plain line "N passed, N failed, N skipped" that CI reads
 * whatever the runner (vitest's own summary is not among the formats it knows). Written
 * from onTestRunEnd, which vitest calls after its default reporter's summary, so it is the
 * last line of the run.
 */
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: readonly TestModule[], errors: readonly SerializedError[]): void {
    const totals = { passed: 0, failed: errors.length, skipped: 0 };
    for (const module of modules) {
      // A file that failed to load or whose hooks failed has no failing test to show it.
      if (module.state() === "failed" && [...module.children.allTests("failed")].length === 0) totals.failed++;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") totals.passed++;
        else if (state === "failed") totals.failed++;
        else totals.skipped++;
      }
    }
    process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
  }
}

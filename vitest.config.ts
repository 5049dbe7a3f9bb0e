import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Integration tests start servers and, some, their own DynamoDB Local (a JVM: seconds).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes rather than worker threads: tests spawn and signal processes, and a
    // crash in one file cannot take the others down. Worker count stays vitest's default.
    pool: "forks",
    // The default report, then one plain "N passed, N failed" line for CI.
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        extends: true,
        // `npm run test:unit`: no JVM, no DynamoDB; seconds.
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/**/*.int.test.ts"] },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          // Starts one in-memory DynamoDB Local for the run and provides `dynamoEndpoint`.
          globalSetup: ["test/global-setup.ts"],
        },
      },
    ],
  },
});

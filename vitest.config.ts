import { defineConfig } from "vitest/config";

// The AWS SDK warns once per process (global setup included) that its 2027 releases will
// need Node 22; the stack is pinned to Node 20 and the warning is noise in test output.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts one in-memory DynamoDB Local for the run and provides `dynamoEndpoint`.
    globalSetup: ["test/global-setup.ts"],
    // Integration tests start servers and, some, their own DynamoDB Local (a JVM: seconds).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Child processes rather than worker threads: tests spawn and signal processes, and a
    // crash in one file cannot take the others down. Worker count stays vitest's default.
    pool: "forks",
    // The default report, then one plain "N passed, N failed" line for CI.
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});

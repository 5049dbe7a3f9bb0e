/**
 * Runs commerce-admin as operators do: a separate process (the TypeScript source through
 * tsx, so no build is needed), its exit code, stdout and stderr. The environment is the
 * test's own minus any store setting, plus what the test passes.
 */
import { execFile } from "node:child_process";

export interface AdminRun {
  code: number;
  stdout: string;
  stderr: string;
}

const STORE_SETTINGS = ["DYNAMODB_ENDPOINT", "DYNAMODB_MODE", "TABLE_PREFIX", "DATA_DIR"];

export function runAdmin(args: readonly string[], env: Record<string, string> = {}): Promise<AdminRun> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !STORE_SETTINGS.includes(k)));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args],
      { env: { ...base, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

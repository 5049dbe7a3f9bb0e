#!/usr/bin/env node
/**
 * The `commerce-admin` executable (package.json `bin`: dist/cli/main.js, built by
 * `npm ci` through `prepare`). `npx commerce-admin` runs it on the Node of node_modules/.bin.
 */
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv, {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});

#!/usr/bin/env node
// Adds lockfile entries for platform-specific optional dependencies that this workplace's
// npm registry mirror does not carry (darwin/win32/android/... builds of buf, esbuild,
// rollup). `npm install` silently leaves them out of package-lock.json, and `npm ci` then
// refuses the lock as out of sync. Each entry carries the os/cpu/libc read from the
// package name, so npm ci skips it on every other platform and never fetches it.
// Run after any `npm install` that changes the lock: `node scripts/fill-lock-optional.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const OS = [
  "darwin",
  "win32",
  "linux",
  "android",
  "freebsd",
  "openbsd",
  "netbsd",
  "sunos",
  "aix",
  "openharmony",
  "wasi",
];
const CPU = {
  x64: "x64",
  arm64: "arm64",
  aarch64: "arm64",
  arm: "arm",
  armv7: "arm",
  ia32: "ia32",
  loong64: "loong64",
  ppc64: "ppc64",
  riscv64: "riscv64",
  s390x: "s390x",
  mips64el: "mips64el",
  wasm32: "wasm32",
  x86: "ia32",
};

function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.find((p) => OS.includes(p)) ?? (parts.includes("win") ? "win32" : undefined);
  const cpuPart = parts.find((p) => p in CPU);
  const entry = {};
  if (os) entry.os = [os];
  if (cpuPart) entry.cpu = [CPU[cpuPart]];
  if (parts.includes("musl") || parts.includes("musleabihf")) entry.libc = ["musl"];
  else if (os === "linux" && (parts.includes("gnu") || parts.includes("gnueabihf"))) entry.libc = ["glibc"];
  return entry;
}

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
let added = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const nested = `${key}/node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (lock.packages[nested] || lock.packages[top]) continue;
    lock.packages[top] = { version: version.replace(/^[\^~]/, ""), dev: pkg.dev, optional: true, ...platformOf(dep) };
    if (!pkg.dev) delete lock.packages[top].dev;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fill-lock-optional: added ${added} platform entries`);

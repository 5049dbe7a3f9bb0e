/**
 * The suite runs on the runtime the service is built for: Node ≥ 22 (package.json
 * `engines`), in practice the Node 24 that `npm ci` installs as the `node` dependency and
 * npm scripts put first on PATH. A suite run by a system Node 20 fails here instead of
 * passing on a runtime nobody ships.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const major = (version: string) => Number(version.replace(/^v/, "").split(".")[0]);

describe("runtime", () => {
  it("is Node 22 or newer", () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(22);
  });

  it("is the Node that package.json pins for npm scripts", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
      engines: { node: string };
      dependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(">=22");
    expect(major(process.versions.node)).toBe(major(pkg.dependencies["node"]!));
  });
});

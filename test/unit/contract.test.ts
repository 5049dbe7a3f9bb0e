/**
 * The contract stays clean: buf lint, buf format and a fresh buf generate must change
 * nothing. Generation goes to a temporary directory and is compared file by file with the
 * committed src/gen, so the test never rewrites the tree.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const buf = "node_modules/.bin/buf";

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("contract", () => {
  it("passes buf lint", async () => {
    await expect(run(buf, ["lint"])).resolves.toBeDefined();
  });

  it("is formatted as buf format writes it", async () => {
    await expect(run(buf, ["format", "--diff", "--exit-code"])).resolves.toBeDefined();
  });

  it("matches a fresh buf generate", async () => {
    const out = await mkdtemp(join(tmpdir(), "gen-"));
    try {
      // The committed template, only its output directory changed.
      const committed = await readFile("buf.gen.yaml", "utf8");
      expect(committed).toContain("out: src/gen\n");
      const template = join(out, "buf.gen.yaml");
      await writeFile(template, committed.replace("out: src/gen\n", `out: ${join(out, "gen")}\n`));
      await run(buf, ["generate", "--template", template], {
        env: { ...process.env, PATH: `${process.cwd()}/node_modules/.bin:${process.env["PATH"]}` },
      });
      const fresh = await listFiles(join(out, "gen"));
      expect(fresh).toEqual(await listFiles("src/gen"));
      for (const file of fresh) {
        expect(await readFile(join("src/gen", file), "utf8"), file).toBe(
          await readFile(join(out, "gen", file), "utf8"),
        );
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

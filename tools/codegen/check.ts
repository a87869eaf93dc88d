/**
 * `make check-generated`: tsx tools/codegen/check.ts [--spec <kafka spec folder>] --out src/protocol/generated
 * Regenerates into a temporary folder and compares it with the committed one; exits 1 listing
 * every differing, missing or extra file, so a hand edit or a stale generation fails CI.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generateAll } from "./generate.js";
import { parseArgs, specFolderMissingMessage, writeOutput } from "./main.js";

export function compareFolders(expectedDir: string, actualDir: string): string[] {
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith(".ts"));
    } catch {
      return [];
    }
  };
  const expected = new Set(list(expectedDir));
  const actual = new Set(list(actualDir));
  const problems: string[] = [];
  for (const name of [...expected].sort()) {
    if (!actual.has(name)) problems.push(`missing: ${name}`);
    else if (readFileSync(join(expectedDir, name), "utf8") !== readFileSync(join(actualDir, name), "utf8")) {
      problems.push(`differs: ${name}`);
    }
  }
  for (const name of [...actual].sort()) if (!expected.has(name)) problems.push(`extra: ${name}`);
  return problems;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const missing = specFolderMissingMessage(args.spec);
  if (missing !== undefined) {
    console.error(missing);
    process.exit(1);
  }
  const temp = mkdtempSync(join(tmpdir(), "krill-codegen-"));
  try {
    writeOutput(generateAll(args.spec), temp);
    const problems = compareFolders(temp, args.out);
    if (problems.length > 0) {
      console.error(`generated code in ${args.out} is out of date with ${args.spec}; run make generate:`);
      for (const p of problems) console.error(`  ${p}`);
      process.exit(1);
    }
    console.log(`generated code in ${args.out} matches ${args.spec}`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? (process.env.CODEGEN_DEBUG ? err.stack : err.message) : err);
    process.exit(1);
  }
}

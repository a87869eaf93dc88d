/**
 * `make generate`: tsx tools/codegen/main.ts [--spec <kafka spec folder>] --out src/protocol/generated
 * Writes every generated module and removes generated modules whose spec is gone. Without --spec
 * (or KAFKA_SPEC_DIR) the specs come from the jars of the pinned Kafka version (kafka-specs.ts).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generateAll } from "./generate.js";
import { defaultSpecDir } from "./kafka-specs.js";
import { specGroupDir } from "./spec.js";

export interface CliArgs {
  spec: string;
  out: string;
}

/** `defaultSpec` is called only when neither --spec nor KAFKA_SPEC_DIR names a folder. */
export function parseArgs(argv: readonly string[], defaultSpec: () => string = defaultSpecDir): CliArgs {
  let spec: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--spec") spec = argv[++i];
    else if (a === "--out") out = argv[++i];
    else throw new Error(`unknown argument ${a}; usage: [--spec <dir>] --out <dir>`);
  }
  if (out === undefined || out === "") throw new Error("missing --out <dir>");
  if (spec === undefined || spec === "") spec = process.env.KAFKA_SPEC_DIR;
  if (spec === undefined || spec === "") spec = defaultSpec();
  return { spec, out };
}

export function specFolderMissingMessage(spec: string): string | undefined {
  return existsSync(specGroupDir(spec, "clients"))
    ? undefined
    : `Kafka spec folder not found at ${spec}; set KAFKA_SPEC_DIR to a folder holding Kafka's message specs (clients/, metadata/, ...) or to a Kafka source checkout, or unset it to use the specs of the pinned Kafka jars.`;
}

/** Writes `files` into `outDir`, leaving unchanged files untouched; returns files written and removed. */
export function writeOutput(
  files: Map<string, string>,
  outDir: string,
): { written: string[]; removed: string[] } {
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const removed: string[] = [];
  for (const [name, content] of files) {
    const path = join(outDir, name);
    if (existsSync(path) && readFileSync(path, "utf8") === content) continue;
    writeFileSync(path, content);
    written.push(name);
  }
  for (const name of readdirSync(outDir)) {
    if (name.endsWith(".ts") && !files.has(name)) {
      rmSync(join(outDir, name));
      removed.push(name);
    }
  }
  return { written, removed };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const missing = specFolderMissingMessage(args.spec);
  if (missing !== undefined) {
    console.error(missing);
    process.exit(1);
  }
  const files = generateAll(args.spec);
  const { written, removed } = writeOutput(files, args.out);
  console.log(
    `generated ${files.size} files into ${args.out}: ${written.length} written, ${removed.length} removed, ${files.size - written.length} unchanged`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    console.error(err instanceof Error ? (process.env.CODEGEN_DEBUG ? err.stack : err.message) : err);
    process.exit(1);
  }
}

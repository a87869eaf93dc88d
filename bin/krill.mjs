#!/usr/bin/env node
// Krill's launcher, the package's `krill` command (`npx krill start`, node_modules/.bin/krill).
//
// It is written to run on any Node.js and checks the version before it loads a line of Krill:
// the broker imports zstd from node:zlib (Node 22.15 or later) and node:sqlite (unflagged from
// 22.13), and an older Node would otherwise stop with a SyntaxError about a missing export.
//
// Then it runs the build: dist/krill.mjs, the one-file bundle (tools/build/bundle.ts; it starts in
// about half the CPU time, docs/startup.md), or dist/src/cli.js when the bundle is missing or older
// than the tsc output (a build that ran tsc alone), so a stale bundle never runs. Stack traces name
// the bundle's lines; KRILL_SOURCE_MAPS=1 maps them back to src/*.ts, at ~0.1 s of start-up CPU.
//
// Only node:fs and node:url are imported before the check; both exist on every Node with ES modules.
import { statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const REQUIRED = [22, 15, 0];

function olderThanRequired(version) {
  const have = version.split(".").map(Number);
  for (let i = 0; i < REQUIRED.length; i++) {
    if (have[i] !== REQUIRED[i]) return have[i] < REQUIRED[i];
  }
  return false;
}

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

if (olderThanRequired(process.versions.node)) {
  process.stderr.write(
    `krill: Node.js ${REQUIRED.join(".")} or later is required; this is ${process.version} (${process.execPath}). Install a current Node.js (22 LTS from 22.15, or 24) and run krill again.\n`,
  );
  process.exit(1);
}

const bundle = fileURLToPath(new URL("../dist/krill.mjs", import.meta.url));
const cli = fileURLToPath(new URL("../dist/src/cli.js", import.meta.url));
const bundleTime = mtimeMs(bundle);
const cliTime = mtimeMs(cli);
let entry;
if (bundleTime !== undefined && (cliTime === undefined || cliTime <= bundleTime)) entry = bundle;
else if (cliTime !== undefined) entry = cli;
else {
  process.stderr.write("krill: not built yet; run 'make build' (or 'npm run build') first\n");
  process.exit(1);
}
if (process.env.KRILL_SOURCE_MAPS === "1" || entry === cli) process.setSourceMapsEnabled(true);
import(pathToFileURL(entry).href).then(
  (krill) => krill.runCli(process.argv.slice(2)),
  (err) => {
    process.stderr.write(`krill: ${err?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);

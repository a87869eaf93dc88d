/**
 * Builds `dist/krill.mjs`, the single-file broker that `bin/krill` runs: all of `src/` in one ES
 * module (npm packages stay external and load from node_modules), with a linked source map.
 *
 *   tsx tools/build/bundle.ts [--out dist/krill.mjs]
 *
 * Why: at start-up Node spent most of the broker's CPU time resolving, reading and compiling ~300
 * separate modules, and the generated `apis.ts` pulls in the codecs of all ~90 APIs although the
 * broker serves ~40. One file removes the per-module cost, and tree shaking drops every codec no
 * handler references (see docs/server.md, "Start-up time and idle memory").
 *
 * The handler folder is read here, at build time: each `handlers/NNN-name.ts` is imported by a
 * generated entry module that hands them to `provideHandlerModules` (src/server/registry.ts) before
 * `src/cli.ts` runs, so "adding an API is adding a file" still holds for the bundle. The bundle
 * exports `runCli`, which bin/krill.mjs calls once it has checked the Node version.
 *
 * Beside the bundle it writes `build-info.json` with the commit the build was made from (what
 * `krill --version` prints, also from an npm tarball or a container image, which have no .git):
 * $KRILL_COMMIT when set (container/build-image.sh builds a `git archive` of a revision), else
 * `git rev-parse` of this checkout, marked `-dirty` when tracked files differ from it.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const handlersDir = path.join(root, "src/server/handlers");
const HANDLER_FILE = /^\d{3}-[a-z0-9-]+\.ts$/;

function parseOut(argv: readonly string[]): string {
  const i = argv.indexOf("--out");
  if (i < 0) return path.join(root, "dist/krill.mjs");
  const value = argv[i + 1];
  if (value === undefined) throw new Error("--out needs a path");
  return path.resolve(value);
}

/** The entry: registers the bundled handler modules, then runs the CLI (imports evaluate in order). */
const entryPlugin: Plugin = {
  name: "krill-entry",
  setup(b) {
    b.onResolve({ filter: /^krill:handlers$/ }, () => ({ path: "handlers", namespace: "krill" }));
    b.onLoad({ filter: /.*/, namespace: "krill" }, () => {
      const files = readdirSync(handlersDir)
        .filter((f) => HANDLER_FILE.test(f))
        .sort();
      if (files.length === 0) throw new Error(`no handler modules in ${handlersDir}`);
      const lines = [
        `import { provideHandlerModules } from ${JSON.stringify(path.join(root, "src/server/registry.ts"))};`,
      ];
      for (const [i, f] of files.entries()) {
        lines.push(`import * as h${i} from ${JSON.stringify(path.join(handlersDir, f))};`);
      }
      const entries = files.map((f, i) => `[${JSON.stringify(f)}, h${i}]`).join(", ");
      lines.push(`provideHandlerModules([${entries}]);`);
      return { contents: lines.join("\n"), loader: "js", resolveDir: root, watchFiles: [handlersDir] };
    });
  },
};

function buildCommit(): string {
  const fromEnv = process.env.KRILL_COMMIT;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const git = (...args: string[]): string =>
    execFileSync("git", ["-C", root, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    const commit = git("rev-parse", "--short=12", "HEAD");
    return git("status", "--porcelain", "--untracked-files=no") === "" ? commit : `${commit}-dirty`;
  } catch {
    return "unknown";
  }
}

const outfile = parseOut(process.argv.slice(2));
const result = await build({
  stdin: {
    contents: `import "krill:handlers";\nexport { runCli } from "./src/cli.ts";\n`,
    resolveDir: root,
    sourcefile: "krill-entry.js",
    loader: "js",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  sourcemap: "linked",
  sourcesContent: false,
  outfile,
  plugins: [entryPlugin],
  logLevel: "warning",
  metafile: true,
});
writeFileSync(
  path.join(path.dirname(outfile), "build-info.json"),
  `${JSON.stringify({ commit: buildCommit() })}\n`,
);
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0;
process.stdout.write(`bundle: ${path.relative(root, outfile)} (${(bytes / 1024).toFixed(0)} KiB)\n`);

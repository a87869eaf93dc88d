import { describe, expect, it } from "vitest";
import { categoryOf, frameName, summariseCpuProfile } from "../../bench/src/profile.js";

const ROOT = "/repo";

function frame(functionName: string, url = "", lineNumber = 0) {
  return { functionName, url, lineNumber, scriptId: "0", columnNumber: 0 };
}

describe("CPU profile summary", () => {
  // (root) -> appendBatch -> crc32c; (root) -> writev, idle and GC directly under the root.
  const profile = {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 3, 5, 6] },
      { id: 2, callFrame: frame("(idle)") },
      { id: 3, callFrame: frame("appendBatch", "file:///repo/dist/src/log/segment.js", 41), children: [4] },
      { id: 4, callFrame: frame("crc32c", "file:///repo/node_modules/@node-rs/crc32/index.js", 9) },
      { id: 5, callFrame: frame("writev", "node:internal/stream_base_commons", 120) },
      { id: 6, callFrame: frame("(garbage collector)") },
    ],
    // Sample i is charged the delta recorded with it.
    samples: [2, 3, 3, 4, 5, 6, 2],
    timeDeltas: [5000, 3000, 3000, 2000, 1000, 1000, 5000],
  };

  it("charges self time to leaf frames as a share of busy time", () => {
    const s = summariseCpuProfile(profile, ROOT);
    expect(s.totalMs).toBe(20);
    expect(s.busyMs).toBe(10);
    expect(s.top[0]).toEqual({ frame: "dist/src/log/segment.js:42 appendBatch", selfMs: 6, selfPercent: 60 });
    expect(s.top.map((t) => t.frame)).toContain("node_modules/@node-rs/crc32/index.js:10 crc32c");
    expect(s.categories).toEqual([
      { name: "Krill (src/)", selfPercent: 60 },
      { name: "dependencies (node_modules)", selfPercent: 20 },
      { name: "Node internals (node:*)", selfPercent: 10 },
      { name: "garbage collection", selfPercent: 10 },
    ]);
  });

  it("charges native and library time to the innermost Krill caller", () => {
    const s = summariseCpuProfile(profile, ROOT);
    expect(s.byKrillCaller).toEqual([
      { frame: "dist/src/log/segment.js:42 appendBatch", selfMs: 8, selfPercent: 80 },
      { frame: "(no Krill frame on the stack)", selfMs: 2, selfPercent: 20 },
    ]);
  });

  it("leaves out the samples before the start offset", () => {
    // The first three samples end at 5, 8 and 11 ms.
    const s = summariseCpuProfile(profile, ROOT, 11);
    expect(s.totalMs).toBe(12);
    expect(s.busyMs).toBe(7);
  });

  it("rejects something that is not a profile", () => {
    expect(() => summariseCpuProfile({ nodes: [] }, ROOT)).toThrow(/not a V8 CPU profile/);
    expect(() => summariseCpuProfile(null, ROOT)).toThrow(/not a V8 CPU profile/);
  });

  it("ignores samples naming unknown nodes", () => {
    const s = summariseCpuProfile({ nodes: profile.nodes, samples: [99, 3], timeDeltas: [1000, 1000] }, ROOT);
    expect(s.totalMs).toBe(1);
  });

  it("names and classifies frames", () => {
    expect(frameName(frame("", "file:///repo/src/a.ts", 0), ROOT)).toBe("src/a.ts:1 (anonymous)");
    expect(frameName(frame("(program)"), ROOT)).toBe("(program)");
    expect(categoryOf(frame("Math.max"), ROOT)).toBe("V8/native builtins");
    expect(categoryOf(frame("x", "file:///elsewhere/x.js"), ROOT)).toBe("other");
  });
});

describe("CPU profile of the one-file bundle", () => {
  it("names the source file and line a bundled frame came from, through the bundle's source map", async () => {
    const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { buildSync } = await import("esbuild");
    const root = mkdtempSync(join(tmpdir(), "krill-profile-map-"));
    try {
      mkdirSync(join(root, "src"));
      mkdirSync(join(root, "dist"));
      // Two modules, so that the bundle's line numbers differ from both sources'.
      writeFileSync(
        join(root, "src/a.ts"),
        "export function first(n: number): number {\n  return n + 1;\n}\n",
      );
      writeFileSync(
        join(root, "src/main.ts"),
        'import { first } from "./a.js";\n\n\nexport function produce(n: number): number {\n  return first(n) * 2;\n}\n',
      );
      buildSync({
        entryPoints: [join(root, "src/main.ts")],
        bundle: true,
        format: "esm",
        outfile: join(root, "dist/krill.mjs"),
        sourcemap: "external",
        logLevel: "silent",
      });
      const { readFileSync } = await import("node:fs");
      const lines = readFileSync(join(root, "dist/krill.mjs"), "utf8").split("\n");
      const line = lines.findIndex((l) => l.includes("function produce"));
      expect(line).toBeGreaterThanOrEqual(0);
      const column = lines[line]!.indexOf("function produce");
      const url = `file://${root}/dist/krill.mjs`;
      const profile = {
        nodes: [
          { id: 1, callFrame: frame("(root)"), children: [2] },
          { id: 2, callFrame: { ...frame("produce", url, line), columnNumber: column } },
        ],
        samples: [2],
        timeDeltas: [1000],
      };
      const s = summariseCpuProfile(profile, root);
      // Line 4 of src/main.ts (1-based), in the Krill category, and charged to itself as caller.
      expect(s.top[0]?.frame).toBe("src/main.ts:4 produce");
      expect(s.categories).toEqual([{ name: "Krill (src/)", selfPercent: 100 }]);
      expect(s.byKrillCaller[0]?.frame).toBe("src/main.ts:4 produce");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("keeps a bundled frame as it is when the bundle has no source map", () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)"), children: [2] },
        { id: 2, callFrame: frame("produce", "file:///nowhere/dist/krill.mjs", 99) },
      ],
      samples: [2],
      timeDeltas: [1000],
    };
    expect(summariseCpuProfile(profile, "/nowhere").top[0]?.frame).toBe("dist/krill.mjs:100 produce");
  });
});

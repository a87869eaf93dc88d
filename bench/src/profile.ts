// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and reports where the time went: self time
// per function (file:line name) and per category (Krill's own code, dependencies, Node internals,
// garbage collection, idle). Self time is the sum of the sample intervals whose leaf frame is the
// function; percentages are of the busy time (everything but "(idle)"), so an idle-heavy run still
// shows what the CPU did while it worked.
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ProfileHotSpot, ProfileResult } from "./results.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const TOP_COUNT = 20;
const PROFILE_BYTES_MAX = 512 << 20;
const SOURCE_MAP_BYTES_MAX = 64 << 20;

/**
 * Maps frames of a bundled file (bin/krill runs dist/krill.mjs, one file) back to the source they
 * came from through the bundle's source map (`FILE.map` beside it), so the report names
 * src/server/produce/produce.ts:123 instead of dist/krill.mjs:5325. Frames of files without a map,
 * and positions the map does not cover, are kept as they are.
 */
export class FrameMapper {
  readonly #maps = new Map<string, { map: SourceMap; dir: string } | null>();

  map(frame: CallFrame): CallFrame {
    if (!frame.url.startsWith("file://") || !frame.url.endsWith(".mjs")) return frame;
    const entry = this.#load(frame.url);
    if (!entry) return frame;
    const found = entry.map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (!found.originalSource || found.originalLine === undefined) return frame;
    const source = found.originalSource.startsWith("file://")
      ? fileURLToPath(found.originalSource)
      : resolve(entry.dir, found.originalSource);
    return {
      functionName: frame.functionName,
      url: pathToFileURL(source).href,
      lineNumber: found.originalLine,
      columnNumber: 0,
    };
  }

  #load(url: string): { map: SourceMap; dir: string } | null {
    const cached = this.#maps.get(url);
    if (cached !== undefined) return cached;
    let entry: { map: SourceMap; dir: string } | null = null;
    try {
      const file = fileURLToPath(url);
      const mapFile = `${file}.map`;
      if (existsSync(mapFile)) {
        const text = readFileSync(mapFile, "utf8");
        if (text.length <= SOURCE_MAP_BYTES_MAX)
          entry = { map: new SourceMap(JSON.parse(text)), dir: dirname(mapFile) };
      }
    } catch {
      entry = null;
    }
    this.#maps.set(url, entry);
    return entry;
  }
}

function isCpuProfile(v: unknown): v is CpuProfile {
  const o = v as Partial<CpuProfile> | null;
  return !!o && Array.isArray(o.nodes) && Array.isArray(o.samples) && Array.isArray(o.timeDeltas);
}

/** "file:line function", with the repository prefix and file:// scheme taken off. */
export function frameName(frame: CallFrame, root: string): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  let url = frame.url.replace(/^file:\/\//, "");
  if (url.startsWith(`${root}/`)) url = url.slice(root.length + 1);
  // Keep only the package path inside node_modules, which is what tells libraries apart.
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) url = url.slice(nm);
  return `${url}:${frame.lineNumber + 1} ${name}`;
}

export function categoryOf(frame: CallFrame, root: string): string {
  const name = frame.functionName;
  if (name === "(garbage collector)") return "garbage collection";
  if (name === "(idle)") return "idle";
  if (name === "(program)") return "V8/native (program)";
  const url = frame.url.replace(/^file:\/\//, "");
  if (url === "") return "V8/native builtins";
  if (url.startsWith("node:")) return "Node internals (node:*)";
  if (url.includes("/node_modules/")) return "dependencies (node_modules)";
  if (url.startsWith(`${root}/dist/src/`) || url.startsWith(`${root}/src/`)) return "Krill (src/)";
  return "other";
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  top: ProfileHotSpot[];
  /** Busy time charged to the innermost Krill function on the stack (its own work and what it called). */
  byKrillCaller: ProfileHotSpot[];
  categories: { name: string; selfPercent: number }[];
}

/**
 * Summarises the samples taken from `fromMs` after the profile began (to leave out start-up: module
 * loading and compilation would otherwise dominate a short run).
 */
export function summariseCpuProfile(
  profile: unknown,
  root: string,
  fromMs = 0,
  mapper: FrameMapper = new FrameMapper(),
): ProfileSummary {
  if (!isCpuProfile(profile)) throw new Error("not a V8 CPU profile (nodes, samples, timeDeltas)");
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, { ...n, callFrame: mapper.map(n.callFrame) });
    for (const c of n.children ?? []) parentOf.set(c, n.id);
  }
  const krillCallerOf = (leaf: ProfileNode): string => {
    let id: number | undefined = leaf.id;
    // Bounded walk: a malformed profile with a parent cycle must not hang the report.
    for (let depth = 0; id !== undefined && depth < 1000; depth++) {
      const node = byId.get(id);
      if (!node) break;
      if (categoryOf(node.callFrame, root) === "Krill (src/)") return frameName(node.callFrame, root);
      id = parentOf.get(id);
    }
    return "(no Krill frame on the stack)";
  };
  const selfUs = new Map<string, number>();
  const callerUs = new Map<string, number>();
  const categoryUs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let elapsedUs = 0;
  const count = Math.min(profile.samples.length, profile.timeDeltas.length);
  // V8 records the delta before each sample; the interval belongs to the sample that ends it.
  for (let i = 0; i < count; i++) {
    const node = byId.get(profile.samples[i]!);
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    elapsedUs += delta;
    if (!node || elapsedUs < fromMs * 1000) continue;
    totalUs += delta;
    const category = categoryOf(node.callFrame, root);
    categoryUs.set(category, (categoryUs.get(category) ?? 0) + delta);
    if (category === "idle") {
      idleUs += delta;
      continue;
    }
    const key = frameName(node.callFrame, root);
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    const caller = krillCallerOf(node);
    callerUs.set(caller, (callerUs.get(caller) ?? 0) + delta);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  const ranked = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_COUNT)
      .map(([frame, us]) => ({ frame, selfMs: us / 1000, selfPercent: (100 * us) / busyUs }));
  const top = ranked(selfUs);
  const byKrillCaller = ranked(callerUs);
  const categories = [...categoryUs.entries()]
    .filter(([name]) => name !== "idle")
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, selfPercent: (100 * us) / busyUs }));
  return { totalMs: totalUs / 1000, busyMs: busyUs / 1000, top, byKrillCaller, categories };
}

export function summariseProfile(path: string, root: string, fromMs = 0): Omit<ProfileResult, "workload"> {
  try {
    const text = readFileSync(path, "utf8");
    if (text.length > PROFILE_BYTES_MAX) throw new Error(`profile larger than ${PROFILE_BYTES_MAX} bytes`);
    const s = summariseCpuProfile(JSON.parse(text), root, fromMs);
    return {
      ok: true,
      error: null,
      profilePath: path,
      fromMs,
      totalMs: s.totalMs,
      busyMs: s.busyMs,
      top: s.top,
      byKrillCaller: s.byKrillCaller,
      categories: s.categories,
    };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      error: `could not read ${path}: ${message}`,
      profilePath: path,
      fromMs,
      totalMs: 0,
      busyMs: 0,
      top: [],
      byKrillCaller: [],
      categories: [],
    };
  }
}

// Command line: tsx bench/src/profile.ts FILE.cpuprofile [ROOT] prints the summary as text.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, root = process.cwd(), fromArg = "0"] = process.argv.slice(2);
  if (!file) {
    console.error("usage: profile.ts FILE.cpuprofile [REPO_ROOT] [SKIP_FIRST_MS]");
    process.exit(2);
  }
  const s = summariseProfile(file, root, Number(fromArg) || 0);
  if (!s.ok) {
    console.error(s.error);
    process.exit(1);
  }
  console.log(`total ${s.totalMs.toFixed(0)} ms sampled`);
  for (const c of s.categories) console.log(`${c.selfPercent.toFixed(1).padStart(5)}%  ${c.name}`);
  console.log("");
  const print = (t: ProfileHotSpot) =>
    console.log(
      `${t.selfPercent.toFixed(1).padStart(5)}%  ${t.selfMs.toFixed(0).padStart(6)} ms  ${t.frame}`,
    );
  s.top.forEach(print);
  console.log("\ncharged to the innermost Krill function on the stack:");
  s.byKrillCaller.forEach(print);
}

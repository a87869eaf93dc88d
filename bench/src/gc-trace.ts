// Allocation and garbage collection of a Node broker from V8's `--trace-gc-nvp` output (one line
// per collection: `pause=<ms> … gc=<s|mc|ms|mmc> … allocated=<bytes> …`), for figures per GiB moved
// that do not depend on the machine's load: bytes allocated on the JavaScript heap, collections by
// kind and their pause time. Buffers' backing stores (socket reads, frames, read buffers) live
// outside the JavaScript heap; they show as the mark-compacts they trigger ("external memory
// pressure"), which is why mark-compacts are counted apart.
//
// Run a broker with NODE_OPTIONS=--trace-gc-nvp and its stdout in a file; take the file's length
// before and after a phase and hand the text in between to `summarizeGcTrace`.
import { closeSync, openSync, readSync, statSync } from "node:fs";

export interface GcSummary {
  /** Minor collections (scavenges `gc=s`; minor mark-sweep/compact `gc=mms`, `gc=mmc`). */
  scavenges: number;
  /** Full collections (mark-compact: `gc=mc`, `gc=ms`). */
  markCompacts: number;
  /** Pause time of all collections, ms (the main thread stopped). */
  pauseMs: number;
  /** Pause time of the full collections alone, ms. */
  markCompactPauseMs: number;
  /** Bytes allocated on the JavaScript heap (the sum of V8's `allocated=` since each previous GC). */
  heapAllocatedBytes: number;
}

const GC_LINE = /\bpause=([\d.]+)\b.*?\bgc=(\w+)\b.*?\ballocated=(-?\d+)\b/;

const MINOR = new Set(["s", "mms", "mmc"]);

export function summarizeGcTrace(text: string): GcSummary {
  const out: GcSummary = {
    scavenges: 0,
    markCompacts: 0,
    pauseMs: 0,
    markCompactPauseMs: 0,
    heapAllocatedBytes: 0,
  };
  for (const line of text.split("\n")) {
    const m = GC_LINE.exec(line);
    if (m === null) continue;
    const pause = Number(m[1]);
    out.pauseMs += pause;
    if (MINOR.has(m[2]!)) out.scavenges++;
    else {
      out.markCompacts++;
      out.markCompactPauseMs += pause;
    }
    out.heapAllocatedBytes += Math.max(0, Number(m[3]));
  }
  return out;
}

/** Size of `path` now (0 when missing): a mark to read the trace from later. */
export function fileMark(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The bytes of `path` between two marks, as text. */
export function readBetween(path: string, from: number, to: number): string {
  if (to <= from) return "";
  const buf = Buffer.alloc(to - from);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString("utf8");
}

/** A summary scaled to one GiB of `bytes` moved. */
export function perGiB(s: GcSummary, bytes: number): GcSummary {
  const f = 1024 ** 3 / bytes;
  return {
    scavenges: s.scavenges * f,
    markCompacts: s.markCompacts * f,
    pauseMs: s.pauseMs * f,
    markCompactPauseMs: s.markCompactPauseMs * f,
    heapAllocatedBytes: s.heapAllocatedBytes * f,
  };
}

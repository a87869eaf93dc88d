/**
 * The batches the crash test writes: each is a pure function of the offset it is appended at, so
 * the checker can regenerate exactly what must be stored at every offset.
 */
import { buildBatch, type TestRecord } from "../helpers.js";

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The batch appended at `baseOffset`, as the log stores it (offset and epoch already set). */
export function crashBatch(baseOffset: number, leaderEpoch: number): Buffer {
  const next = rng(baseOffset + 1);
  const count = 1 + Math.floor(next() * 8);
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const size = Math.floor(next() * 2000);
    const value = Buffer.allocUnsafe(size);
    for (let j = 0; j < size; j++) value[j] = (baseOffset + i * 31 + j) & 0xff;
    records.push({
      key: Buffer.from(`key-${baseOffset + i}`),
      value,
      timestamp: 1_700_000_000_000 + baseOffset,
    });
  }
  return buildBatch(records, { baseOffset, partitionLeaderEpoch: leaderEpoch });
}

export const CRASH_TOPIC_CONFIG: Record<string, string> = {
  "segment.bytes": String(64 * 1024),
  "index.interval.bytes": "1024",
  // Batch timestamps are synthetic; roll by size only.
  "segment.ms": String(Number.MAX_SAFE_INTEGER),
};

import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { type BatchInfo, BatchScanner } from "../../src/log/batch-scan.js";
import { FilePool } from "../../src/log/file-pool.js";
import { LogSegment } from "../../src/log/segment.js";
import { buildBatch, tempDir } from "./helpers.js";

const MAX_INDEX_BYTES = 64 * 1024;
const NOW_MS = 1_700_000_000_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A batch holding offsets [baseOffset, baseOffset + count). */
function batchAt(baseOffset: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: Buffer.alloc(20, i),
    timestamp: NOW_MS + baseOffset + i,
  }));
  return buildBatch(records, { baseOffset });
}

function infosOf(buf: Buffer): BatchInfo[] {
  const readAt = (target: Buffer, length: number, position: number) =>
    buf.copy(target, 0, position, Math.min(buf.length, position + length));
  const scanner = new BatchScanner(readAt, 0, buf.length, buf.length);
  const out: BatchInfo[] = [];
  for (let b = scanner.next(true); b !== undefined; b = scanner.next(true)) out.push(b);
  expect(scanner.problem).toBeUndefined();
  return out;
}

/** A segment at base 0 holding `batches`, with an index entry after every batch but the first. */
function segmentWith(batches: Buffer[]): { segment: LogSegment; dir: string; pool: FilePool } {
  const dir = tempDir("krill-segment-");
  dirs.push(dir);
  const pool = new FilePool(16);
  const segment = LogSegment.create(pool, dir, 0, MAX_INDEX_BYTES, NOW_MS);
  const buf = Buffer.concat(batches);
  segment.append(buf, infosOf(buf), 1);
  return { segment, dir, pool };
}

function sizes(batches: Buffer[], count: number): number {
  return batches.slice(0, count).reduce((n, b) => n + b.length, 0);
}

describe("LogSegment.locate", () => {
  // 0..2, 3..4, then a gap (as compaction leaves), 10..10, 11..13
  const batches = [batchAt(0, 3), batchAt(3, 2), batchAt(10, 1), batchAt(11, 3)];

  it("finds the batch holding or following an offset, through the index and across gaps", () => {
    const { segment } = segmentWith(batches);
    expect(segment.offsetIndex.lookup(12).position).toBeGreaterThan(0);
    const at = (offset: number) => segment.locate(offset)?.position;
    expect(at(0)).toBe(0);
    expect(at(2)).toBe(0);
    expect(at(3)).toBe(sizes(batches, 1));
    expect(at(4)).toBe(sizes(batches, 1));
    expect(at(5)).toBe(sizes(batches, 2));
    expect(at(9)).toBe(sizes(batches, 2));
    expect(at(10)).toBe(sizes(batches, 2));
    expect(at(12)).toBe(sizes(batches, 3));
    expect(at(13)).toBe(sizes(batches, 3));
    expect(at(14)).toBeUndefined();
    expect(segment.locate(12)).toMatchObject({ baseOffset: 11, lastOffset: 13 });
    segment.close(true);
  });

  it("reports a corrupt header on the way as CORRUPT_SEGMENT instead of skipping it", () => {
    const { segment } = segmentWith(batches);
    // The index entry for offset 4 points at batch 1, whose batchLength becomes impossible.
    expect(segment.offsetIndex.lookup(4).position).toBe(sizes(batches, 1));
    const fd = fs.openSync(segment.logPath, "r+");
    try {
      fs.writeSync(fd, Buffer.from([0, 0, 0, 7]), 0, 4, sizes(batches, 1) + 8);
    } finally {
      fs.closeSync(fd);
    }
    let code: string | undefined;
    try {
      segment.locate(4);
    } catch (err) {
      if (!isKrillError(err)) throw err;
      code = err.code;
      expect(err.message).toMatch(/below the minimum/);
    }
    expect(code).toBe("CORRUPT_SEGMENT");
    segment.close(true);
  });
});

describe("LogSegment.recover", () => {
  const batches = [batchAt(0, 2), batchAt(2, 3), batchAt(5, 1)];
  const total = sizes(batches, batches.length);

  it("cuts a torn tail back to the last whole batch and rebuilds lookups from what remains", () => {
    // Cut inside the header and inside the records of the last batch, and on a boundary.
    for (const cut of [sizes(batches, 2) + 30, total - 5, sizes(batches, 2)]) {
      const { segment, dir, pool } = segmentWith(batches);
      segment.close(true);
      fs.truncateSync(segment.logPath, cut);
      const { segment: reopened } = LogSegment.open(pool, dir, 0);
      const result = reopened.recover(1, MAX_INDEX_BYTES);
      expect(result.validBytes).toBe(sizes(batches, 2));
      expect(result.truncatedBytes).toBe(cut - sizes(batches, 2));
      if (cut === sizes(batches, 2)) expect(result.problem).toBeUndefined();
      else expect(result.problem).toMatch(/shorter than a batch header|runs past the end/);
      expect(fs.statSync(reopened.logPath).size).toBe(sizes(batches, 2));
      expect(reopened.nextOffset).toBe(5);
      expect(reopened.locate(4)?.position).toBe(sizes(batches, 1));
      expect(reopened.locate(5)).toBeUndefined();
      reopened.close(true);
    }
  });

  it("cuts at the first batch whose CRC fails, dropping the valid batches after it", () => {
    const { segment, dir, pool } = segmentWith(batches);
    segment.close(true);
    const fd = fs.openSync(segment.logPath, "r+");
    try {
      // The last byte of the middle batch's records.
      fs.writeSync(fd, Buffer.from([0xee]), 0, 1, sizes(batches, 2) - 1);
    } finally {
      fs.closeSync(fd);
    }
    const { segment: reopened } = LogSegment.open(pool, dir, 0);
    const result = reopened.recover(1, MAX_INDEX_BYTES);
    expect(result).toMatchObject({
      validBytes: sizes(batches, 1),
      truncatedBytes: total - sizes(batches, 1),
    });
    expect(result.problem).toMatch(/CRC mismatch at offset 2/);
    expect(reopened.nextOffset).toBe(2);
    reopened.close(true);
  });
});

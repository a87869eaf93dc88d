import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { FilePool } from "../../src/log/file-pool.js";
import { OffsetIndex, TimeIndex } from "../../src/log/index-file.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir("krill-index-");
  dirs.push(d);
  return d;
}

describe("OffsetIndex", () => {
  it("creates the file of a new index only when trimmed or flushed", async () => {
    const pool = new FilePool(8);
    const a = path.join(dir(), "00000000000000000000.index");
    const empty = new OffsetIndex(pool, a, 0);
    empty.createEmpty(80);
    await empty.flush(); // nothing written: nothing to make durable
    expect(fs.existsSync(a)).toBe(false);
    empty.trim();
    expect(fs.statSync(a).size).toBe(0);
    const b = path.join(dir(), "00000000000000000007.index");
    const flushed = new OffsetIndex(pool, b, 7);
    flushed.createEmpty(80);
    flushed.append(9, 100);
    await flushed.flush();
    expect(fs.statSync(b).size).toBe(80);
    expect(fs.readFileSync(b).subarray(0, 8)).toEqual(Buffer.from([0, 0, 0, 2, 0, 0, 0, 100]));
    const gone = path.join(dir(), "00000000000000000009.index");
    const deleted = new OffsetIndex(pool, gone, 9);
    deleted.createEmpty(80);
    deleted.append(10, 1);
    deleted.delete();
    expect(fs.existsSync(gone)).toBe(false);
  });

  it("is preallocated, looks up the floor entry, trims and reopens in Kafka's format", () => {
    const pool = new FilePool(8);
    const file = path.join(dir(), "00000000000000000100.index");
    const index = new OffsetIndex(pool, file, 100);
    fs.writeFileSync(file, Buffer.alloc(16, 0xff)); // a leftover file must not be taken for the index
    index.createEmpty(80);
    // Created lazily: no file until entries are written out.
    expect(fs.existsSync(file)).toBe(false);
    expect(index.maxEntries).toBe(10);
    index.append(105, 0);
    index.append(110, 4096);
    index.append(110, 5000); // not increasing: ignored
    expect(fs.existsSync(file)).toBe(false);
    index.flushTail();
    expect(fs.statSync(file).size).toBe(80); // preallocated (sparse) once created
    index.append(120, 8192);
    expect(index.lookup(99)).toEqual({ offset: 100, position: 0 });
    expect(index.lookup(107)).toEqual({ offset: 105, position: 0 });
    expect(index.lookup(110)).toEqual({ offset: 110, position: 4096 });
    expect(index.lookup(1000)).toEqual({ offset: 120, position: 8192 });
    index.trim();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(24);
    // Relative offset then position, big-endian.
    expect([bytes.readInt32BE(8), bytes.readInt32BE(12)]).toEqual([10, 4096]);
    const again = new OffsetIndex(pool, file, 100);
    expect(again.openExisting()).toBe(true);
    expect(again.sane()).toBe(true);
    expect(again.entries).toBe(3);
    expect(again.lookup(115)).toEqual({ offset: 110, position: 4096 });
    again.truncateTo(110);
    expect(again.entries).toBe(1);
    expect(again.lastEntry).toEqual({ offset: 105, position: 0 });
  });

  it("reports a full index and rejects offsets outside its range", () => {
    const pool = new FilePool(8);
    const index = new OffsetIndex(pool, path.join(dir(), "x.index"), 0);
    index.createEmpty(16);
    index.append(1, 10);
    index.append(2, 20);
    expect(index.isFull).toBe(true);
    expect(() => index.append(3, 30)).toThrow(expect.objectContaining({ code: "STATE" }));
    const other = new OffsetIndex(pool, path.join(dir(), "y.index"), 10);
    other.createEmpty(64);
    expect(() => other.append(5, 0)).toThrow(expect.objectContaining({ code: "STATE" }));
    expect(() => other.append(10 + 2 ** 31, 0)).toThrow(expect.objectContaining({ code: "STATE" }));
  });

  it("rejects a malformed file size so the caller rebuilds", () => {
    const file = path.join(dir(), "bad.index");
    fs.writeFileSync(file, Buffer.alloc(13));
    expect(new OffsetIndex(new FilePool(8), file, 0).openExisting()).toBe(false);
    expect(new OffsetIndex(new FilePool(8), `${file}.missing`, 0).openExisting()).toBe(false);
  });

  it("lookup agrees with a linear search", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 200 }),
        fc.integer({ min: -5, max: 10_100 }),
        (offsets, target) => {
          const sorted = [...offsets].sort((a, b) => a - b);
          const pool = new FilePool(8);
          const index = new OffsetIndex(pool, path.join(dir(), "p.index"), 0);
          index.createEmpty(8 * 256);
          sorted.forEach((o, i) => {
            index.append(o, i * 10);
          });
          const expected = sorted.filter((o) => o <= target).at(-1);
          const got = index.lookup(target);
          if (expected === undefined) expect(got).toEqual({ offset: 0, position: 0 });
          else expect(got).toEqual({ offset: expected, position: sorted.indexOf(expected) * 10 });
          pool.closeAll();
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("OffsetIndex unwritten tail", () => {
  it("survives truncation and appends across the written/unwritten boundary", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 100 }),
        (first, cut, more) => {
          const pool = new FilePool(8);
          const file = path.join(dir(), "t.index");
          const index = new OffsetIndex(pool, file, 0);
          index.createEmpty(8 * 1000);
          const model: number[] = [];
          for (let i = 0; i < first; i++) {
            index.append(i * 2, i * 100);
            model.push(i * 2);
          }
          index.truncateTo(cut * 2);
          model.splice(Math.min(cut, model.length));
          for (let i = 0; i < more; i++) {
            const o = (model.at(-1) ?? -1) + 3;
            index.append(o, o * 50);
            model.push(o);
          }
          index.trim();
          const again = new OffsetIndex(pool, file, 0);
          expect(again.openExisting()).toBe(true);
          expect(again.entries).toBe(model.length);
          for (let i = 0; i < model.length; i++) expect(again.entryAt(i).offset).toBe(model[i]);
          pool.closeAll();
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("OffsetIndex in-memory copy", () => {
  it("lookups stay right across interleaved appends, truncations and cache evictions", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("append" as const), n: fc.integer({ min: 1, max: 100 }) }),
            fc.record({ op: fc.constant("truncate" as const), at: fc.integer({ min: 0, max: 2000 }) }),
            fc.record({ op: fc.constant("lookup" as const), target: fc.integer({ min: 0, max: 2000 }) }),
            fc.record({ op: fc.constant("evict" as const) }),
          ),
          { maxLength: 40 },
        ),
        (ops) => {
          const pool = new FilePool(8);
          const index = new OffsetIndex(pool, path.join(dir(), "c.index"), 0);
          index.createEmpty(8 * 10_000);
          const model: number[] = [];
          for (const o of ops) {
            if (o.op === "append") {
              for (let i = 0; i < o.n; i++) {
                const next = (model.at(-1) ?? -1) + 1 + (i % 3);
                index.append(next, next * 10);
                model.push(next);
              }
            } else if (o.op === "truncate") {
              index.truncateTo(o.at);
              while (model.length > 0 && model.at(-1)! >= o.at) model.pop();
            } else if (o.op === "evict") {
              index.unload();
            } else {
              const expected = model.filter((m) => m <= o.target).at(-1);
              const got = index.lookup(o.target);
              expect(got).toEqual(
                expected === undefined
                  ? { offset: 0, position: 0 }
                  : { offset: expected, position: expected * 10 },
              );
            }
          }
          pool.closeAll();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("TimeIndex", () => {
  it("keeps only increasing timestamps, reserves a slot for the final entry, finds entries before a target", () => {
    const pool = new FilePool(8);
    const file = path.join(dir(), "00000000000000000000.timeindex");
    const index = new TimeIndex(pool, file, 0);
    index.createEmpty(36);
    expect(index.maxEntries).toBe(3);
    index.maybeAppend(1000, 5);
    index.maybeAppend(900, 6); // older: ignored
    index.maybeAppend(2000, 9);
    expect(index.isFull).toBe(true);
    expect(() => index.maybeAppend(3000, 12)).toThrow(expect.objectContaining({ code: "STATE" }));
    index.maybeAppend(3000, 12, true);
    expect(index.entries).toBe(3);
    expect(index.lookupBefore(1000)).toBeUndefined();
    expect(index.lookupBefore(1500)).toEqual({ timestamp: 1000, offset: 5 });
    expect(index.lookupBefore(99_999)).toEqual({ timestamp: 3000, offset: 12 });
    index.trim();
    const bytes = fs.readFileSync(file);
    expect(bytes.length).toBe(36);
    expect([Number(bytes.readBigInt64BE(12)), bytes.readInt32BE(20)]).toEqual([2000, 9]);
    index.truncateTo(9);
    expect(index.lastEntry).toEqual({ timestamp: 1000, offset: 5 });
  });
});

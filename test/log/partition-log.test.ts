import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { DEFAULT_LOG_CONFIG, type LogConfig, logConfigFrom } from "../../src/log/config.js";
import { FilePool } from "../../src/log/file-pool.js";
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  MAX_TIMESTAMP,
  PartitionLog,
  type PartitionLogOptions,
} from "../../src/log/partition-log.js";
import { buildBatch, ManualClock, parseBatches, simpleBatch, tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function openLog(
  overrides: Record<string, string> = {},
  extra: Partial<PartitionLogOptions> = {},
): { log: PartitionLog; dir: string; clock: ManualClock; pool: FilePool; config: LogConfig } {
  const dir = extra.dir ?? path.join(tempDir(), "topic-0");
  dirs.push(path.dirname(dir));
  const clock = (extra.clock as ManualClock | undefined) ?? new ManualClock();
  const pool = extra.pool ?? new FilePool(64);
  const config = logConfigFrom(overrides, DEFAULT_LOG_CONFIG);
  const log = PartitionLog.open({
    dir,
    topicPartition: { topic: "topic", partition: 0 },
    config,
    pool,
    clock,
    hadCleanShutdown: true,
    ...extra,
  });
  return { log, dir, clock, pool, config };
}

function reopen(
  dir: string,
  config: LogConfig,
  hadCleanShutdown: boolean,
  extra: Partial<PartitionLogOptions> = {},
): PartitionLog {
  return PartitionLog.open({
    dir,
    topicPartition: { topic: "topic", partition: 0 },
    config,
    pool: new FilePool(64),
    clock: new ManualClock(),
    hadCleanShutdown,
    ...extra,
  });
}

const leader = { assignOffsets: true, leaderEpoch: 0 };

describe("PartitionLog append and read", () => {
  it("assigns offsets, rewrites the header in place and serves the stored bytes", () => {
    const { log } = openLog();
    const r1 = log.append(simpleBatch(3), { assignOffsets: true, leaderEpoch: 5 });
    const r2 = log.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 5 });
    expect(r1).toMatchObject({ firstOffset: 0, lastOffset: 2, logAppendTimeMs: -1, logStartOffset: 0 });
    expect(r2).toMatchObject({ firstOffset: 3, lastOffset: 4 });
    expect(log.logEndOffset).toBe(5);
    const read = log.read(0, 1 << 20);
    const batches = parseBatches(read.records);
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, b.partitionLeaderEpoch, b.crcValid])).toEqual([
      [0, 2, 5, true],
      [3, 4, 5, true],
    ]);
    expect(read.nextOffset).toBe(5);
    expect(read.logEndOffset).toBe(5);
    // A fetch from the middle of a batch starts at the batch containing the offset.
    expect(parseBatches(log.read(4, 1 << 20).records)[0]!.baseOffset).toBe(3);
    expect(parseBatches(log.read(1, 1 << 20).records)[0]!.baseOffset).toBe(0);
    expect(log.read(5, 1 << 20).records.length).toBe(0);
  });

  it("stamps LogAppendTime with a valid CRC", () => {
    const { log } = openLog();
    const r = log.append(simpleBatch(2), { ...leader, logAppendTimeMs: 1234 });
    expect(r.logAppendTimeMs).toBe(1234);
    const [b] = parseBatches(log.read(0, 1000).records);
    expect(b!.maxTimestamp).toBe(1234);
    expect(b!.crcValid).toBe(true);
  });

  it("respects maxBytes, minOneBatch and maxOffset", () => {
    const { log } = openLog();
    const size = simpleBatch(1, 100).length;
    for (let i = 0; i < 10; i++) log.append(simpleBatch(1, 100), leader);
    expect(parseBatches(log.read(0, size * 3 + 5).records)).toHaveLength(3);
    // A limit smaller than the first batch still returns that batch whole...
    expect(parseBatches(log.read(0, 10).records)).toHaveLength(1);
    // ...unless the caller asks for none.
    expect(log.read(0, 10, { minOneBatch: false }).records.length).toBe(0);
    // maxOffset (a high watermark) hides batches reaching it.
    const hw = log.read(0, 1 << 20, { maxOffset: 4 });
    expect(parseBatches(hw.records).map((b) => b.baseOffset)).toEqual([0, 1, 2, 3]);
    expect(log.read(4, 1 << 20, { maxOffset: 4 }).records.length).toBe(0);
  });

  it("reports offsets outside the log as OFFSET_OUT_OF_RANGE", () => {
    const { log } = openLog();
    log.append(simpleBatch(5), leader);
    expect(() => log.read(6, 100)).toThrow(expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }));
    expect(() => log.read(-1, 100)).toThrow(expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }));
    log.deleteRecordsBefore(3);
    expect(() => log.read(2, 100)).toThrow(expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }));
    expect(parseBatches(log.read(3, 1000).records)[0]!.baseOffset).toBe(0);
  });

  it("rejects malformed appends without touching the log", () => {
    const { log } = openLog();
    log.append(simpleBatch(1), leader);
    const bad = simpleBatch(2);
    bad.writeInt32BE(10_000, 8);
    expect(() => log.append(bad, leader)).toThrow(expect.objectContaining({ code: "CORRUPT_RECORD" }));
    expect(() => log.append(Buffer.alloc(0), leader)).toThrow(
      expect.objectContaining({ code: "CORRUPT_RECORD" }),
    );
    expect(() => log.append(Buffer.alloc(30), leader)).toThrow(
      expect.objectContaining({ code: "CORRUPT_RECORD" }),
    );
    expect(log.logEndOffset).toBe(1);
    expect(log.read(0, 1000).records.length).toBe(simpleBatch(1).length);
  });

  it("keeps offsets of follower appends and rejects offsets going backwards", () => {
    const { log } = openLog();
    log.append(
      buildBatch([{ key: null, value: Buffer.from("a") }], { baseOffset: 10, partitionLeaderEpoch: 3 }),
      {
        assignOffsets: false,
        leaderEpoch: 3,
      },
    );
    expect(log.logEndOffset).toBe(11);
    expect(() =>
      log.append(buildBatch([{ key: null, value: Buffer.from("b") }], { baseOffset: 5 }), {
        assignOffsets: false,
        leaderEpoch: 3,
      }),
    ).toThrow(expect.objectContaining({ code: "STATE" }));
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 11 });
  });

  it("rolls segments by segment.bytes and reads across them", async () => {
    const { log, dir } = openLog({ "segment.bytes": "1000", "index.interval.bytes": "100" });
    for (let i = 0; i < 50; i++) log.append(simpleBatch(2, 50), leader);
    expect(log.numberOfSegments).toBeGreaterThan(5);
    const names = fs.readdirSync(dir).filter((n) => n.endsWith(".log"));
    expect(names).toContain("00000000000000000000.log");
    expect(names.every((n) => /^\d{20}\.log$/.test(n))).toBe(true);
    for (let off = 0; off < 100; off++) {
      const b = parseBatches(log.read(off, 1).records);
      expect(b).toHaveLength(1);
      expect(b[0]!.baseOffset <= off && off <= b[0]!.lastOffset).toBe(true);
    }
    // Closed segments' indexes were trimmed to their entries.
    const idx = fs.readdirSync(dir).filter((n) => n.endsWith(".index"));
    const sizes = idx.map((n) => fs.statSync(path.join(dir, n)).size);
    expect(sizes.slice(0, -1).every((s) => s < 1000)).toBe(true);
    // The active segment's index is created lazily, preallocated once written out (flush).
    const activeIndex = path.join(dir, `${String(log.activeSegment.baseOffset).padStart(20, "0")}.index`);
    expect(fs.existsSync(activeIndex)).toBe(false);
    await log.flush();
    expect(fs.statSync(activeIndex).size).toBe(DEFAULT_LOG_CONFIG.segmentIndexBytes);
  });

  it("rolls by segment.ms using the injected clock", () => {
    const { log, clock } = openLog({ "segment.ms": "1000" });
    log.append(simpleBatch(1, 10, clock.now), leader);
    clock.advance(500);
    log.append(simpleBatch(1, 10, clock.now), leader);
    expect(log.numberOfSegments).toBe(1);
    clock.advance(1000);
    log.append(simpleBatch(1, 10, clock.now), leader);
    expect(log.numberOfSegments).toBe(2);
    expect(log.segmentBaseOffsets()).toEqual([0, 2]);
  });

  it("rolls when the index is full", () => {
    const { log } = openLog({ "segment.index.bytes": "24", "index.interval.bytes": "0" });
    for (let i = 0; i < 20; i++) log.append(simpleBatch(1), leader);
    expect(log.numberOfSegments).toBeGreaterThan(3);
    for (let off = 0; off < 20; off++)
      expect(parseBatches(log.read(off, 1).records)[0]!.baseOffset).toBe(off);
  });

  it("rejects an append larger than segment.bytes", () => {
    const { log } = openLog({ "segment.bytes": "200" });
    expect(() => log.append(simpleBatch(10, 100), leader)).toThrow(
      expect.objectContaining({ code: "FRAME_TOO_LARGE" }),
    );
  });
});

describe("PartitionLog timestamps", () => {
  it("finds the first batch whose max timestamp reaches the target", () => {
    const { log } = openLog({ "segment.bytes": "600", "index.interval.bytes": "50" });
    const t0 = 1_000_000;
    for (let i = 0; i < 40; i++) log.append(simpleBatch(1, 20, t0 + i * 10), leader);
    expect(log.numberOfSegments).toBeGreaterThan(2);
    for (let i = 0; i < 40; i++) {
      expect(log.offsetForTimestamp(t0 + i * 10)?.offset).toBe(i);
      if (i > 0) expect(log.offsetForTimestamp(t0 + i * 10 - 5)?.offset).toBe(i);
    }
    expect(log.offsetForTimestamp(t0 + 10_000)).toBeUndefined();
    expect(log.offsetForTimestamp(0)?.offset).toBe(0);
    expect(log.offsetForTimestamp(EARLIEST_TIMESTAMP)?.offset).toBe(0);
    expect(log.offsetForTimestamp(LATEST_TIMESTAMP)?.offset).toBe(40);
    expect(log.offsetForTimestamp(MAX_TIMESTAMP)).toMatchObject({ offset: 39, timestamp: t0 + 390 });
  });

  it("resolves a timestamp to the first record reaching it inside a batch", () => {
    const { log } = openLog();
    log.append(simpleBatch(2, 5, 10), leader);
    const ts = [100, 50, 200, 150];
    log.append(
      buildBatch(ts.map((t, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from("v"), timestamp: t }))),
      leader,
    );
    expect(log.offsetForTimestamp(40)).toMatchObject({ offset: 2, timestamp: 100 });
    expect(log.offsetForTimestamp(120)).toMatchObject({ offset: 4, timestamp: 200 });
    expect(log.offsetForTimestamp(160)).toMatchObject({ offset: 4, timestamp: 200 });
    expect(log.offsetForTimestamp(MAX_TIMESTAMP)).toMatchObject({ offset: 4, timestamp: 200 });
    // LogAppendTime batches carry one timestamp for all their records.
    log.append(simpleBatch(3, 5, 10), { ...leader, logAppendTimeMs: 5000 });
    expect(log.offsetForTimestamp(4000)).toMatchObject({ offset: 6, timestamp: 5000 });
  });

  it("handles timestamps that go backwards", () => {
    const { log } = openLog({ "index.interval.bytes": "0" });
    const ts = [100, 300, 200, 250, 400, 50];
    for (const t of ts) log.append(simpleBatch(1, 5, t), leader);
    // Earliest batch whose max timestamp is >= target, as Kafka's ListOffsets.
    expect(log.offsetForTimestamp(150)?.offset).toBe(1);
    expect(log.offsetForTimestamp(260)?.offset).toBe(1);
    expect(log.offsetForTimestamp(350)?.offset).toBe(4);
    expect(log.offsetForTimestamp(MAX_TIMESTAMP)?.offset).toBe(4);
  });
});

describe("PartitionLog truncation, deletion and retention", () => {
  it("truncateTo removes whole batches and later segments", () => {
    const { log } = openLog({ "segment.bytes": "500" });
    for (let i = 0; i < 30; i++)
      log.append(simpleBatch(2, 20), { assignOffsets: true, leaderEpoch: i < 15 ? 1 : 2 });
    expect(log.logEndOffset).toBe(60);
    const segmentsBefore = log.numberOfSegments;
    log.truncateTo(21); // inside the batch [20, 21]
    expect(log.logEndOffset).toBe(20);
    expect(log.numberOfSegments).toBeLessThan(segmentsBefore);
    expect(log.endOffsetForEpoch(2)).toEqual({ epoch: -1, endOffset: -1 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 20 });
    const r = log.append(simpleBatch(1), leader);
    expect(r.firstOffset).toBe(20);
    const all = parseBatches(log.read(18, 1 << 20).records);
    expect(all.map((b) => b.baseOffset)).toContain(20);
    log.truncateTo(0);
    expect(log.logEndOffset).toBe(0);
    expect(log.numberOfSegments).toBe(1);
  });

  it("truncateTo an offset inside an offset gap ends the log at that offset", () => {
    const { log } = openLog();
    const follower = { assignOffsets: false, leaderEpoch: 0 };
    log.append(buildBatch([{ key: null, value: Buffer.from("a") }], { baseOffset: 0 }), follower);
    log.append(buildBatch([{ key: null, value: Buffer.from("b") }], { baseOffset: 10 }), follower);
    log.truncateTo(5);
    expect(log.logEndOffset).toBe(5);
    expect(log.append(simpleBatch(1), leader).firstOffset).toBe(5);
    expect(parseBatches(log.read(1, 1000).records).map((b) => b.baseOffset)).toEqual([5]);
  });

  it("consumers reading on from their last position see new data after truncation", () => {
    const { log } = openLog({ "segment.bytes": "400" });
    for (let i = 0; i < 12; i++) log.append(simpleBatch(1, 50), leader);
    // Tail the log to its end, as a consumer does.
    let next = 0;
    while (next < log.logEndOffset) next = log.read(next, 1000).nextOffset;
    for (const cut of [11, 7, 3]) {
      log.truncateTo(cut);
      const fresh = buildBatch([{ key: null, value: Buffer.from(`after-${cut}`) }]);
      log.append(fresh, leader);
      const got = log.read(cut, 1000).records;
      expect(got.subarray(0, fresh.length).equals(fresh)).toBe(true);
      expect(log.read(cut + 1, 1000).records.length).toBe(0);
    }
  });

  it("truncateFullyAndStartAt restarts the log at an offset", () => {
    const { log, dir } = openLog();
    log.append(simpleBatch(5), leader);
    log.truncateFullyAndStartAt(1000);
    expect(log.logStartOffset).toBe(1000);
    expect(log.logEndOffset).toBe(1000);
    expect(fs.existsSync(path.join(dir, "00000000000000001000.log"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "00000000000000000000.log"))).toBe(false);
    expect(log.append(simpleBatch(1), leader).firstOffset).toBe(1000);
  });

  it("deleteRecordsBefore advances the start and deletes whole segments below it", () => {
    const { log } = openLog({ "segment.bytes": "400" });
    for (let i = 0; i < 20; i++) log.append(simpleBatch(1, 50), leader);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    const target = bases[2]! + 1;
    expect(log.deleteRecordsBefore(target)).toBe(target);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    expect(log.logStartOffset).toBe(target);
    expect(() => log.deleteRecordsBefore(21)).toThrow(
      expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }),
    );
  });

  it("retention.ms deletes old closed segments, never the active one", () => {
    const { log, clock } = openLog({ "segment.bytes": "400", "retention.ms": "10000" });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(1, 50, clock.now), leader);
    clock.advance(20_000);
    for (let i = 0; i < 3; i++) log.append(simpleBatch(1, 50, clock.now), leader);
    const before = log.segmentBaseOffsets();
    const deleted = log.deleteOldSegments();
    expect(deleted).toBeGreaterThan(0);
    const after = log.segmentBaseOffsets();
    expect(after.length).toBe(before.length - deleted);
    expect(log.logStartOffset).toBe(after[0]);
    // Everything is old now: the active segment is rolled, then deleted as a closed one; an empty
    // active segment at the log end remains.
    clock.advance(100_000);
    log.deleteOldSegments();
    expect(log.numberOfSegments).toBe(1);
    expect(log.logEndOffset).toBe(13);
    expect(log.logStartOffset).toBe(13);
    expect(log.sizeBytes).toBe(0);
    expect(log.append(simpleBatch(1, 50, clock.now), leader).firstOffset).toBe(13);
  });

  it("deletes producer snapshots above a truncation and below a moved log start", () => {
    const { log, dir, clock } = openLog({ "segment.bytes": "400", "retention.ms": "10000" });
    const snapshots = () =>
      fs
        .readdirSync(dir)
        .filter((n) => n.endsWith(".snapshot"))
        .map((n) => Number(n.slice(0, 20)))
        .sort((a, b) => a - b);
    const snapshot = (offset: number) => fs.writeFileSync(log.producerSnapshotPath(offset), "state");
    for (let i = 0; i < 20; i++) {
      log.append(simpleBatch(1, 50, clock.now), leader);
      if (i % 4 === 3) snapshot(log.logEndOffset);
    }
    expect(snapshots()).toEqual([4, 8, 12, 16, 20]);
    fs.writeFileSync(path.join(dir, "00000000000000000009.snapshot.tmp"), "half"); // not a snapshot
    // Truncation: snapshots above the new log end describe data that is gone; one at it stays.
    log.truncateTo(16);
    expect(snapshots()).toEqual([4, 8, 12, 16]);
    log.truncateTo(14);
    expect(snapshots()).toEqual([4, 8, 12]);
    // DeleteRecords: snapshots below the new log start go; one at it stays.
    log.deleteRecordsBefore(8);
    expect(snapshots()).toEqual([8, 12]);
    // Retention moves the start too.
    clock.advance(20_000);
    for (let i = 0; i < 3; i++) log.append(simpleBatch(1, 50, clock.now), leader);
    snapshot(log.logEndOffset);
    expect(log.deleteOldSegments()).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeGreaterThan(8);
    expect(snapshots()).toEqual([12, 17].filter((o) => o >= log.logStartOffset));
    log.truncateFullyAndStartAt(100);
    expect(snapshots()).toEqual([]);
    expect(fs.existsSync(path.join(dir, "00000000000000000009.snapshot.tmp"))).toBe(true);
  });

  it("retention.bytes keeps the partition under the limit", () => {
    const { log } = openLog({ "segment.bytes": "400", "retention.bytes": "1000" });
    for (let i = 0; i < 30; i++) log.append(simpleBatch(1, 50), leader);
    log.deleteOldSegments();
    expect(log.sizeBytes).toBeLessThanOrEqual(1000 + 400);
    expect(log.sizeBytes - log.activeSegment.sizeBytes).toBeLessThanOrEqual(1000);
  });

  it("retention never deletes data above the high watermark", () => {
    const { log, clock } = openLog({ "segment.bytes": "400", "retention.ms": "1" });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(1, 50, clock.now), leader);
    clock.advance(10_000);
    log.updateHighWatermark(0);
    expect(log.deleteOldSegments()).toBe(0);
    log.updateHighWatermark(10);
    expect(log.deleteOldSegments()).toBeGreaterThan(0);
  });
});

describe("PartitionLog durability and recovery", () => {
  it("reopens after a clean close with the same content", async () => {
    const { log, dir, config } = openLog({ "segment.bytes": "600", "index.interval.bytes": "64" });
    for (let i = 0; i < 30; i++) log.append(simpleBatch(2, 30, 1000 + i), leader);
    const before = Array.from({ length: 60 }, (_, off) => log.read(off, 1).records);
    await log.close();
    const again = reopen(dir, config, true);
    expect(again.logEndOffset).toBe(60);
    expect(again.loadReport.recoveredSegments).toBe(0);
    expect(again.offsetForTimestamp(1015)?.offset).toBe(30);
    for (let off = 0; off < 60; off++) expect(again.read(off, 1).records.equals(before[off]!)).toBe(true);
    expect(again.append(simpleBatch(1), leader).firstOffset).toBe(60);
  });

  it("truncates a torn tail after an unclean shutdown and logs what it repaired", async () => {
    const { log, dir, config } = openLog({ "index.interval.bytes": "64" });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(3, 40), leader);
    const full = log.activeSegment.sizeBytes;
    // Simulate a crash mid-write: a partial batch at the end of the file.
    const logFile = path.join(dir, "00000000000000000000.log");
    fs.appendFileSync(logFile, simpleBatch(3, 40).subarray(0, 70));
    const events: string[] = [];
    const again = reopen(dir, config, false, {
      events: { info: () => {}, warn: (_f, m) => events.push(m) },
    });
    expect(again.logEndOffset).toBe(30);
    expect(again.loadReport.truncatedBytes).toBe(70);
    expect(fs.statSync(logFile).size).toBe(full);
    expect(events).toContain("repaired log on load");
    await again.close();
  });

  it("truncates at a corrupt batch after the recovery point and drops later segments", () => {
    const { log, dir, config } = openLog({ "segment.bytes": "500" });
    for (let i = 0; i < 20; i++) log.append(simpleBatch(1, 60), leader);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    // Flip a byte in the second batch of the second segment.
    const victim = path.join(dir, `${String(bases[1]).padStart(20, "0")}.log`);
    const size = simpleBatch(1, 60).length;
    const fd = fs.openSync(victim, "r+");
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, size + 70);
    fs.closeSync(fd);
    const again = reopen(dir, config, false, { recoveryPoint: bases[1] });
    expect(again.logEndOffset).toBe(bases[1]! + 1);
    expect(again.segmentBaseOffsets()).toEqual(bases.slice(0, 2));
    expect(again.loadReport.problems.join("\n")).toMatch(/CRC mismatch/);
    expect(again.append(simpleBatch(1), leader).firstOffset).toBe(bases[1]! + 1);
  });

  it("detects a corrupt byte in an old segment when it is read", () => {
    const { log, dir } = openLog({ "segment.bytes": "500" });
    for (let i = 0; i < 20; i++) log.append(simpleBatch(1, 60), leader);
    const size = simpleBatch(1, 60).length;
    const first = path.join(dir, "00000000000000000000.log");
    const fd = fs.openSync(first, "r+");
    fs.writeSync(fd, Buffer.from([0x01]), 0, 1, size + 80);
    fs.closeSync(fd);
    // The first batch is fine; a read starting there stops before the corrupt one.
    expect(parseBatches(log.read(0, 1 << 20).records).map((b) => b.baseOffset)).toEqual([0]);
    // A read of the corrupt batch itself is an error, never data.
    let err: unknown;
    try {
      log.read(1, 1 << 20);
    } catch (e) {
      err = e;
    }
    expect(isKrillError(err, "CORRUPT_SEGMENT")).toBe(true);
    expect(parseBatches(log.read(2, 1 << 20).records)[0]!.baseOffset).toBe(2);
  });

  it("checkpoints new epochs when the log is flushed; recovery restores the unflushed ones", async () => {
    const { log, dir, config } = openLog();
    const file = path.join(dir, "leader-epoch-checkpoint");
    log.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 1 });
    // Off the append path: nothing written (no fsync) until the log is flushed.
    expect(fs.existsSync(file)).toBe(false);
    await log.flush();
    expect(log.recoveryPoint).toBe(2);
    expect(fs.readFileSync(file, "utf8")).toBe("0\n1\n1 0\n");
    log.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 3 });
    expect(fs.readFileSync(file, "utf8")).toBe("0\n1\n1 0\n");
    // A crash now: the epoch-3 entry lies above the recovery point, which recovery re-reads.
    const again = reopen(dir, config, false, { recoveryPoint: log.recoveryPoint });
    expect(again.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 2 },
    ]);
    expect(again.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
  });

  it("rebuilds the leader-epoch cache from recovered batches", () => {
    const { log, dir, config } = openLog();
    log.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 1 });
    log.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 2 });
    // A crash after the batch was written but before the new epoch was checkpointed.
    fs.writeFileSync(path.join(dir, "leader-epoch-checkpoint"), "0\n1\n1 0\n");
    const again = reopen(dir, config, false);
    expect(again.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 2 },
    ]);
    expect(again.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
  });

  it("rebuilds an unreadable leader-epoch checkpoint from the batch headers", async () => {
    const { log, dir, config } = openLog({ "segment.bytes": "300" });
    for (let e = 0; e < 4; e++) log.append(simpleBatch(2, 40), { assignOffsets: true, leaderEpoch: e * 2 });
    await log.close();
    fs.writeFileSync(path.join(dir, "leader-epoch-checkpoint"), "garbage");
    const again = reopen(dir, config, true);
    expect(again.leaderEpochCache.epochEntries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 2 },
      { epoch: 4, startOffset: 4 },
      { epoch: 6, startOffset: 6 },
    ]);
    expect(again.loadReport.problems).toContain("rebuilt the leader-epoch cache from batch headers");
  });

  it("removes orphan index files and files marked .deleted on load", async () => {
    const { log, dir, config } = openLog();
    log.append(simpleBatch(1), leader);
    await log.close();
    fs.writeFileSync(path.join(dir, "00000000000000000999.index"), Buffer.alloc(8));
    fs.writeFileSync(path.join(dir, "00000000000000000999.timeindex"), Buffer.alloc(12));
    fs.writeFileSync(path.join(dir, "00000000000000000500.log.deleted"), "old");
    fs.writeFileSync(path.join(dir, "00000000000000000007.snapshot"), "producer state");
    const again = reopen(dir, config, true);
    expect(fs.readdirSync(dir).sort()).toEqual([
      "00000000000000000000.index",
      "00000000000000000000.log",
      "00000000000000000000.timeindex",
      "00000000000000000007.snapshot",
      "leader-epoch-checkpoint",
    ]);
    expect(again.logEndOffset).toBe(1);
  });

  it("rebuilds a missing or damaged index", async () => {
    const { log, dir, config } = openLog({ "segment.bytes": "2000", "index.interval.bytes": "50" });
    for (let i = 0; i < 40; i++) log.append(simpleBatch(1, 60), leader);
    await log.close();
    fs.rmSync(path.join(dir, "00000000000000000000.index"));
    fs.appendFileSync(path.join(dir, "00000000000000000000.timeindex"), Buffer.from([1, 2, 3]));
    const again = reopen(dir, config, true);
    expect(again.loadReport.rebuiltIndexes).toBe(1);
    expect(fs.statSync(path.join(dir, "00000000000000000000.index")).size).toBeGreaterThan(0);
    for (let off = 0; off < 40; off++)
      expect(parseBatches(again.read(off, 1).records)[0]!.baseOffset).toBe(off);
  });

  it("group-commits fsync for krill.fsync.before.ack", async () => {
    const { log } = openLog({ "krill.fsync.before.ack": "true" });
    const results = [];
    for (let i = 0; i < 20; i++) results.push(log.append(simpleBatch(1), leader));
    expect(results.every((r) => r.durable instanceof Promise)).toBe(true);
    await Promise.all(results.map((r) => r.durable));
    expect(log.recoveryPoint).toBe(20);
    expect(log.unflushedMessages).toBe(0);
  });

  it("flush.messages triggers a flush; flush.ms is checked against the clock", async () => {
    const { log, clock } = openLog({ "flush.messages": "5", "flush.ms": "1000" });
    for (let i = 0; i < 4; i++) expect(log.append(simpleBatch(1), leader).durable).toBeUndefined();
    const r = log.append(simpleBatch(1), leader);
    await r.durable;
    expect(log.recoveryPoint).toBe(5);
    log.append(simpleBatch(1), leader);
    expect(log.flushIfDue()).toBeUndefined();
    clock.advance(2000);
    await log.flushIfDue();
    expect(log.recoveryPoint).toBe(6);
  });
});

describe("PartitionLog model property", () => {
  it("reads agree with a model of appended batches, before and after reopening", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ count: fc.integer({ min: 1, max: 5 }), valueBytes: fc.integer({ min: 0, max: 300 }) }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1800, max: 5000 }),
        fc.integer({ min: 0, max: 500 }),
        async (appends, segmentBytes, interval) => {
          const { log, dir, config } = openLog({
            "segment.bytes": String(segmentBytes),
            "index.interval.bytes": String(interval),
          });
          const model: { base: number; last: number; bytes: Buffer }[] = [];
          for (const a of appends) {
            const batch = simpleBatch(a.count, a.valueBytes);
            const r = log.append(batch, leader);
            model.push({ base: r.firstOffset, last: r.lastOffset, bytes: Buffer.from(batch) });
          }
          const check = (l: PartitionLog) => {
            expect(l.logEndOffset).toBe(model.at(-1)!.last + 1);
            for (const m of model) {
              for (const off of [m.base, m.last]) {
                const got = l.read(off, 1);
                expect(got.records.equals(m.bytes)).toBe(true);
              }
            }
          };
          check(log);
          await log.close();
          check(reopen(dir, config, true));
          check(reopen(dir, config, false));
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("PartitionLog recovery property", () => {
  it("after a random torn or flipped byte, recovery keeps exactly the valid prefix", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (sizes, where, flip) => {
          const { log, dir, config, pool } = openLog({
            "segment.bytes": "3000",
            "index.interval.bytes": "100",
          });
          const written: { base: number; bytes: Buffer }[] = [];
          for (const size of sizes) {
            const batch = simpleBatch(1 + (size % 3), size);
            const r = log.append(batch, leader);
            written.push({ base: r.firstOffset, bytes: Buffer.from(batch) });
          }
          pool.closeAll();
          const active = path.join(dir, `${String(log.activeSegment.baseOffset).padStart(20, "0")}.log`);
          const size = fs.statSync(active).size;
          let at = Math.floor(where * size);
          if (flip) {
            // baseOffset and partitionLeaderEpoch lie outside the CRC in Kafka's format, so a flip
            // there is not detectable as corruption; aim at a checked byte of the same batch.
            let start = 0;
            for (const w of written) {
              if (w.base < log.activeSegment.baseOffset) continue;
              if (at < start + w.bytes.length) {
                const inBatch = at - start;
                if (inBatch < 8 || (inBatch >= 12 && inBatch < 16)) at = start + 21;
                break;
              }
              start += w.bytes.length;
            }
          }
          if (size > 0 && flip) {
            const fd = fs.openSync(active, "r+");
            const b = Buffer.alloc(1);
            fs.readSync(fd, b, 0, 1, Math.min(at, size - 1));
            b[0]! ^= 0x5a;
            fs.writeSync(fd, b, 0, 1, Math.min(at, size - 1));
            fs.closeSync(fd);
          } else {
            fs.truncateSync(active, at);
          }
          const again = reopen(dir, config, false, { recoveryPoint: log.activeSegment.baseOffset });
          // Every batch that lies wholly before the damage survives; nothing after it does.
          const segmentBase = log.activeSegment.baseOffset;
          let expectedEnd = segmentBase;
          let position = 0;
          for (const w of written) {
            if (w.base < segmentBase) continue;
            if (position + w.bytes.length > (flip ? Math.min(at, size - 1) + 1 : at)) break;
            if (flip && position + w.bytes.length > Math.min(at, size - 1)) break;
            position += w.bytes.length;
            expectedEnd = w.base + w.bytes.readInt32BE(23) + 1;
          }
          expect(again.logEndOffset).toBe(expectedEnd);
          for (const w of written) {
            const last = w.base + w.bytes.readInt32BE(23);
            if (last >= again.logEndOffset) break;
            expect(again.read(w.base, 1).records.equals(w.bytes)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("PartitionLog hostile appends", () => {
  it("rejects arbitrary bytes with a KrillError and stays consistent", () => {
    const { log } = openLog();
    const good = simpleBatch(2, 30);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 0, max: 255 }),
        (noise, at, value) => {
          const mutated = Buffer.from(good);
          mutated[at % mutated.length] = value;
          for (const input of [Buffer.from(noise), mutated, Buffer.concat([good, Buffer.from(noise)])]) {
            const before = log.logEndOffset;
            try {
              const r = log.append(Buffer.from(input), { ...leader, verifyCrc: true });
              expect(r.firstOffset).toBe(before);
            } catch (err) {
              expect(isKrillError(err)).toBe(true);
              expect(log.logEndOffset).toBe(before);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
    // Everything that was accepted reads back, CRC-valid.
    let offset = 0;
    while (offset < log.logEndOffset) {
      const r = log.read(offset, 1 << 20, { minOneBatch: true });
      if (r.records.length === 0) break;
      expect(parseBatches(r.records).every((b) => b.crcValid)).toBe(true);
      offset = r.nextOffset;
    }
  });

  it("without verifyCrc a corrupt batch is stored but never served", () => {
    const { log } = openLog();
    const bad = simpleBatch(1, 30);
    bad[bad.length - 1]! ^= 1;
    log.append(bad, leader);
    expect(() => log.read(0, 1000)).toThrow(expect.objectContaining({ code: "CORRUPT_SEGMENT" }));
    expect(() => log.append(simpleBatch(1, 30).fill(7, 70), { ...leader, verifyCrc: true })).toThrow(
      expect.objectContaining({ code: "CORRUPT_RECORD" }),
    );
  });
});

import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { logConfigFrom } from "../../src/log/config.js";
import { LogManager } from "../../src/log/log-manager.js";
import type { PartitionLog } from "../../src/log/partition-log.js";
import { buildEndTxnMarkerBatch } from "../../src/protocol/records/control-records.js";
import {
  buildRecordBatch,
  type DecodedRecordBatch,
  decodeRecordBatches,
} from "../../src/protocol/records/record-batch.js";
import { ManualClock, tempDir } from "./helpers.js";

const dirs: string[] = [];
const managers: LogManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.shutdown();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const COMPACT = {
  "cleanup.policy": "compact",
  "segment.bytes": "600",
  "min.cleanable.dirty.ratio": "0.01",
  "delete.retention.ms": "1000",
};

function setup(overrides: Record<string, string> = {}): {
  lm: LogManager;
  log: PartitionLog;
  clock: ManualClock;
  logDir: string;
} {
  const logDir = tempDir("krill-clean-");
  dirs.push(logDir);
  const clock = new ManualClock(Date.now());
  const lm = new LogManager({
    logDirs: [logDir],
    clock,
    defaultConfig: logConfigFrom({ ...COMPACT, ...overrides }),
    cleaner: { enable: false },
  });
  managers.push(lm);
  lm.startup();
  const log = lm.getOrCreateLog({ topic: "compacted", partition: 0 });
  return { lm, log, clock, logDir };
}

const leader = { assignOffsets: true, leaderEpoch: 0 };

function put(
  log: PartitionLog,
  clock: ManualClock,
  entries: [string, string | null][],
  extra: Partial<Parameters<typeof buildRecordBatch>[0]> = {},
): void {
  log.append(
    buildRecordBatch({
      records: entries.map(([k, v]) => ({ key: k, value: v, timestamp: clock.now })),
      ...extra,
    }),
    leader,
  );
}

function readAll(log: PartitionLog): DecodedRecordBatch[] {
  const out: DecodedRecordBatch[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20);
    if (r.records.length === 0) break;
    out.push(...decodeRecordBatches(r.records, { decompressedBytesMax: 1 << 24 }));
    offset = r.nextOffset;
  }
  return out;
}

function records(log: PartitionLog): { offset: number; key: string | null; value: string | null }[] {
  return readAll(log).flatMap((b) =>
    b.records.map((r) => ({
      offset: Number(r.offset),
      key: r.key === null ? null : r.key.toString(),
      value: r.value === null ? null : r.value.toString(),
    })),
  );
}

describe("LogCleaner", () => {
  it("keeps the latest record per key in closed segments and preserves offsets", async () => {
    const { lm, log, clock } = setup();
    for (let round = 0; round < 6; round++) {
      put(log, clock, [
        ["a", `a${round}`],
        ["b", `b${round}`],
        ["c", `c${round}`],
      ]);
    }
    log.roll();
    const before = records(log);
    const result = await lm.cleaner.cleanFilthiest();
    expect(result?.segmentsRewritten).toBeGreaterThan(0);
    const after = records(log);
    expect(after.map((r) => [r.key, r.value])).toEqual([
      ["a", "a5"],
      ["b", "b5"],
      ["c", "c5"],
    ]);
    // Offsets are preserved: each surviving record sits at its original offset.
    for (const r of after) expect(before.find((b) => b.offset === r.offset)).toEqual(r);
    expect(result?.endOffset).toBe(18);
    // Nothing left to do.
    expect(await lm.cleaner.cleanFilthiest()).toBeUndefined();
  });

  it("keeps tombstones for delete.retention.ms, then removes them", async () => {
    const { lm, log, clock } = setup();
    put(log, clock, [
      ["a", "1"],
      ["b", "1"],
    ]);
    put(log, clock, [["a", null]]);
    log.roll();
    await lm.cleaner.clean(log);
    expect(records(log).map((r) => [r.key, r.value])).toEqual([
      ["b", "1"],
      ["a", null],
    ]);
    // The horizon is recorded in the rewritten batch (KIP-534).
    expect(readAll(log).some((b) => b.hasDeleteHorizon)).toBe(true);
    clock.advance(2000);
    put(log, clock, [["b", "2"]]);
    log.roll();
    await lm.cleaner.clean(log);
    expect(records(log).map((r) => [r.key, r.value])).toEqual([["b", "2"]]);
  });

  it("honours min.compaction.lag.ms and min.cleanable.dirty.ratio", async () => {
    const { lm, log, clock } = setup({ "min.compaction.lag.ms": "10000" });
    put(log, clock, [["a", "1"]]);
    put(log, clock, [["a", "2"]]);
    log.roll();
    expect(await lm.cleaner.cleanFilthiest()).toBeUndefined();
    clock.advance(20_000);
    expect((await lm.cleaner.cleanFilthiest())?.recordsRemoved).toBe(1);

    lm.setTopicConfig("compacted", logConfigFrom({ ...COMPACT, "min.cleanable.dirty.ratio": "0.9" }));
    put(log, clock, [["a", "3"]]);
    log.roll();
    // Dirty: the new segment; clean: the cleaned one. Ratio 0.5 < 0.9.
    const stats = lm.cleaner.cleanableStats(log);
    expect(stats.dirtyRatio).toBeGreaterThan(0.3);
    expect(stats.dirtyRatio).toBeLessThan(0.9);
    expect(await lm.cleaner.cleanFilthiest()).toBeUndefined();
  });

  it("cleans a log past max.compaction.lag.ms whatever its dirty ratio, and rolls it in time", async () => {
    const { lm, log, clock } = setup({ "min.cleanable.dirty.ratio": "1", "max.compaction.lag.ms": "60000" });
    put(log, clock, [["a", "1"]]);
    put(log, clock, [["a", "2"]]);
    log.roll();
    await lm.cleaner.clean(log);
    put(log, clock, [["a", "3"]]);
    clock.advance(30_000);
    put(log, clock, [["c", "1"]]);
    // The active segment rolls once its first batch is max.compaction.lag.ms old.
    const segments = log.numberOfSegments;
    clock.advance(40_000);
    put(log, clock, [["b", "1"]]);
    expect(log.numberOfSegments).toBe(segments + 1);
    // The dirty ratio is below the (maximal) threshold, yet the dirty records are overdue.
    expect(lm.cleaner.cleanableStats(log).dirtyRatio).toBeLessThan(1);
    const result = await lm.cleaner.cleanFilthiest();
    expect(result?.recordsRemoved).toBe(1);
    expect(records(log).map((r) => [r.key, r.value])).toEqual([
      ["a", "3"],
      ["c", "1"],
      ["b", "1"],
    ]);
  });

  it("leaves control and transactional batches intact and keeps a producer's last batch header", async () => {
    const { lm, log, clock } = setup();
    put(log, clock, [["k", "txn"]], {
      producerId: 7n,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    });
    log.append(
      buildEndTxnMarkerBatch({
        producerId: 7n,
        producerEpoch: 0,
        commit: true,
        coordinatorEpoch: 0,
        timestampMs: clock.now,
      }),
      leader,
    );
    put(log, clock, [["p", "1"]], { producerId: 9n, producerEpoch: 0, baseSequence: 0 });
    put(log, clock, [["p", "2"]]);
    log.roll();
    await lm.cleaner.clean(log);
    const batches = readAll(log);
    expect(batches.some((b) => b.isControl)).toBe(true);
    expect(batches.some((b) => b.isTransactional && b.records[0]?.value?.toString() === "txn")).toBe(true);
    const producerBatch = batches.find((b) => b.header.producerId === 9n);
    expect(producerBatch?.records).toHaveLength(0);
    expect(producerBatch?.header.baseSequence).toBe(0);
    expect(
      records(log)
        .filter((r) => r.key === "p")
        .map((r) => r.value),
    ).toEqual(["2"]);
  });

  it("rebuilds compressed batches with their codec", async () => {
    const { lm, log, clock } = setup({ "segment.bytes": "2000" });
    for (let i = 0; i < 10; i++) {
      put(
        log,
        clock,
        [
          [`x${i % 3}`, `v${i}`],
          [`y${i % 2}`, `w${i}`],
        ],
        { compression: "gzip" },
      );
    }
    log.roll();
    await lm.cleaner.clean(log);
    const batches = readAll(log);
    expect(batches.every((b) => b.compression === 1)).toBe(true);
    const latest = new Map(records(log).map((r) => [r.key, r.value]));
    expect(Object.fromEntries(latest)).toEqual({ x0: "v9", x1: "v7", x2: "v8", y0: "w8", y1: "w9" });
  });

  it("completes an interrupted swap and drops a half-written cleaned file at startup", async () => {
    const { lm, log, clock, logDir } = setup();
    for (let i = 0; i < 8; i++) put(log, clock, [["k", String(i)]]);
    await lm.shutdown();
    managers.length = 0;
    const dir = path.join(logDir, "compacted-0");
    const first = path.join(dir, "00000000000000000000.log");
    // A crash after the old segment was deleted, before the swap file was renamed back.
    fs.renameSync(first, `${first}.swap`);
    fs.writeFileSync(path.join(dir, "00000000000000000003.log.cleaned"), "partial");
    const lm2 = new LogManager({ logDirs: [logDir], cleaner: { enable: false } });
    managers.push(lm2);
    lm2.startup();
    const again = lm2.getLog({ topic: "compacted", partition: 0 })!;
    expect(fs.existsSync(first)).toBe(true);
    expect(fs.readdirSync(dir).some((n) => n.endsWith(".cleaned") || n.endsWith(".swap"))).toBe(false);
    expect(records(again).map((r) => r.value)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
  });

  it("yields to appends and reads while cleaning, and gives up safely if segments vanish", async () => {
    const logDir = tempDir("krill-clean-");
    dirs.push(logDir);
    const clock = new ManualClock(Date.now());
    const lm = new LogManager({
      logDirs: [logDir],
      clock,
      defaultConfig: logConfigFrom(COMPACT),
      cleaner: { enable: false, yieldEveryBytes: 100 },
    });
    managers.push(lm);
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "busy", partition: 0 });
    for (let i = 0; i < 40; i++) put(log, clock, [[`k${i % 4}`, `v${i}`]]);
    log.roll();
    const pass = lm.cleaner.clean(log);
    let interleaved = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      put(log, clock, [["live", String(i)]]);
      expect(log.read(log.logEndOffset - 1, 1000).records.length).toBeGreaterThan(0);
      interleaved++;
    }
    await pass;
    expect(interleaved).toBe(5);
    expect(records(log).filter((r) => r.key === "live")).toHaveLength(5);

    // DeleteRecords removing segments under a running pass ends it without damage.
    for (let i = 0; i < 40; i++) put(log, clock, [[`k${i % 4}`, `w${i}`]]);
    log.roll();
    const second = lm.cleaner.clean(log);
    await new Promise((r) => setImmediate(r));
    const start = log.logEndOffset - 3;
    log.deleteRecordsBefore(start);
    await second;
    expect(log.logStartOffset).toBe(start);
    // Everything from the new start is still readable and intact.
    expect(
      records(log)
        .filter((r) => r.offset >= start)
        .map((r) => r.value),
    ).toEqual(["w37", "w38", "w39"]);
    expect(fs.readdirSync(path.join(logDir, "busy-0")).some((n) => n.endsWith(".cleaned"))).toBe(false);
  });

  it("handles long keys and a full offset map without losing a latest value", async () => {
    const logDir = tempDir("krill-clean-");
    dirs.push(logDir);
    const clock = new ManualClock(Date.now());
    const lm = new LogManager({
      logDirs: [logDir],
      clock,
      defaultConfig: logConfigFrom(COMPACT),
      cleaner: { enable: false, dedupeEntriesMax: 2 },
    });
    managers.push(lm);
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "long", partition: 0 });
    const key = (i: number) => `${"x".repeat(100)}${i}`;
    for (let round = 0; round < 4; round++) {
      for (let k = 0; k < 5; k++) put(log, clock, [[key(k), `r${round}`]]);
    }
    log.roll();
    for (let pass = 0; pass < 12; pass++) await lm.cleaner.clean(log);
    const latest = new Map<string, string | null>();
    for (const r of records(log)) latest.set(r.key!, r.value);
    for (let k = 0; k < 5; k++) expect(latest.get(key(k))).toBe("r3");
    expect(records(log).length).toBeLessThan(20);
  });

  it("runs in the background when the LogManager starts its tasks", async () => {
    const logDir = tempDir("krill-clean-");
    dirs.push(logDir);
    const lm = new LogManager({
      logDirs: [logDir],
      defaultConfig: logConfigFrom(COMPACT),
      cleaner: { backoffMs: 20 },
    });
    managers.push(lm);
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "bg", partition: 0 });
    const clock = new ManualClock(Date.now());
    for (let i = 0; i < 30; i++) put(log, clock, [[`k${i % 3}`, `v${i}`]]);
    log.roll();
    lm.startBackgroundTasks();
    const deadline = Date.now() + 10_000;
    while (records(log).length > 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(records(log).map((r) => r.value)).toEqual(["v27", "v28", "v29"]);
    expect(fs.readFileSync(path.join(logDir, "cleaner-offset-checkpoint"), "utf8")).toBe("0\n1\nbg 0 30\n");
  });

  it("matches a model (latest value per key) over random workloads", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: 7 }), fc.option(fc.string({ maxLength: 20 }), { freq: 4 })),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 3 }),
        async (batches, passes) => {
          const { lm, log, clock } = setup();
          const model = new Map<string, string | null>();
          const written = new Map<number, { key: string; value: string | null }>();
          for (const batch of batches) {
            const entries = batch.map(([k, v]) => [`key${k}`, v] as [string, string | null]);
            const first = log.logEndOffset;
            put(log, clock, entries);
            entries.forEach(([k, v], i) => {
              model.set(k, v);
              written.set(first + i, { key: k, value: v });
            });
          }
          log.roll();
          for (let p = 0; p < passes; p++) {
            await lm.cleaner.clean(log);
            clock.advance(5000);
          }
          const after = records(log);
          // Every surviving record is the one written at its offset.
          for (const r of after) expect(written.get(r.offset)).toEqual({ key: r.key, value: r.value });
          // At most one record per key; it is the latest value (a tombstone may be gone entirely).
          const seen = new Map<string, string | null>();
          for (const r of after) {
            expect(seen.has(r.key!)).toBe(false);
            seen.set(r.key!, r.value);
          }
          for (const [k, v] of model) {
            if (v === null && passes > 1) expect(seen.has(k)).toBe(false);
            else if (v === null) expect(seen.get(k) ?? null).toBeNull();
            else expect(seen.get(k)).toBe(v);
          }
          await lm.shutdown();
          managers.length = 0;
        },
      ),
      { numRuns: 30 },
    );
  });
  it("removes aborted transactions' records; committed ones compact and shadow older values", async () => {
    const { lm, log, clock } = setup();
    const txn = (pid: bigint, seq: number) => ({
      producerId: pid,
      producerEpoch: 0,
      baseSequence: seq,
      transactional: true,
    });
    const marker = (pid: bigint, commit: boolean) =>
      log.append(
        buildEndTxnMarkerBatch({
          producerId: pid,
          producerEpoch: 0,
          commit,
          coordinatorEpoch: 0,
          timestampMs: clock.now,
        }),
        leader,
      );
    put(log, clock, [
      ["a", "plain-1"],
      ["b", "plain-1"],
    ]);
    put(
      log,
      clock,
      [
        ["a", "aborted"],
        ["c", "aborted"],
      ],
      txn(5n, 0),
    );
    put(log, clock, [["b", "committed"]], txn(6n, 0));
    marker(5n, false);
    marker(6n, true);
    put(log, clock, [["x", "1"]], txn(5n, 2));
    put(log, clock, [["x", "2"]]);
    marker(5n, true);
    log.roll();
    const result = await lm.cleaner.clean(log);
    expect(result.progressed).toBe(true);
    const data = readAll(log).filter((b) => !b.isControl);
    const values = data.flatMap((b) => b.records.map((r) => `${r.key}=${r.value}`));
    // The aborted value of "a" does not shadow the plain one; "c" existed only in the aborted txn.
    expect(values.sort()).toEqual(["a=plain-1", "b=committed", "x=2"]);
    // Markers stay; a committed transactional batch keeps its flag.
    expect(readAll(log).filter((b) => b.isControl)).toHaveLength(3);
    expect(data.find((b) => b.records[0]?.key?.toString() === "b")?.isTransactional).toBe(true);
    // Producer 5's data batches are gone whole (aborted, or committed and shadowed): its last
    // batch is its COMMIT marker, which keeps its producer state.
    expect(data.filter((b) => b.header.producerId === 5n)).toEqual([]);
  });

  it("removes a COMMIT marker after delete.retention.ms once its data is gone; ABORT markers stay", async () => {
    const { lm, log, clock } = setup(); // delete.retention.ms = 1000
    const txn = (pid: bigint, seq: number) => ({
      producerId: pid,
      producerEpoch: 0,
      baseSequence: seq,
      transactional: true,
    });
    const marker = (pid: bigint, commit: boolean) =>
      log.append(
        buildEndTxnMarkerBatch({
          producerId: pid,
          producerEpoch: 0,
          commit,
          coordinatorEpoch: 0,
          timestampMs: clock.now,
        }),
        leader,
      );
    put(log, clock, [["k", "a1"]], txn(7n, 0));
    marker(7n, true); // offset 1
    put(log, clock, [["x", "aborted"]], txn(8n, 0));
    marker(8n, false); // offset 3
    put(log, clock, [["k", "a2"]]);
    put(log, clock, [["j", "b1"]], txn(7n, 1));
    marker(7n, true); // offset 6: its producer's last batch
    put(log, clock, [["z", "1"]], txn(8n, 1));
    marker(8n, true); // offset 8
    log.roll();
    const markers = () =>
      readAll(log)
        .filter((b) => b.isControl)
        .map((b) => [Number(b.header.baseOffset), b.hasDeleteHorizon]);
    // Pass 1: the first transaction's record goes (shadowed), its marker stays: data was read.
    await lm.cleaner.clean(log);
    expect(records(log).filter((r) => r.key === "k")).toEqual([{ offset: 4, key: "k", value: "a2" }]);
    expect(markers()).toEqual([
      [1, false],
      [3, false],
      [6, false],
      [8, false],
    ]);
    // Pass 2: no data before it any more: the COMMIT marker gets a delete horizon.
    await lm.cleaner.clean(log);
    expect(markers()).toEqual([
      [1, true],
      [3, false],
      [6, false],
      [8, false],
    ]);
    clock.advance(500);
    await lm.cleaner.clean(log);
    expect(markers().map((m) => m[0])).toEqual([1, 3, 6, 8]);
    // Past the horizon it goes; the ABORT marker, and markers with data or ending a producer's
    // batches, stay.
    clock.advance(600);
    const result = await lm.cleaner.clean(log);
    expect(result.markersRemoved).toBe(1);
    expect(markers()).toEqual([
      [3, false],
      [6, false],
      [8, false],
    ]);
    expect(records(log).filter((r) => r.key !== null && r.value !== null && r.key.length === 1)).toEqual([
      { offset: 4, key: "k", value: "a2" },
      { offset: 5, key: "j", value: "b1" },
      { offset: 7, key: "z", value: "1" },
    ]);
  });

  it("keeps transactional data whose outcome is unknown and stops the mapped section there", async () => {
    const { lm, log, clock } = setup();
    put(log, clock, [["k", "old"]]);
    put(log, clock, [["k", "open"]], {
      producerId: 3n,
      producerEpoch: 0,
      baseSequence: 0,
      transactional: true,
    });
    put(log, clock, [["k", "new"]]);
    log.roll();
    const result = await lm.cleaner.clean(log);
    expect(result.endOffset).toBe(1);
    expect(records(log).map((r) => r.value)).toEqual(["old", "open", "new"]);
    // Nothing could move: the pass reports no progress, so the background loop backs off.
    expect((await lm.cleaner.clean(log)).progressed).toBe(false);
  });

  it("matches a model (latest non-aborted value per key) over random transactional workloads", async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("put" as const),
        producer: fc.integer({ min: 0, max: 2 }), // 0: not transactional
        entries: fc.array(
          fc.tuple(fc.integer({ min: 0, max: 5 }), fc.option(fc.string({ maxLength: 12 }), { freq: 5 })),
          { minLength: 1, maxLength: 4 },
        ),
      }),
      fc.record({
        kind: fc.constant("end" as const),
        producer: fc.integer({ min: 1, max: 2 }),
        commit: fc.boolean(),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 3 }),
        async (ops, commitAtEnd, passes) => {
          const { lm, log, clock } = setup();
          const written = new Map<number, { key: string; value: string | null }>();
          const open = new Map<bigint, number[]>(); // producer -> offsets of its open transaction
          const aborted = new Set<number>();
          const sequence = new Map<bigint, number>();
          const end = (pid: bigint, commit: boolean) => {
            const offsets = open.get(pid);
            if (offsets === undefined) return;
            log.append(
              buildEndTxnMarkerBatch({
                producerId: pid,
                producerEpoch: 0,
                commit,
                coordinatorEpoch: 0,
                timestampMs: clock.now,
              }),
              leader,
            );
            if (!commit) for (const o of offsets) aborted.add(o);
            open.delete(pid);
          };
          for (const o of ops) {
            if (o.kind === "end") {
              end(BigInt(o.producer), o.commit);
              continue;
            }
            const entries = o.entries.map(([k, v]) => [`key${k}`, v] as [string, string | null]);
            const first = log.logEndOffset;
            const pid = BigInt(o.producer);
            if (o.producer === 0) put(log, clock, entries);
            else {
              const seq = sequence.get(pid) ?? 0;
              put(log, clock, entries, {
                producerId: pid,
                producerEpoch: 0,
                baseSequence: seq,
                transactional: true,
              });
              sequence.set(pid, seq + entries.length);
              const offsets = open.get(pid) ?? [];
              open.set(pid, offsets);
              for (let i = 0; i < entries.length; i++) offsets.push(first + i);
            }
            entries.forEach(([k, v], i) => {
              written.set(first + i, { key: k, value: v });
            });
          }
          for (const pid of [...open.keys()]) end(pid, commitAtEnd);
          // Model: per key, the record with the highest offset outside aborted transactions.
          const model = new Map<string, string | null>();
          for (const [offset, w] of [...written].sort((x, y) => x[0] - y[0]))
            if (!aborted.has(offset)) model.set(w.key, w.value);
          log.roll();
          for (let p = 0; p < passes; p++) {
            await lm.cleaner.clean(log);
            clock.advance(5000);
          }
          const after = readAll(log)
            .filter((b) => !b.isControl)
            .flatMap((b) =>
              b.records.map((r) => ({
                offset: Number(r.offset),
                key: r.key!.toString(),
                value: r.value?.toString() ?? null,
              })),
            );
          const seen = new Map<string, string | null>();
          for (const r of after) {
            // Every surviving record is the one written at its offset, and never aborted data.
            expect({ key: r.key, value: r.value }).toEqual(written.get(r.offset));
            expect(aborted.has(r.offset)).toBe(false);
            expect(seen.has(r.key)).toBe(false);
            seen.set(r.key, r.value);
          }
          for (const [k, v] of model) {
            if (v === null && passes > 1) expect(seen.has(k)).toBe(false);
            else if (v === null) expect(seen.get(k) ?? null).toBeNull();
            else expect(seen.get(k)).toBe(v);
          }
          // Keys written only in aborted transactions are gone.
          for (const k of seen.keys()) expect(model.has(k)).toBe(true);
          await lm.shutdown();
          managers.length = 0;
        },
      ),
      { numRuns: 40 },
    );
  });
});

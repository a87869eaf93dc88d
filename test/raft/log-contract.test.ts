/**
 * The RaftLog contract, run against both implementations: the simulation's MemoryRaftLog and the
 * production FileRaftLog (Kafka's layout on disk). Then what only the file log has: reopening,
 * crash leftovers, and the files Kafka's tools expect.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SYSTEM_CLOCK } from "../../src/clock.js";
import { decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { FileRaftLog } from "../../src/raft/file-log.js";
import { type RaftLog, truncateToEndOffset, validateOffsetAndEpoch } from "../../src/raft/log.js";
import { MemoryRaftLog } from "../../src/raft/memory-log.js";
import type { RaftRecord } from "../../src/raft/types.js";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-raftlog-"));
  dirs.push(d);
  return path.join(d, "__cluster_metadata-0");
}

const openFile = (dir: string) => FileRaftLog.open({ dir, clock: SYSTEM_CLOCK, logger });

/** Append times near now: a segment whose first batch is older than segment.ms (7 days) would roll. */
const T = Date.now();

const data = (n: number, tag = ""): RaftRecord[] =>
  Array.from({ length: n }, (_, i) => ({ type: "data", value: Buffer.from(`${tag}${i}`) }));

const leaderChange = (leaderId: number): RaftRecord => ({
  type: "leaderChange",
  leaderId,
  voters: [1, 2, 3],
  grantingVoters: [leaderId, 3],
});

/** Epoch 1: offsets 0-2, epoch 2: 3-4, epoch 4: 5-8. */
function fill(log: RaftLog): RaftLog {
  log.appendAsLeader(data(3), 1, T);
  log.appendAsLeader(data(2), 2, T);
  log.appendAsLeader(data(4), 4, T);
  return log;
}

const implementations: [string, () => RaftLog][] = [
  ["MemoryRaftLog", () => new MemoryRaftLog()],
  ["FileRaftLog", () => openFile(tempDir())],
];

describe.each(implementations)("RaftLog contract: %s", (_name, make) => {
  it("starts empty at offset 0, epoch 0", () => {
    const log = make();
    expect([log.startOffset(), log.endOffset(), log.flushedEndOffset(), log.lastFetchedEpoch()]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 0, offset: 0 });
    expect(log.latestSnapshot()).toBeNull();
    expect(log.read(0, 1000)).toEqual([]);
  });

  it("appends batches as leader and follower and reads them back whole, with their epochs and times", () => {
    const log = make();
    const first = log.appendAsLeader([leaderChange(2)], 1, T + 500);
    expect(first).toEqual({ baseOffset: 0, epoch: 1, appendTimeMs: T + 500, records: [leaderChange(2)] });
    log.appendAsLeader(data(3, "a"), 1, T + 600);
    log.appendAsFollower({ baseOffset: 4, epoch: 3, appendTimeMs: T + 700, records: data(2, "b") });
    expect(log.endOffset()).toBe(6);
    expect(log.lastFetchedEpoch()).toBe(3);
    const batches = log.read(0, 1 << 20);
    expect(batches).toEqual([
      { baseOffset: 0, epoch: 1, appendTimeMs: T + 500, records: [leaderChange(2)] },
      { baseOffset: 1, epoch: 1, appendTimeMs: T + 600, records: data(3, "a") },
      { baseOffset: 4, epoch: 3, appendTimeMs: T + 700, records: data(2, "b") },
    ]);
    // From inside a batch: the rest of it first.
    expect(log.read(2, 1 << 20)[0]).toEqual({
      baseOffset: 2,
      epoch: 1,
      appendTimeMs: T + 600,
      records: data(3, "a").slice(1),
    });
    // At least one batch whatever maxBytes says; fewer when it is small.
    expect(log.read(1, 1)).toHaveLength(1);
    expect(log.read(6, 1 << 20)).toEqual([]);
  });

  it("refuses appends of an older epoch and follower appends off the log end", () => {
    const log = fill(make());
    expect(() => log.appendAsLeader(data(1), 3, 0)).toThrow();
    expect(() =>
      log.appendAsFollower({ baseOffset: 20, epoch: 4, appendTimeMs: T, records: data(1) }),
    ).toThrow();
  });

  it("tracks the flushed end apart from the appended end", () => {
    const log = make();
    log.appendAsLeader(data(2), 1, T);
    expect(log.flushedEndOffset()).toBe(0);
    log.flush();
    expect(log.flushedEndOffset()).toBe(2);
    log.appendAsLeader(data(3), 1, T);
    expect([log.endOffset(), log.flushedEndOffset()]).toEqual([5, 2]);
    log.flush();
    log.truncateTo(2);
    expect([log.endOffset(), log.flushedEndOffset()]).toEqual([2, 2]);
  });

  it("finds where each epoch ends (the largest epoch at or below the one asked)", () => {
    const log = fill(make());
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, offset: 3 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 2, offset: 5 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 9 });
    expect(log.endOffsetForEpoch(9)).toEqual({ epoch: 4, offset: 9 });
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, offset: 0 });
  });

  it("validates a fetcher's position as Kafka's ReplicatedLog does", () => {
    const log = fill(make());
    expect(validateOffsetAndEpoch(log, 0, 0)).toEqual({ kind: "valid" });
    expect(validateOffsetAndEpoch(log, 5, 2)).toEqual({ kind: "valid" });
    expect(validateOffsetAndEpoch(log, 7, 4)).toEqual({ kind: "valid" });
    expect(validateOffsetAndEpoch(log, 6, 3)).toEqual({
      kind: "diverging",
      endOffset: { epoch: 2, offset: 5 },
    });
    expect(validateOffsetAndEpoch(log, 4, 1)).toEqual({
      kind: "diverging",
      endOffset: { epoch: 1, offset: 3 },
    });
  });

  it("truncates to where the leader's epoch ends (epoch boundaries are batch boundaries)", () => {
    const log = fill(make());
    expect(truncateToEndOffset(log, { epoch: 3, offset: 7 })).toBe(5);
    expect([log.endOffset(), log.lastFetchedEpoch()]).toEqual([5, 2]);
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 2, offset: 5 });
    // The log takes a new epoch after the cut.
    log.appendAsFollower({ baseOffset: 5, epoch: 3, appendTimeMs: T, records: data(1, "c") });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 6 });
    expect(truncateToEndOffset(log, { epoch: 0, offset: 0 })).toBe(0);
    expect([log.endOffset(), log.lastFetchedEpoch()]).toEqual([0, 0]);
  });

  it("makes a snapshot inside the log its start and sends older fetchers to it", () => {
    const log = fill(make());
    log.flush();
    log.installSnapshot({ offset: 5, epoch: 2 }, Buffer.from("state at 5"));
    expect(log.startOffset()).toBe(5);
    expect(log.endOffset()).toBe(9);
    expect(log.latestSnapshot()).toEqual({ id: { offset: 5, epoch: 2 }, sizeBytes: 10 });
    expect(log.read(5, 1 << 20)[0]?.baseOffset).toBe(5);
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 2, offset: 5 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 9 });
    expect(validateOffsetAndEpoch(log, 2, 1)).toEqual({
      kind: "snapshot",
      snapshotId: { offset: 5, epoch: 2 },
    });
    expect(validateOffsetAndEpoch(log, 7, 1)).toEqual({
      kind: "snapshot",
      snapshotId: { offset: 5, epoch: 2 },
    });
    expect(validateOffsetAndEpoch(log, 7, 4)).toEqual({ kind: "valid" });
    // Chunks, as FetchSnapshot reads them.
    expect(log.readSnapshot({ offset: 5, epoch: 2 }, 0, 5)?.toString()).toBe("state");
    expect(log.readSnapshot({ offset: 5, epoch: 2 }, 5, 100)?.toString()).toBe(" at 5");
    expect(log.readSnapshot({ offset: 5, epoch: 1 }, 0, 5)).toBeNull();
  });

  it("restarts empty at a snapshot beyond its end (a follower that fell behind)", () => {
    const log = fill(make());
    log.installSnapshot({ offset: 40, epoch: 6 }, Buffer.from("later"));
    expect([log.startOffset(), log.endOffset(), log.flushedEndOffset(), log.lastFetchedEpoch()]).toEqual([
      40, 40, 40, 6,
    ]);
    expect(log.endOffsetForEpoch(7)).toEqual({ epoch: 6, offset: 40 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 0, offset: 40 });
    expect(log.read(40, 100)).toEqual([]);
    log.appendAsFollower({ baseOffset: 40, epoch: 7, appendTimeMs: T, records: data(2) });
    expect(log.endOffsetForEpoch(7)).toEqual({ epoch: 7, offset: 42 });
    expect(log.lastFetchedEpoch()).toBe(7);
  });
});

describe("FileRaftLog on disk", () => {
  it("writes Kafka's layout: segments with the epoch as partitionLeaderEpoch, a leader-epoch checkpoint, control batches", () => {
    const dir = tempDir();
    const log = openFile(dir);
    log.appendAsLeader([leaderChange(1)], 3, T);
    log.appendAsLeader(data(2), 3, T);
    log.flush();
    const names = readdirSync(dir);
    expect(names).toContain("00000000000000000000.log");
    expect(names).toContain("leader-epoch-checkpoint");
    const batches = decodeRecordBatches(log.segments.read(0, 1 << 20), { decompressedBytesMax: 1 << 20 });
    expect(batches.map((b) => [b.header.partitionLeaderEpoch, b.isControl, b.records.length])).toEqual([
      [3, true, 1],
      [3, false, 2],
    ]);
  });

  it("reopens with its batches, epochs, snapshot and start offset", async () => {
    const dir = tempDir();
    const log = openFile(dir);
    fill(log);
    log.flush();
    log.installSnapshot({ offset: 5, epoch: 2 }, Buffer.from("image"));
    log.appendAsLeader(data(1, "x"), 5, T);
    log.flush();
    await (log as FileRaftLog).close();
    const again = openFile(dir);
    expect([
      again.startOffset(),
      again.endOffset(),
      again.flushedEndOffset(),
      again.lastFetchedEpoch(),
    ]).toEqual([5, 10, 10, 5]);
    expect(again.latestSnapshot()?.id).toEqual({ offset: 5, epoch: 2 });
    expect(existsSync(path.join(dir, "00000000000000000005-0000000002.checkpoint"))).toBe(true);
    expect(again.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 9 });
    expect(again.read(9, 100)).toEqual([{ baseOffset: 9, epoch: 5, appendTimeMs: T, records: data(1, "x") }]);
    await again.close();
  });

  it("after a crash: a torn last batch is cut off, a half-written snapshot is removed", async () => {
    const dir = tempDir();
    const log = openFile(dir);
    fill(log);
    log.flush();
    await log.close();
    // The last batch (epoch 4, offsets 5-8) half on disk; a snapshot that never got renamed.
    const segment = path.join(dir, "00000000000000000000.log");
    truncateSync(segment, statSync(segment).size - 7);
    writeFileSync(path.join(dir, "00000000000000000009-0000000004.checkpoint.part"), "partial");
    const again = openFile(dir);
    expect([again.endOffset(), again.flushedEndOffset(), again.lastFetchedEpoch()]).toEqual([5, 5, 2]);
    expect(again.endOffsetForEpoch(4)).toEqual({ epoch: 2, offset: 5 });
    expect(again.latestSnapshot()).toBeNull();
    expect(readdirSync(dir).some((n) => n.endsWith(".part"))).toBe(false);
    // The log goes on from there.
    again.appendAsFollower({ baseOffset: 5, epoch: 4, appendTimeMs: T, records: data(1) });
    expect(again.endOffset()).toBe(6);
    await again.close();
  });

  it("a truncation survives a restart (the leader-epoch checkpoint is rewritten at once)", async () => {
    const dir = tempDir();
    const log = openFile(dir);
    fill(log);
    log.flush();
    log.truncateTo(3);
    await log.close();
    const again = openFile(dir);
    expect([again.endOffset(), again.lastFetchedEpoch()]).toEqual([3, 1]);
    expect(again.endOffsetForEpoch(4)).toEqual({ epoch: 1, offset: 3 });
    await again.close();
  });

  it("a snapshot newer than the log's end found on open (crash after the snapshot's rename) restarts the log there", async () => {
    const dir = tempDir();
    const log = openFile(dir);
    fill(log);
    log.flush();
    await log.close();
    writeFileSync(path.join(dir, "00000000000000000020-0000000006.checkpoint"), "snap");
    const again = openFile(dir);
    expect([again.startOffset(), again.endOffset(), again.lastFetchedEpoch()]).toEqual([20, 20, 6]);
    await again.close();
  });
});

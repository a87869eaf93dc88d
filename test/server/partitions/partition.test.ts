import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LOG_CONFIG } from "../../../src/log/config.js";
import { FilePool } from "../../../src/log/file-pool.js";
import { PartitionLog } from "../../../src/log/partition-log.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { lookupOffsetByTimestamp } from "../../../src/server/partitions/offset-lookup.js";
import { Partition, type PartitionEvents } from "../../../src/server/partitions/partition.js";
import { DEFAULT_PRODUCER_STATE_OPTIONS } from "../../../src/server/producer-state/producer-state.js";
import { listSnapshotOffsets, snapshotFileName } from "../../../src/server/producer-state/snapshot.js";
import { validatedBatches } from "../validated-batches.js";

const NOW = 1_760_000_000_000;
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "krill-partition-"));
  dirs.push(root);
  const pool = new FilePool(64);
  const events = { appended: [] as [string, number][], changed: [] as string[], warnings: [] as string[] };
  const sink: PartitionEvents = {
    onAppend: (key, bytes) => events.appended.push([key, bytes]),
    onChange: (key) => events.changed.push(key),
    warn: (_fields, message) => events.warnings.push(message),
  };
  const open = () => {
    const log = PartitionLog.open({
      dir: path.join(root, "t-0"),
      topicPartition: { topic: "t", partition: 0 },
      config: DEFAULT_LOG_CONFIG,
      pool,
      hadCleanShutdown: true,
    });
    return new Partition("t", 0, log, 0, sink, DEFAULT_PRODUCER_STATE_OPTIONS);
  };
  return { open, events, dir: path.join(root, "t-0") };
}

function append(
  p: Partition,
  producerId: bigint,
  baseSequence: number,
  values: string[],
  epoch = 0,
  logAppendTime = false,
) {
  const records = buildRecordBatch({
    producerId,
    producerEpoch: epoch,
    baseSequence,
    records: values.map((value) => ({ timestamp: NOW - 5000, key: null, value })),
  });
  return p.appendAsLeader(records, validatedBatches(records, NOW), logAppendTime, NOW);
}

describe("Partition", () => {
  it("appends, moves the high watermark and wakes fetches", () => {
    const { open, events } = setup();
    const p = open();
    const r = append(p, -1n, -1, ["a", "b"]);
    expect(r).toMatchObject({ kind: "appended", firstOffset: 0, lastOffset: 1 });
    expect(p.highWatermark).toBe(2);
    expect(events.appended).toEqual([["t-0", expect.any(Number)]]);
    expect(p.read(0, 1 << 20, true, false).nextOffset).toBe(2);
  });

  it("answers a retried LogAppendTime batch with its original append time", () => {
    const { open } = setup();
    const p = open();
    expect(append(p, 5n, 0, ["a"], 0, true)).toMatchObject({ kind: "appended", logAppendTimeMs: NOW });
    expect(append(p, 5n, 0, ["a"], 0, true)).toMatchObject({ kind: "duplicate", logAppendTimeMs: NOW });
  });

  it("rebuilds producer state from the log when there is no snapshot", async () => {
    const { open, dir } = setup();
    const p = open();
    append(p, 5n, 0, ["a"]);
    append(p, 5n, 1, ["b", "c"]);
    await p.log.close();
    expect(listSnapshotOffsets(dir)).toEqual([]);
    const reopened = open();
    expect(append(reopened, 5n, 1, ["b", "c"])).toMatchObject({ kind: "duplicate", firstOffset: 1 });
    expect(append(reopened, 5n, 9, ["x"])).toMatchObject({
      kind: "error",
      errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    });
    expect(append(reopened, 5n, 3, ["d"])).toMatchObject({ kind: "appended", firstOffset: 3 });
  });

  it("loads the newest snapshot plus the batches after it, and drops snapshots past the log end", async () => {
    const { open, dir } = setup();
    const p = open();
    append(p, 5n, 0, ["a"]);
    expect(await p.takeSnapshot()).toBe(true);
    expect(await p.takeSnapshot()).toBe(false); // nothing changed
    append(p, 5n, 1, ["b"]);
    append(p, 6n, 0, ["c"]);
    await p.log.close();
    // A snapshot from a future the log no longer has (as after a truncation) must be ignored.
    fs.copyFileSync(path.join(dir, snapshotFileName(1)), path.join(dir, snapshotFileName(99)));
    const reopened = open();
    expect(append(reopened, 5n, 1, ["b"])).toMatchObject({ kind: "duplicate", firstOffset: 1 });
    expect(append(reopened, 6n, 0, ["c"])).toMatchObject({ kind: "duplicate", firstOffset: 2 });
    expect(listSnapshotOffsets(dir)).toEqual([1]);
  });

  it("falls back to replay when the snapshot is corrupt, and deletes it", async () => {
    const { open, dir, events } = setup();
    const p = open();
    append(p, 5n, 0, ["a"]);
    await p.takeSnapshot();
    await p.log.close();
    const file = path.join(dir, snapshotFileName(1));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    const reopened = open();
    expect(append(reopened, 5n, 0, ["a"])).toMatchObject({ kind: "duplicate", firstOffset: 0 });
    expect(events.warnings).toContain("deleting corrupt producer snapshot");
    expect(fs.existsSync(file)).toBe(false);
  });

  it("deletes records: moves the log start, forgets producers whose data is gone, signals fetches", () => {
    const { open, events } = setup();
    const p = open();
    append(p, 5n, 0, ["a"]);
    append(p, 6n, 0, ["b"]);
    expect(p.deleteRecordsBefore(1)).toBe(1);
    expect(p.logStartOffset).toBe(1);
    expect(events.changed).toEqual(["t-0"]);
    // Producer 5's only batch is gone, so any sequence is accepted again (KIP-360).
    expect(append(p, 5n, 7, ["c"]).kind).toBe("appended");
    expect(append(p, 6n, 7, ["c"])).toMatchObject({ kind: "error" });
    expect(p.deleteRecordsBefore(-1)).toBe(p.highWatermark);
  });

  it("finds offsets by timestamp at record precision, like Kafka", () => {
    const { open } = setup();
    const p = open();
    for (const [stamps, compression] of [
      [[100, 200, 300], "none"],
      [[400, 400, 350], "gzip"],
    ] as const) {
      const records = buildRecordBatch({
        compression,
        records: stamps.map((timestamp) => ({ timestamp, key: null, value: "x" })),
      });
      expect(p.appendAsLeader(records, validatedBatches(records, NOW), false, NOW).kind).toBe("appended");
    }
    expect(lookupOffsetByTimestamp(p.log, 150)).toMatchObject({ offset: 1, timestamp: 200 });
    expect(lookupOffsetByTimestamp(p.log, 100)).toMatchObject({ offset: 0, timestamp: 100 });
    expect(lookupOffsetByTimestamp(p.log, 301)).toMatchObject({ offset: 3, timestamp: 400 });
    expect(lookupOffsetByTimestamp(p.log, -3)).toMatchObject({ offset: 3, timestamp: 400 });
    expect(lookupOffsetByTimestamp(p.log, 401)).toBeUndefined();
    p.deleteRecordsBefore(4);
    expect(lookupOffsetByTimestamp(p.log, 150)).toMatchObject({ offset: 4, timestamp: 400 });
  });
});

describe("Partition append failures", () => {
  it("logs the first failure, then at most one report per interval with the count, then the recovery", async () => {
    const { vi } = await import("vitest");
    const { KrillError } = await import("../../../src/errors.js");
    const { APPEND_FAILURE_LOG_INTERVAL_MS } = await import("../../../src/server/partitions/partition.js");
    const { open, events } = setup();
    const p = open();
    const records = buildRecordBatch({ records: [{ timestamp: NOW, key: null, value: "x" }] });
    const batches = validatedBatches(records, NOW);
    const spy = vi.spyOn(p.log, "append").mockImplementation(() => {
      throw new KrillError("LOG_IO", "Append failed: ENOSPC: no space left on device, write");
    });
    // 50 failures within one interval: one warning; the next interval's first failure reports them.
    for (let i = 0; i < 50; i++) {
      const r = p.appendAsLeader(records, batches, false, NOW + i);
      expect(r).toMatchObject({ kind: "error", errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
    }
    expect(events.warnings).toEqual(["append failed"]);
    // A transaction marker hits the same log: it fails the same way, under the same throttle.
    expect(p.appendTxnMarker(7n, 0, 0, true, NOW + 60)).toMatchObject({
      kind: "error",
      errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
    });
    expect(events.warnings).toEqual(["append failed"]);
    p.appendAsLeader(records, batches, false, NOW + APPEND_FAILURE_LOG_INTERVAL_MS);
    expect(events.warnings).toEqual(["append failed", "append failed"]);
    spy.mockRestore();
    expect(p.appendAsLeader(records, batches, false, NOW + APPEND_FAILURE_LOG_INTERVAL_MS + 1)).toMatchObject(
      {
        kind: "appended",
        firstOffset: 0,
      },
    );
    expect(events.warnings).toEqual(["append failed", "append failed", "appends succeed again"]);
    // A later failure is a new episode: logged at once.
    vi.spyOn(p.log, "append").mockImplementation(() => {
      throw new KrillError("LOG_IO", "again");
    });
    p.appendAsLeader(records, batches, false, NOW + APPEND_FAILURE_LOG_INTERVAL_MS + 2);
    expect(events.warnings.at(-1)).toBe("append failed");
    expect(events.warnings).toHaveLength(4);
  });
});

describe("Partition.checkLeaderEpoch (Fetch, ListOffsets and OffsetForLeaderEpoch)", () => {
  const atEpoch = (leaderEpoch: number) => {
    const p = setup().open();
    p.makeLeader({ leader: 0, leaderEpoch, partitionEpoch: 1, replicas: [0], isr: [0] });
    return p;
  };

  it("skips the check for -1 and accepts the leader's epoch", () => {
    expect(atEpoch(7).checkLeaderEpoch(-1)).toBe(ErrorCode.NONE);
    expect(atEpoch(7).checkLeaderEpoch(7)).toBe(ErrorCode.NONE);
    expect(atEpoch(0).checkLeaderEpoch(0)).toBe(ErrorCode.NONE);
  });

  it("fences an older epoch and does not know a newer one", () => {
    expect(atEpoch(7).checkLeaderEpoch(6)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(atEpoch(7).checkLeaderEpoch(0)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(atEpoch(7).checkLeaderEpoch(8)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });
});

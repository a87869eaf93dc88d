/**
 * The follower half of a Partition: the leader's bytes stored as they are (offsets, epochs, CRCs),
 * producer state and aborted transactions rebuilt from them, CRC failures refused, a torn tail
 * left for the next fetch, truncation (producer state reloaded), and roles from the image.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LOG_CONFIG } from "../../../src/log/config.js";
import { FilePool } from "../../../src/log/file-pool.js";
import { PartitionLog } from "../../../src/log/partition-log.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { Partition, type PartitionEvents } from "../../../src/server/partitions/partition.js";
import { DEFAULT_PRODUCER_STATE_OPTIONS } from "../../../src/server/producer-state/producer-state.js";
import { validatedBatches } from "../validated-batches.js";

const NOW = Date.now();
const dirs: string[] = [];
const sink: PartitionEvents = { onAppend: () => {}, onChange: () => {}, warn: () => {} };

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function openLog(name: string): PartitionLog {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `krill-follower-${name}-`));
  dirs.push(root);
  return PartitionLog.open({
    dir: path.join(root, "t-0"),
    topicPartition: { topic: "t", partition: 0 },
    config: DEFAULT_LOG_CONFIG,
    pool: new FilePool(16),
    hadCleanShutdown: true,
  });
}

function follower(): Partition {
  const p = new Partition("t", 0, openLog("f"), -1, sink, DEFAULT_PRODUCER_STATE_OPTIONS);
  p.makeFollower({ leader: 1, leaderEpoch: 3, partitionEpoch: 1, replicas: [0, 1], isr: [0, 1] });
  return p;
}

function leaderAt(epoch: number): Partition {
  const p = new Partition("t", 0, openLog("l"), -1, sink, DEFAULT_PRODUCER_STATE_OPTIONS);
  p.makeLeader({ leader: 0, leaderEpoch: epoch, partitionEpoch: 1, replicas: [0], isr: [0] });
  return p;
}

function produce(p: Partition, producerId: bigint, sequence: number, count: number, transactional = false) {
  const records = buildRecordBatch({
    producerId,
    producerEpoch: 0,
    baseSequence: sequence,
    transactional,
    records: Array.from({ length: count }, (_, i) => ({
      timestamp: NOW,
      key: null,
      value: `v${sequence + i}`,
    })),
  });
  const r = p.appendAsLeader(records, validatedBatches(records, NOW), false, NOW);
  expect(r.kind).toBe("appended");
}

function everything(p: Partition): Buffer {
  return Buffer.from(p.read(p.logStartOffset, 1 << 20, true, false, false, true).records);
}

describe("Partition as follower", () => {
  it("stores the leader's batches byte for byte and rebuilds producer state and aborted transactions", () => {
    const leader = leaderAt(3);
    produce(leader, 5n, 0, 2);
    produce(leader, 7n, 0, 3, true);
    expect(leader.appendTxnMarker(7n, 0, 1, false, NOW).kind).toBe("appended");
    produce(leader, 8n, 0, 1, true);
    const bytes = everything(leader);
    const f = follower();
    const out = f.appendAsFollower(bytes);
    expect(out).toMatchObject({
      kind: "appended",
      firstOffset: 0,
      lastOffset: leader.logEndOffset - 1,
      lastLeaderEpoch: 3,
    });
    expect(everything(f).equals(bytes)).toBe(true);
    expect(f.latestEpoch).toBe(3);
    // Producer state as the leader has it.
    const lastSeq = (p: Partition, id: bigint) => p.producerState(NOW).entry(id)?.batches.at(-1)?.lastSeq;
    expect(lastSeq(f, 5n)).toBe(1);
    expect(lastSeq(f, 8n)).toBe(lastSeq(leader, 8n));
    expect([...f.producerState(NOW).ongoingTransactions()]).toEqual([[8n, 6]]);
    expect(f.abortedTransactions(0, 100)).toEqual(leader.abortedTransactions(0, 100));
    expect(f.abortedTransactions(0, 100)).toHaveLength(1);
    f.updateFollowerHighWatermark(leader.highWatermark);
    expect(f.lastStableOffset).toBe(leader.lastStableOffset);
  });

  it("refuses a batch whose CRC fails and leaves a torn tail for the next fetch", () => {
    const leader = leaderAt(0);
    produce(leader, -1n, -1, 2);
    produce(leader, -1n, -1, 2);
    const bytes = everything(leader);
    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 0xff;
    const f = follower();
    expect(f.appendAsFollower(corrupt)).toMatchObject({
      kind: "error",
      errorCode: ErrorCode.CORRUPT_MESSAGE,
    });
    expect(f.logEndOffset).toBe(0);
    expect(f.appendAsFollower(bytes.subarray(0, bytes.length - 5))).toMatchObject({
      kind: "appended",
      lastOffset: 1,
    });
    expect(f.appendAsFollower(bytes.subarray(bytes.length / 2))).toMatchObject({
      kind: "appended",
      lastOffset: 3,
    });
  });

  it("truncates, reloads producer state, and keeps its high watermark within its log", () => {
    const leader = leaderAt(0);
    produce(leader, 5n, 0, 2);
    produce(leader, 5n, 2, 2);
    const f = follower();
    f.appendAsFollower(everything(leader));
    f.updateFollowerHighWatermark(10);
    expect(f.highWatermark).toBe(4);
    f.truncateTo(2);
    expect(f.logEndOffset).toBe(2);
    expect(f.highWatermark).toBe(2);
    expect(f.producerState(NOW).entry(5n)?.batches.at(-1)?.lastSeq).toBe(1);
  });

  it("takes roles from the image only, and ignores an older partition epoch", () => {
    const p = follower();
    expect(p.isLeader).toBe(false);
    expect(p.checkLeaderEpochAndRole(3)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(p.checkLeaderEpochAndRole(2)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(p.checkLeaderEpochAndRole(4)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const records = buildRecordBatch({ records: [{ timestamp: NOW, key: null, value: "x" }] });
    expect(p.appendAsLeader(records, validatedBatches(records, NOW), false, NOW)).toMatchObject({
      kind: "error",
      errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
    });
    expect(
      p.makeLeader({ leader: 0, leaderEpoch: 4, partitionEpoch: 0, replicas: [0, 1], isr: [0, 1] }),
    ).toBe(false);
    expect(p.isLeader).toBe(false);
    expect(
      p.makeLeader({ leader: 0, leaderEpoch: 4, partitionEpoch: 2, replicas: [0, 1], isr: [0, 1] }),
    ).toBe(true);
    expect(p.isLeader).toBe(true);
    expect(p.leaderEpochStartOffset).toBe(0);
    // The follower has not fetched yet: the high watermark waits for it.
    expect(p.appendAsLeader(records, validatedBatches(records, NOW), false, NOW).kind).toBe("appended");
    expect(p.highWatermark).toBe(0);
    expect(p.checkEnoughReplicasReachOffset(1)).toEqual({ done: false, errorCode: ErrorCode.NONE });
    p.updateFollowerFetchState(1, 1, 0, NOW, 1, -1n);
    expect(p.highWatermark).toBe(1);
    expect(p.checkEnoughReplicasReachOffset(1)).toEqual({ done: true, errorCode: ErrorCode.NONE });
  });
});

/**
 * The production `RaftLog`: `__cluster_metadata-0` in Kafka's layout (segments, leader-epoch
 * checkpoint, `<end offset>-<epoch>.checkpoint` snapshots), on `MetadataSegmentLog`, as Kafka's
 * KafkaMetadataLog sits on UnifiedLog.
 *
 * Mapping: a `RaftBatch` of data records is one Kafka record batch (keys null, values the metadata
 * records' bytes, every record's timestamp the append time); a batch of LeaderChangeMessage
 * records is a control batch. Both carry the epoch as partitionLeaderEpoch, which is also what
 * the leader-epoch checkpoint records and `endOffsetForEpoch` answers from. Kafka's own tools
 * (`kafka-dump-log --cluster-metadata-decoder`) read what this writes. Other KRaft control records
 * (KRaftVersion, Voters: kraft.version 1 in the log) are refused, as Krill runs static voters.
 *
 * Durability: every call is synchronous, as the core runs one event to completion. `flush()`
 * fsyncs on the calling thread (the metadata log is small and written in batches of proposals;
 * Kafka's raft thread blocks on the same fsync). `flushedEndOffset()` is what the last flush
 * covered; on open it is the recovered end, which is flushed again at once. Truncation writes the
 * leader-epoch checkpoint at once (PartitionLog does), and cuts whole batches: the core truncates
 * only at epoch boundaries, which are batch boundaries.
 *
 * Snapshots: `installSnapshot` writes `<offset>-<epoch>.checkpoint.part`, fsyncs it, renames it and
 * fsyncs the directory, then drops what it makes redundant: older snapshots and the segments below
 * it (or the whole log when the log does not reach it, which then restarts empty at its offset).
 * A crash between the two leaves a newer snapshot beside older data, which the next open resolves
 * the same way (the log starts at the newest snapshot). `readSnapshot` reads chunks from the file.
 *
 * Reads decode the stored batches into `RaftBatch`es (the core's currency); the metadata log is
 * small and the quorum's Fetch answers are a few batches, so this is not the data path.
 */
import assert from "node:assert/strict";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { KrillError } from "../errors.js";
import { dataBatch, leaderChangeBatch } from "../metadata/kraft-records.js";
import { METADATA_BATCH_BYTES_MAX, MetadataSegmentLog, type SnapshotId } from "../metadata/segment-log.js";
import { decodeLeaderChangeMessage } from "../protocol/generated/leader-change-message.js";
import { Reader } from "../protocol/primitives/reader.js";
import { ControlRecordType, parseControlRecordKey } from "../protocol/records/control-records.js";
import { type DecodedRecordBatch, decodeRecordBatches } from "../protocol/records/record-batch.js";
import type { RaftLog, RaftSnapshotInfo } from "./log.js";
import { batchEndOffset, type OffsetAndEpoch, type RaftBatch, type RaftRecord } from "./types.js";

export interface FileRaftLogOptions {
  /** The partition directory (`<metadata.log.dir>/__cluster_metadata-0`). */
  readonly dir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class FileRaftLog implements RaftLog {
  readonly #log: MetadataSegmentLog;
  #flushedEnd: number;

  private constructor(log: MetadataSegmentLog) {
    this.#log = log;
    log.flushSync();
    this.#flushedEnd = log.endOffset;
  }

  /** Opens (creating if needed) the log; a torn last batch is cut off (segment-log.ts). */
  static open(options: FileRaftLogOptions): FileRaftLog {
    return new FileRaftLog(MetadataSegmentLog.open(options));
  }

  /** The storage underneath (inspection and tests). */
  get segments(): MetadataSegmentLog {
    return this.#log;
  }

  startOffset(): number {
    return this.#log.logStartOffset;
  }

  endOffset(): number {
    return this.#log.endOffset;
  }

  flushedEndOffset(): number {
    return this.#flushedEnd;
  }

  lastFetchedEpoch(): number {
    if (this.endOffset() > this.startOffset()) return Math.max(0, this.#log.lastEpoch);
    return this.#newestSnapshot()?.epoch ?? 0;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const snapshot = this.#newestSnapshot();
    let result: OffsetAndEpoch | null =
      snapshot !== undefined && snapshot.epoch <= epoch
        ? { offset: snapshot.endOffset, epoch: snapshot.epoch }
        : null;
    const entries = this.#log.epochEntries();
    const end = this.endOffset();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.epoch > epoch) break;
      const next = entries[i + 1]?.startOffset ?? end;
      // An entry left at the log start with no batch after it holds nothing.
      if (next > entry.startOffset) result = { epoch: entry.epoch, offset: next };
    }
    return result ?? { epoch: 0, offset: this.startOffset() };
  }

  appendAsLeader(records: readonly RaftRecord[], epoch: number, appendTimeMs: number): RaftBatch {
    assert.ok(records.length > 0, "an empty batch");
    assert.ok(epoch >= this.lastFetchedEpoch(), `append of epoch ${epoch} after ${this.lastFetchedEpoch()}`);
    const baseOffset = this.#log.append(encodeBatch(records, epoch, appendTimeMs), epoch).firstOffset;
    return { baseOffset, epoch, appendTimeMs, records: [...records] };
  }

  appendAsFollower(batch: RaftBatch): void {
    assert.equal(batch.baseOffset, this.endOffset(), "a follower append must start at the log end");
    assert.ok(
      batch.epoch >= this.lastFetchedEpoch(),
      `append of epoch ${batch.epoch} after ${this.lastFetchedEpoch()}`,
    );
    assert.ok(batch.records.length > 0, "an empty batch");
    this.#log.append(encodeBatch(batch.records, batch.epoch, batch.appendTimeMs), batch.epoch);
  }

  read(offset: number, maxBytes: number): RaftBatch[] {
    assert.ok(offset >= this.startOffset(), `read at ${offset} below the log start ${this.startOffset()}`);
    if (offset >= this.endOffset()) return [];
    const bytes = this.#log.read(offset, maxBytes);
    const out: RaftBatch[] = [];
    for (const decoded of decodeRecordBatches(bytes, {
      decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
      batchSizeMax: METADATA_BATCH_BYTES_MAX,
    })) {
      let batch = toRaftBatch(decoded, this.#log.dir);
      if (batchEndOffset(batch) <= offset) continue;
      if (batch.baseOffset < offset) {
        batch = { ...batch, baseOffset: offset, records: batch.records.slice(offset - batch.baseOffset) };
      }
      out.push(batch);
    }
    return out;
  }

  truncateTo(offset: number): void {
    assert.ok(
      offset >= this.startOffset(),
      `truncation to ${offset} below the log start ${this.startOffset()}`,
    );
    this.#log.truncateTo(offset);
    this.#flushedEnd = Math.min(this.#flushedEnd, this.endOffset());
  }

  flush(): void {
    this.#log.flushSync();
    this.#flushedEnd = this.endOffset();
  }

  latestSnapshot(): RaftSnapshotInfo | null {
    const s = this.#newestSnapshot();
    if (s === undefined) return null;
    return { id: { offset: s.endOffset, epoch: s.epoch }, sizeBytes: this.#log.snapshotSize(s) };
  }

  readSnapshot(id: OffsetAndEpoch, position: number, maxBytes: number): Buffer | null {
    const s = this.#newestSnapshot();
    if (s === undefined || s.endOffset !== id.offset || s.epoch !== id.epoch) return null;
    return this.#log.readSnapshotChunk(s, position, maxBytes);
  }

  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    assert.ok(
      id.offset >= this.startOffset(),
      `snapshot at ${id.offset} below the log start ${this.startOffset()}`,
    );
    const keepLog = this.endOffset() >= id.offset && this.endOffsetForEpoch(id.epoch).epoch === id.epoch;
    const snapshotId: SnapshotId = { endOffset: id.offset, epoch: id.epoch };
    this.#log.writeSnapshot(snapshotId, [bytes]);
    if (keepLog) {
      // The log start moves up to the snapshot, which must not pass what is durable.
      this.#log.flushSync();
    } else {
      this.#log.truncateFullyAndStartAt(id.offset);
    }
    this.#log.deleteBefore(snapshotId);
    this.#flushedEnd = this.endOffset();
  }

  close(): Promise<void> {
    return this.#log.close();
  }

  #newestSnapshot(): SnapshotId | undefined {
    return this.#log.snapshots.at(-1);
  }
}

/** One stored record batch for `records` (all data, or all LeaderChangeMessage). */
function encodeBatch(records: readonly RaftRecord[], epoch: number, appendTimeMs: number): Buffer {
  const first = records[0]!;
  if (first.type === "data") {
    const values = records.map((r) => {
      assert.ok(r.type === "data", "a batch mixes data and control records");
      return r.value;
    });
    return dataBatch(values, 0, epoch, appendTimeMs);
  }
  assert.equal(records.length, 1, "a LeaderChangeMessage batch holds one record");
  return leaderChangeBatch(first.leaderId, first.voters, epoch, appendTimeMs, first.grantingVoters);
}

function toRaftBatch(b: DecodedRecordBatch, dir: string): RaftBatch {
  const records: RaftRecord[] = b.records.map((r) => {
    if (!b.isControl) {
      if (r.value === null)
        throw new KrillError("CORRUPT_SEGMENT", `${dir}: metadata record without a value`);
      return { type: "data", value: r.value };
    }
    const { type } = parseControlRecordKey(r.key);
    if (type !== ControlRecordType.LEADER_CHANGE || r.value === null) {
      throw new KrillError(
        "CORRUPT_SEGMENT",
        `${dir}: control record of type ${type} at offset ${r.offset} (Krill's quorum has static voters and writes only LeaderChangeMessage)`,
      );
    }
    const m = decodeLeaderChangeMessage(new Reader(r.value), 0);
    return {
      type: "leaderChange",
      leaderId: m.leaderId,
      voters: m.voters.map((v) => v.voterId),
      grantingVoters: m.grantingVoters.map((v) => v.voterId),
    };
  });
  return {
    baseOffset: Number(b.header.baseOffset),
    epoch: b.header.partitionLeaderEpoch,
    appendTimeMs: Number(b.header.maxTimestamp),
    records,
  };
}

/**
 * The replicated log the quorum core needs (Kafka's ReplicatedLog, in Kafka's terms), and the
 * two rules the core derives from it: validating a fetcher's position and truncating to a
 * diverging epoch. An implementation keeps batches of one epoch each, in offset order, tracks
 * what has been flushed (fsync) apart from what has only been appended, and keeps at most one
 * snapshot, at its log start offset. Calls are synchronous: the core runs one event to completion.
 */
import type { OffsetAndEpoch, RaftBatch, RaftRecord } from "./types.js";

export interface RaftSnapshotInfo {
  readonly id: OffsetAndEpoch;
  readonly sizeBytes: number;
}

export interface RaftLog {
  /** The first offset held as batches (the snapshot's end offset once the prefix is deleted). */
  startOffset(): number;
  /** The offset the next record gets (appended, flushed or not). */
  endOffset(): number;
  /** The end offset that a crash cannot take away. */
  flushedEndOffset(): number;
  /** The epoch of the last batch (or of the snapshot when the log holds no batch; 0 if neither). */
  lastFetchedEpoch(): number;
  /**
   * The largest epoch <= `epoch` found on the log (the snapshot at its start counting as a batch of
   * its epoch) and the offset where it ends; `{ epoch: 0, offset: startOffset }` if none is.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch;
  appendAsLeader(records: readonly RaftRecord[], epoch: number, appendTimeMs: number): RaftBatch;
  /** Appends a batch fetched from the leader; it starts at endOffset(). */
  appendAsFollower(batch: RaftBatch): void;
  /** Whole batches from `offset` (a batch boundary at or above startOffset), at least one if any, until maxBytes. */
  read(offset: number, maxBytes: number): RaftBatch[];
  /** Removes everything at and above `offset` (never below the high watermark). */
  truncateTo(offset: number): void;
  /** fsync: everything appended so far survives a crash. */
  flush(): void;
  latestSnapshot(): RaftSnapshotInfo | null;
  readSnapshot(id: OffsetAndEpoch, position: number, maxBytes: number): Buffer | null;
  /**
   * Stores a complete snapshot durably and makes it the log's start: batches below its end offset
   * are deleted, and if the log does not reach it the log is emptied and restarts at it.
   */
  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void;
}

/** Kafka's ValidOffsetAndEpoch: what the leader tells a fetcher about its position. */
export type ValidOffsetAndEpoch =
  | { readonly kind: "valid" }
  | { readonly kind: "diverging"; readonly endOffset: OffsetAndEpoch }
  | { readonly kind: "snapshot"; readonly snapshotId: OffsetAndEpoch };

/** ReplicatedLog.validateOffsetAndEpoch: is (offset, epoch) on this log? */
export function validateOffsetAndEpoch(log: RaftLog, offset: number, epoch: number): ValidOffsetAndEpoch {
  const start = log.startOffset();
  if (start === 0 && offset === 0) return { kind: "valid" };
  const snapshot = log.latestSnapshot();
  if (
    snapshot !== null &&
    (offset < start || (offset === start && epoch !== snapshot.id.epoch) || epoch < snapshot.id.epoch)
  ) {
    return { kind: "snapshot", snapshotId: snapshot.id };
  }
  const end = log.endOffsetForEpoch(epoch);
  if (end.epoch !== epoch || end.offset < offset) return { kind: "diverging", endOffset: end };
  return { kind: "valid" };
}

/** ReplicatedLog.truncateToEndOffset: truncate where the leader's epoch ends on this log. */
export function truncateToEndOffset(log: RaftLog, leaderEnd: OffsetAndEpoch): number {
  let offset: number;
  if (leaderEnd.epoch === 0) {
    offset = Math.min(leaderEnd.offset, log.endOffset());
  } else {
    const local = log.endOffsetForEpoch(leaderEnd.epoch);
    offset = local.epoch === leaderEnd.epoch ? Math.min(local.offset, leaderEnd.offset) : local.offset;
  }
  offset = Math.max(offset, log.startOffset());
  if (offset < log.endOffset()) log.truncateTo(offset);
  return offset;
}

/** A batch's size as Kafka would count it against maxBytes (61-byte header, records' values). */
export function approximateBatchBytes(batch: RaftBatch): number {
  let n = 61;
  for (const r of batch.records) n += r.type === "data" ? r.value.length + 8 : 32 + 4 * r.voters.length;
  return n;
}

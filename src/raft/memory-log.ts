/**
 * An in-memory RaftLog for the simulation and unit tests, modelling a disk: it keeps apart what
 * was appended, what flush() was asked to make durable, and what a crash really leaves
 * (`crash()` drops everything after the durable end). A "lying" disk (`lyingDisk = true`)
 * acknowledges flushes without keeping them, to model one node losing data it had acknowledged.
 * Single-threaded; every call completes synchronously.
 */
import assert from "node:assert/strict";
import { approximateBatchBytes, type RaftLog, type RaftSnapshotInfo } from "./log.js";
import { batchEndOffset, type OffsetAndEpoch, type RaftBatch, type RaftRecord } from "./types.js";

export class MemoryRaftLog implements RaftLog {
  private batches: RaftBatch[] = [];
  private logStart = 0;
  private snapshot: { id: OffsetAndEpoch; bytes: Buffer } | null = null;
  private flushedEnd = 0;
  private durableEnd = 0;
  /** When true, flush() is acknowledged but nothing it covers survives crash(). */
  lyingDisk = false;

  startOffset(): number {
    return this.logStart;
  }

  endOffset(): number {
    const last = this.batches.at(-1);
    return last === undefined ? this.logStart : batchEndOffset(last);
  }

  flushedEndOffset(): number {
    return this.flushedEnd;
  }

  /** What survives a crash (for invariants: may be below flushedEndOffset on a lying disk). */
  durableEndOffset(): number {
    return this.durableEnd;
  }

  lastFetchedEpoch(): number {
    const last = this.batches.at(-1);
    if (last !== undefined) return last.epoch;
    return this.snapshot?.id.epoch ?? 0;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    let result: OffsetAndEpoch | null = null;
    if (this.snapshot !== null && this.snapshot.id.epoch <= epoch) result = this.snapshot.id;
    for (const b of this.batches) {
      if (b.epoch > epoch) break;
      result = { epoch: b.epoch, offset: batchEndOffset(b) };
    }
    return result ?? { epoch: 0, offset: this.logStart };
  }

  appendAsLeader(records: readonly RaftRecord[], epoch: number, appendTimeMs: number): RaftBatch {
    assert.ok(records.length > 0, "an empty batch");
    assert.ok(epoch >= this.lastFetchedEpoch(), `append of epoch ${epoch} after ${this.lastFetchedEpoch()}`);
    const batch: RaftBatch = { baseOffset: this.endOffset(), epoch, appendTimeMs, records: [...records] };
    this.batches.push(batch);
    return batch;
  }

  appendAsFollower(batch: RaftBatch): void {
    assert.equal(batch.baseOffset, this.endOffset(), "a follower append must start at the log end");
    assert.ok(
      batch.epoch >= this.lastFetchedEpoch(),
      `append of epoch ${batch.epoch} after ${this.lastFetchedEpoch()}`,
    );
    assert.ok(batch.records.length > 0, "an empty batch");
    this.batches.push(batch);
  }

  read(offset: number, maxBytes: number): RaftBatch[] {
    assert.ok(offset >= this.logStart, `read at ${offset} below the log start ${this.logStart}`);
    const out: RaftBatch[] = [];
    let i = this.indexOf(offset);
    let bytes = 0;
    while (i < this.batches.length) {
      let b = this.batches[i]!;
      if (b.baseOffset < offset) {
        b = { ...b, baseOffset: offset, records: b.records.slice(offset - b.baseOffset) };
      }
      const size = approximateBatchBytes(b);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(b);
      bytes += size;
      i++;
    }
    return out;
  }

  truncateTo(offset: number): void {
    assert.ok(offset >= this.logStart, `truncation to ${offset} below the log start ${this.logStart}`);
    const i = this.indexOf(offset);
    const kept = this.batches.slice(0, i);
    const straddling = this.batches[i];
    if (straddling !== undefined && straddling.baseOffset < offset) {
      kept.push({ ...straddling, records: straddling.records.slice(0, offset - straddling.baseOffset) });
    }
    this.batches = kept;
    this.flushedEnd = Math.min(this.flushedEnd, offset);
    this.durableEnd = Math.min(this.durableEnd, offset);
  }

  flush(): void {
    this.flushedEnd = this.endOffset();
    if (!this.lyingDisk) this.durableEnd = this.flushedEnd;
  }

  latestSnapshot(): RaftSnapshotInfo | null {
    return this.snapshot === null ? null : { id: this.snapshot.id, sizeBytes: this.snapshot.bytes.length };
  }

  readSnapshot(id: OffsetAndEpoch, position: number, maxBytes: number): Buffer | null {
    const s = this.snapshot;
    if (s === null || s.id.offset !== id.offset || s.id.epoch !== id.epoch) return null;
    return s.bytes.subarray(position, position + maxBytes);
  }

  installSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    assert.ok(id.offset >= this.logStart, `snapshot at ${id.offset} below the log start ${this.logStart}`);
    this.snapshot = { id, bytes };
    if (this.endOffset() >= id.offset && this.endOffsetForEpoch(id.epoch).epoch === id.epoch) {
      this.batches = this.batches.slice(this.indexOf(id.offset));
      const first = this.batches[0];
      if (first !== undefined && first.baseOffset < id.offset) {
        this.batches[0] = {
          ...first,
          baseOffset: id.offset,
          records: first.records.slice(id.offset - first.baseOffset),
        };
      }
    } else {
      this.batches = [];
    }
    this.logStart = id.offset;
    this.flushedEnd = Math.max(this.flushedEnd, id.offset);
    this.durableEnd = Math.max(this.durableEnd, id.offset);
  }

  /** A process crash: what was not durable is gone. */
  crash(): void {
    if (this.endOffset() > this.durableEnd) this.truncateTo(Math.max(this.durableEnd, this.logStart));
    this.flushedEnd = this.durableEnd = this.endOffset();
  }

  /** The index of the batch holding `offset`, or the number of batches if it is at or past the end. */
  private indexOf(offset: number): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (batchEndOffset(this.batches[mid]!) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

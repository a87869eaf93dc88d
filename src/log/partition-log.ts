/**
 * About 1,080 lines, kept whole: append, read, truncation, retention and recovery all change the
 * same segment list and offsets under one concurrency contract, which splitting would scatter.
 *
 * The log of one partition (Kafka's UnifiedLog, local part): an ordered list of segments, the last
 * of which is active, plus the log start offset, recovery point and leader-epoch cache.
 *
 * Offsets are numbers: every offset the log accepts is a safe integer (< 2^53), checked on append,
 * which keeps the per-batch arithmetic off BigInt. Callers convert at the wire boundary.
 *
 * Concurrency contract: appends, reads, truncation and retention are synchronous methods, so on
 * Node's single thread each runs to completion without interleaving: a read sees every append
 * that returned before it (the active segment's unflushed tail included) and never half of one,
 * and a read never waits for an append's I/O beyond its own system calls. Only `flush` (and the
 * `durable` promise of an append) is asynchronous: it fsyncs in the thread pool, and appends made
 * meanwhile are covered by the next flush, which concurrent callers share (group commit).
 * Compaction (cleaner.ts) works in steps between which everything else runs; it replaces a
 * segment only if the segment is still part of the log (`replaceSegment`).
 */
import fs from "node:fs";
import path from "node:path";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import { ATTR_TIMESTAMP_TYPE_MASK } from "../protocol/records/batch-header.js";
import { decodeRecordBatch } from "../protocol/records/record-batch.js";
import type { BatchInfo } from "./batch-scan.js";
import { effectiveSegmentMs, type LogConfig, type LogEvents, SILENT_EVENTS } from "./config.js";
import type { FilePool } from "./file-pool.js";
import { LeaderEpochCache } from "./leader-epoch-cache.js";
import { frameBatches, rewriteForLeader } from "./leader-rewrite.js";
import {
  CLEANED_FILE_SUFFIX,
  DELETED_FILE_SUFFIX,
  INDEX_FILE_SUFFIX,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_FILE_SUFFIX,
  PRODUCER_SNAPSHOT_FILE_SUFFIX,
  parseOffsetFileName,
  producerSnapshotFileName,
  SWAP_FILE_SUFFIX,
  segmentFileName,
  TIME_INDEX_FILE_SUFFIX,
  type TopicPartition,
  TXN_INDEX_FILE_SUFFIX,
} from "./names.js";
import { LogSegment, NoSpaceError } from "./segment.js";

const RELATIVE_OFFSET_MAX = 0x7fffffff;
/** Bound on the decompressed size of a batch decoded to answer ListOffsets. */
const DECOMPRESSED_BATCH_BYTES_MAX = 64 * 1024 * 1024;

/** Upper bound on the bytes one read allocates (besides a single batch larger than this). */
export const READ_BYTES_MAX = 64 * 1024 * 1024;

/** ListOffsets' special timestamps. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;
export const MAX_TIMESTAMP = -3;

export interface AppendOptions {
  /** Leader appends assign offsets; follower (replication) appends keep the batches' offsets. */
  assignOffsets: boolean;
  /** Written into every batch's partitionLeaderEpoch when assigning offsets. */
  leaderEpoch: number;
  /** Set for topics with message.timestamp.type=LogAppendTime: stamps every batch with it. */
  logAppendTimeMs?: number;
  /**
   * Check every batch's CRC before storing it. Leader appends skip it by default because the
   * broker's produce validation already did; replicated (follower) appends should set it, as Kafka
   * validates batches fetched from the leader.
   */
  verifyCrc?: boolean;
}

export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
  /** The LogAppendTime stamped on the batches, or -1. */
  logAppendTimeMs: number;
  logStartOffset: number;
  /**
   * Present when this append must be durable before it is acknowledged (krill.fsync.before.ack, or
   * flush.messages reached): resolves once its bytes are fsynced.
   */
  durable?: Promise<void>;
}

export interface ReadOptions {
  /** Return the first batch even if it is larger than maxBytes (Kafka's minOneMessage). */
  minOneBatch?: boolean;
  /** Exclusive upper bound on visible offsets: the high watermark or last stable offset. */
  maxOffset?: number;
  /**
   * The records may sit in a read-buffer-pool.ts buffer, to be released once written to a socket
   * (Fetch only: nothing may keep the bytes after that).
   */
  pooled?: boolean;
}

export interface ReadResult {
  /** Whole stored batches, byte for byte; empty if nothing is visible at the offset. */
  records: Buffer;
  /** Offset after the last batch returned (fetchOffset when nothing was returned). */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface TimestampOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface PartitionLogOptions {
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfig;
  pool: FilePool;
  clock?: Clock;
  events?: LogEvents;
  /** Offsets up to which the data is known to be on disk; recovery validates everything after. */
  recoveryPoint?: number;
  /** Log start offset from the checkpoint (raised to the first segment's base if lower). */
  logStartOffset?: number;
  /** False after an unclean shutdown: segments after the recovery point are validated. */
  hadCleanShutdown: boolean;
}

/** What opening a log found and repaired. */
export interface LogLoadReport {
  segments: number;
  recoveredSegments: number;
  truncatedBytes: number;
  rebuiltIndexes: number;
  problems: string[];
}

export class PartitionLog {
  readonly dir: string;
  readonly topicPartition: TopicPartition;
  private configValue: LogConfig;
  private readonly pool: FilePool;
  private readonly clock: Clock;
  private readonly events: LogEvents;
  private segments: LogSegment[] = [];
  private logStart = 0;
  private recoveryPointValue = 0;
  private highWatermarkValue: number | undefined;
  private lastFlushMs: number;
  private flushInFlight: Promise<void> | undefined;
  private flushQueued: Promise<void> | undefined;
  /** Bumped by every truncation, so a flush that raced with one does not move the recovery point. */
  private truncations = 0;
  private closed = false;
  /** Set when the partition is deleted: its files are going away, flushes of them are moot. */
  private discarded = false;
  /** Set after an I/O failure that may have left the log inconsistent: every later call fails. */
  private failure: KrillError | undefined;
  readonly leaderEpochCache: LeaderEpochCache;
  readonly loadReport: LogLoadReport;
  private readonly epochCacheLost: boolean;

  private constructor(options: PartitionLogOptions) {
    this.dir = options.dir;
    this.topicPartition = options.topicPartition;
    this.configValue = options.config;
    this.pool = options.pool;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.events = options.events ?? SILENT_EVENTS;
    this.lastFlushMs = this.clock.nowMs();
    const epochFile = path.join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE);
    let epochCacheLost = false;
    try {
      this.leaderEpochCache = LeaderEpochCache.load(epochFile);
    } catch (err) {
      // Rebuilt from the batch headers once the segments are loaded (see load()).
      this.events.warn(
        { dir: this.dir, err },
        "unreadable leader-epoch checkpoint; rebuilding it from the log",
      );
      this.leaderEpochCache = new LeaderEpochCache(epochFile);
      epochCacheLost = true;
    }
    this.epochCacheLost = epochCacheLost;
    this.loadReport = {
      segments: 0,
      recoveredSegments: 0,
      truncatedBytes: 0,
      rebuiltIndexes: 0,
      problems: [],
    };
  }

  /** Opens (creating if needed) the log in `options.dir`, recovering it if the shutdown was unclean. */
  static open(options: PartitionLogOptions): PartitionLog {
    fs.mkdirSync(options.dir, { recursive: true });
    const log = new PartitionLog(options);
    log.load(options);
    return log;
  }

  // ---------------------------------------------------------------------------------------------
  // State

  get config(): LogConfig {
    return this.configValue;
  }

  /** Applies a runtime config change; takes effect from the next append or background check. */
  updateConfig(config: LogConfig): void {
    this.configValue = config;
  }

  get logStartOffset(): number {
    return this.logStart;
  }

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get recoveryPoint(): number {
    return this.recoveryPointValue;
  }

  /** Retention never deletes data at or above this; defaults to the log end offset. */
  get highWatermark(): number {
    return Math.min(this.highWatermarkValue ?? this.logEndOffset, this.logEndOffset);
  }

  updateHighWatermark(offset: number): void {
    this.highWatermarkValue = offset;
  }

  /**
   * First offset of the oldest open transaction, set by the broker's transaction tracking
   * (undefined: none). The cleaner never compacts at or beyond it.
   */
  firstUnstableOffset: number | undefined;

  /** Increases with every truncation, so asynchronous work can tell the log was cut under it. */
  get truncationCount(): number {
    return this.truncations;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.sizeBytes;
    return total;
  }

  get numberOfSegments(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /** Where the broker's producer-state manager keeps `.snapshot` files for this partition. */
  producerSnapshotPath(offset: number): string {
    return path.join(this.dir, producerSnapshotFileName(offset));
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Segments, oldest first (the cleaner and tests read them; do not mutate). */
  allSegments(): readonly LogSegment[] {
    return this.segments;
  }

  /** Closed (shut down or deleted); every operation but `flush` then fails. */
  get isClosed(): boolean {
    return this.closed;
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new KrillError("STATE", `Log ${this.dir} is closed`);
  }

  // ---------------------------------------------------------------------------------------------
  // Append

  /**
   * Appends `records`, one or more whole magic-2 batches that the broker has validated. With
   * `assignOffsets` the batches' baseOffset and partitionLeaderEpoch are rewritten in place (header
   * writes only; neither field is covered by the CRC), and with `logAppendTimeMs` their
   * maxTimestamp and timestamp-type bit too, with the CRC recomputed. Records are never decoded.
   */
  append(records: Buffer, options: AppendOptions): AppendResult {
    this.checkUsable();
    const config = this.configValue;
    const batches = frameBatches(records, options.verifyCrc ?? false);
    if (records.length > config.segmentBytes) {
      throw new KrillError(
        "FRAME_TOO_LARGE",
        `Append of ${records.length} bytes is larger than segment.bytes ${config.segmentBytes}`,
      );
    }
    let next = this.logEndOffset;
    const firstOffset = options.assignOffsets ? next : batches[0]!.baseOffset;
    for (const b of batches) {
      if (options.assignOffsets) {
        rewriteForLeader(records, b, next, options.leaderEpoch, options.logAppendTimeMs);
      } else if (b.baseOffset < next) {
        throw new KrillError(
          "STATE",
          `Batch at offset ${b.baseOffset} is below the next offset ${next} of ${this.dir} (out of order)`,
        );
      }
      if (!Number.isSafeInteger(b.lastOffset + 1))
        throw new KrillError("STATE", `Offset overflow in ${this.dir}`);
      next = b.lastOffset + 1;
    }
    const lastOffset = next - 1;
    const segment = this.maybeRoll(records.length, firstOffset, lastOffset);
    try {
      segment.append(records, batches, config.indexIntervalBytes);
    } catch (err) {
      // A full disk whose partial write was cut back leaves the log intact: the append fails
      // (KAFKA_STORAGE_ERROR to the producer) and the next one succeeds once space returns.
      if (err instanceof NoSpaceError) throw err;
      // Any other I/O error: as Kafka takes a log directory offline, the log refuses further use,
      // its tail in an unknown state until recovery runs on the next start.
      this.failure =
        err instanceof KrillError
          ? err
          : new KrillError("LOG_IO", `Append to ${this.dir} failed`, { cause: err });
      throw this.failure;
    }
    for (const b of batches) {
      if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch) {
        this.leaderEpochCache.assign(b.partitionLeaderEpoch, b.baseOffset);
      }
    }
    const result: AppendResult = {
      firstOffset,
      lastOffset,
      logAppendTimeMs: options.logAppendTimeMs ?? -1,
      logStartOffset: this.logStart,
    };
    if (config.fsyncBeforeAck || this.unflushedMessages >= config.flushMessages) {
      const durable = this.flush();
      // A caller that never awaits `durable` must not turn a failed fsync into an unhandled
      // rejection (which ends the process); callers that await it still see the failure.
      durable.catch(() => {});
      result.durable = durable;
    }
    return result;
  }

  /** Offsets appended since the last completed flush. */
  get unflushedMessages(): number {
    return this.logEndOffset - this.recoveryPointValue;
  }

  private maybeRoll(appendBytes: number, firstOffset: number, lastOffset: number): LogSegment {
    const config = this.configValue;
    const active = this.activeSegment;
    if (lastOffset - active.baseOffset > RELATIVE_OFFSET_MAX) {
      // A follower append far beyond the segment's base (offsets jumped): its offsets cannot be
      // indexed relative to this segment, so a segment starting at the append begins.
      return this.roll(firstOffset);
    }
    const nowMs = this.clock.nowMs();
    const segmentMs = effectiveSegmentMs(config);
    if (!active.shouldRoll(config.segmentBytes, segmentMs, appendBytes, lastOffset, nowMs)) return active;
    return this.roll();
  }

  /**
   * Closes the active segment and starts a new one at `baseOffset` (default: the log end offset),
   * Kafka's roll. An empty active segment is replaced rather than kept.
   */
  roll(baseOffset?: number): LogSegment {
    this.checkUsable();
    const active = this.activeSegment;
    const newBase = Math.max(baseOffset ?? this.logEndOffset, this.logEndOffset);
    if (active.isEmpty) {
      if (newBase === active.baseOffset) return active;
      this.segments.pop();
      active.delete();
      const replacement = LogSegment.create(
        this.pool,
        this.dir,
        newBase,
        this.configValue.segmentIndexBytes,
        this.clock.nowMs(),
      );
      this.segments.push(replacement);
      this.dirNeedsFsync = true;
      return replacement;
    }
    active.onBecomeInactive();
    this.events.info(
      {
        dir: this.dir,
        baseOffset: newBase,
        previousBaseOffset: active.baseOffset,
        previousBytes: active.sizeBytes,
      },
      "rolled segment",
    );
    const segment = LogSegment.create(
      this.pool,
      this.dir,
      newBase,
      this.configValue.segmentIndexBytes,
      this.clock.nowMs(),
    );
    this.segments.push(segment);
    this.dirNeedsFsync = true;
    // As Kafka does, the rolled segment is flushed in the background so the recovery point
    // advances and a restart after a crash validates only the newest data.
    this.flush().catch((err: unknown) => {
      this.events.warn({ dir: this.dir, err }, "background flush after roll failed");
    });
    return segment;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  /**
   * Stored batches from `fetchOffset` on: starting with the batch that contains it, whole batches up
   * to `maxBytes` (capped at READ_BYTES_MAX), at least one batch if `minOneBatch` (the default), none
   * whose last offset reaches `maxOffset`. An offset outside [logStartOffset, logEndOffset] throws
   * KrillError OFFSET_OUT_OF_RANGE; a corrupt stored batch throws CORRUPT_SEGMENT.
   */
  read(fetchOffset: number, maxBytes: number, options: ReadOptions = {}): ReadResult {
    const plan = this.planRead(fetchOffset, maxBytes, options);
    if (plan.segment === undefined) return plan.result;
    const r = plan.segment.read(plan.position, plan.bytesMax, plan.upper, plan.minOneBatch, options.pooled);
    return fillRead(plan.result, r);
  }

  /** Checks the request and finds the segment and byte position a read starts at. */
  private planRead(
    fetchOffset: number,
    maxBytes: number,
    options: ReadOptions,
  ): {
    result: ReadResult;
    segment?: LogSegment;
    position: number;
    bytesMax: number;
    upper: number;
    minOneBatch: boolean;
  } {
    this.checkUsable();
    const logEndOffset = this.logEndOffset;
    if (!Number.isSafeInteger(fetchOffset) || fetchOffset < this.logStart || fetchOffset > logEndOffset) {
      throw new KrillError(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${fetchOffset} is outside [${this.logStart}, ${logEndOffset}] of ${this.dir}`,
      );
    }
    const upper = Math.min(options.maxOffset ?? logEndOffset, logEndOffset);
    const minOneBatch = options.minOneBatch ?? true;
    const bytesMax = Number.isFinite(maxBytes)
      ? Math.max(0, Math.min(Math.floor(maxBytes), READ_BYTES_MAX))
      : 0;
    const result: ReadResult = {
      records: Buffer.alloc(0),
      nextOffset: fetchOffset,
      logStartOffset: this.logStart,
      logEndOffset,
    };
    const plan = { result, position: 0, bytesMax, upper, minOneBatch };
    if (fetchOffset >= upper) return plan;
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const known = segment.knownReadStart(fetchOffset);
      if (known !== undefined) return { ...plan, segment, position: known };
      const first = segment.locate(fetchOffset);
      if (first === undefined) continue;
      return { ...plan, segment, position: first.position };
    }
    return plan;
  }

  /** Index of the segment whose range holds `offset` (the last with baseOffset <= offset). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * ListOffsets: for a timestamp >= 0, the first batch whose max timestamp is >= it (its base
   * offset, or the log start if that is later); LATEST_TIMESTAMP, EARLIEST_TIMESTAMP and
   * MAX_TIMESTAMP as Kafka. Undefined when no batch qualifies.
   */
  offsetForTimestamp(timestamp: number): TimestampOffset | undefined {
    this.checkUsable();
    if (timestamp === LATEST_TIMESTAMP) {
      const epoch = this.leaderEpochCache.latestEpoch;
      return { offset: this.logEndOffset, timestamp: -1, leaderEpoch: epoch };
    }
    if (timestamp === EARLIEST_TIMESTAMP) {
      return {
        offset: this.logStart,
        timestamp: -1,
        leaderEpoch: this.leaderEpochCache.epochForOffset(this.logStart),
      };
    }
    if (timestamp === MAX_TIMESTAMP) return this.maxTimestampOffset();
    if (timestamp < 0) return undefined;
    for (let i = this.segmentIndexFor(this.logStart); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.maxTimestampSoFar < timestamp) continue;
      const b = segment.findByTimestamp(timestamp);
      if (b === undefined || b.lastOffset < this.logStart) continue;
      const record = this.firstRecordAtOrAfter(segment, b, timestamp);
      if (record === undefined) continue;
      return { ...record, leaderEpoch: b.partitionLeaderEpoch };
    }
    return undefined;
  }

  /**
   * Within a batch whose max timestamp reaches `timestamp`, the first record (at or after the log
   * start) whose timestamp does, as Kafka's ListOffsets answers. Records are only decoded here, for
   * a CreateTime batch; a LogAppendTime batch stamps every record with its max timestamp.
   */
  private firstRecordAtOrAfter(
    segment: LogSegment,
    b: BatchInfo,
    timestamp: number,
  ): { offset: number; timestamp: number } | undefined {
    if ((b.attributes & ATTR_TIMESTAMP_TYPE_MASK) !== 0) {
      return { offset: Math.max(b.baseOffset, this.logStart), timestamp: b.maxTimestamp };
    }
    const decoded = decodeRecordBatch(segment.readBatch(b), {
      decompressedBytesMax: DECOMPRESSED_BATCH_BYTES_MAX,
    });
    for (const r of decoded.records) {
      const offset = Number(r.offset);
      const ts = Number(r.timestamp);
      if (offset >= this.logStart && ts >= timestamp) return { offset, timestamp: ts };
    }
    return undefined;
  }

  private maxTimestampOffset(): TimestampOffset | undefined {
    let best: LogSegment | undefined;
    for (let i = this.segmentIndexFor(this.logStart); i < this.segments.length; i++) {
      const s = this.segments[i]!;
      if (!s.isEmpty && (best === undefined || s.maxTimestampSoFar > best.maxTimestampSoFar)) best = s;
    }
    if (best === undefined || best.maxTimestampSoFar < 0) return undefined;
    const b = best.findByTimestamp(best.maxTimestampSoFar);
    if (b === undefined) return undefined;
    const record = this.firstRecordAtOrAfter(best, b, b.maxTimestamp);
    if (record === undefined) return undefined;
    return { ...record, leaderEpoch: b.partitionLeaderEpoch };
  }

  /** OffsetForLeaderEpoch. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.leaderEpochCache.endOffsetFor(epoch, this.logEndOffset);
  }

  // ---------------------------------------------------------------------------------------------
  // Truncation and deletion

  /**
   * Removes everything at and after `offset` (a follower diverged from its leader). The batch
   * containing `offset`, if it starts below it, goes too: the log only holds whole batches.
   */
  truncateTo(offset: number): void {
    this.checkUsable();
    if (offset >= this.logEndOffset) return;
    if (offset < this.logStart) {
      this.truncateFullyAndStartAt(offset);
      return;
    }
    this.truncations++;
    const active = this.activeSegment;
    const doomed = this.segments.filter((s) => s.baseOffset > offset);
    if (doomed.length > 0) {
      this.segments = this.segments.filter((s) => s.baseOffset <= offset);
      for (const s of doomed) s.delete();
    }
    const last = this.activeSegment;
    if (last !== active) {
      // The segment holding `offset` becomes active again: reload its tail and make it appendable.
      const problem = last.loadTail(this.configValue.segmentIndexBytes);
      if (problem !== undefined) throw new KrillError("CORRUPT_SEGMENT", `${last.logPath}: ${problem}`);
    }
    const straddling = last.locate(offset);
    const removed = last.truncateTo(offset, this.configValue.segmentIndexBytes);
    // As Kafka, the log ends at the target offset, also when it falls in a gap left by compaction
    // or a follower append; only a batch straddling the target ends it earlier (whole batches only).
    if (straddling === undefined || straddling.baseOffset >= offset) {
      last.nextOffset = Math.max(last.nextOffset, offset);
    }
    this.leaderEpochCache.truncateFromEnd(this.logEndOffset);
    this.deleteProducerSnapshots((o) => o > this.logEndOffset);
    this.recoveryPointValue = Math.min(this.recoveryPointValue, this.logEndOffset);
    this.events.info(
      { dir: this.dir, offset, removedBytes: removed, deletedSegments: doomed.length },
      "truncated log",
    );
  }

  /** Deletes every segment and restarts the log, empty, at `offset` (log start = end = offset). */
  truncateFullyAndStartAt(offset: number): void {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new KrillError("STATE", `Invalid offset ${offset}`);
    this.truncations++;
    for (const s of this.segments) s.delete();
    this.segments = [
      LogSegment.create(this.pool, this.dir, offset, this.configValue.segmentIndexBytes, this.clock.nowMs()),
    ];
    this.activeSegment.nextOffset = offset;
    this.dirNeedsFsync = true;
    this.logStart = offset;
    this.recoveryPointValue = offset;
    this.highWatermarkValue = undefined;
    this.leaderEpochCache.clear();
    // The producer state of the discarded log does not describe the new one.
    this.deleteProducerSnapshots(() => true);
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (which must not exceed the high
   * watermark) and deletes the segments wholly below it. Returns the new log start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.checkUsable();
    if (!Number.isSafeInteger(offset) || offset > this.highWatermark) {
      throw new KrillError(
        "OFFSET_OUT_OF_RANGE",
        `Cannot delete records before ${offset}: high watermark of ${this.dir} is ${this.highWatermark}`,
      );
    }
    this.maybeIncrementLogStartOffset(offset, "DeleteRecords");
    return this.logStart;
  }

  private maybeIncrementLogStartOffset(offset: number, reason: string): void {
    if (offset <= this.logStart) return;
    this.logStart = offset;
    this.leaderEpochCache.truncateFromStart(offset);
    this.deleteProducerSnapshots((o) => o < this.logStart);
    this.deleteSegmentsWhile((_s, next) => next !== undefined && next.baseOffset <= this.logStart, reason);
  }

  /**
   * Retention (cleanup.policy contains delete): removes closed segments beyond retention.ms and
   * retention.bytes, and those below the log start offset. The active segment is never deleted, nor
   * a segment reaching the high watermark. Returns the number of segments deleted.
   */
  deleteOldSegments(): number {
    this.checkUsable();
    const config = this.configValue;
    let deleted = this.deleteSegmentsWhile(
      (_s, next) => next !== undefined && next.baseOffset <= this.logStart,
      "log start offset",
    );
    if (!config.cleanupPolicy.includes("delete")) return deleted;
    if (config.retentionMs >= 0) {
      const now = this.clock.nowMs();
      const expired = (s: LogSegment) => now - s.largestTimestamp() > config.retentionMs;
      deleted += this.deleteSegmentsWhile(expired, "retention.ms");
      // As Kafka, when everything has expired the active segment is rolled so that it can go too
      // (a topic that stops receiving data must still age out); the new active segment is empty.
      const active = this.activeSegment;
      if (
        this.segments.length === 1 &&
        !active.isEmpty &&
        expired(active) &&
        this.logEndOffset <= this.highWatermark
      ) {
        this.roll();
        deleted += this.deleteSegmentsWhile(expired, "retention.ms");
      }
    }
    if (config.retentionBytes >= 0) {
      let excess = this.sizeBytes - config.retentionBytes;
      deleted += this.deleteSegmentsWhile((s) => {
        if (excess - s.sizeBytes < 0) return false;
        excess -= s.sizeBytes;
        return true;
      }, "retention.bytes");
    }
    return deleted;
  }

  /** Deletes the oldest closed segments while `predicate` holds, advancing the log start offset. */
  private deleteSegmentsWhile(
    predicate: (s: LogSegment, next: LogSegment | undefined) => boolean,
    reason: string,
  ): number {
    let count = 0;
    const hw = this.highWatermark;
    while (this.segments.length > 1) {
      const s = this.segments[0]!;
      const next = this.segments[1]!;
      if (next.baseOffset > hw || !predicate(s, next)) break;
      this.segments.shift();
      s.delete();
      count++;
      if (next.baseOffset > this.logStart) this.logStart = next.baseOffset;
      this.events.info({ dir: this.dir, baseOffset: s.baseOffset, reason }, "deleted segment");
    }
    if (count > 0) {
      this.leaderEpochCache.truncateFromStart(this.logStart);
      this.deleteProducerSnapshots((o) => o < this.logStart);
    }
    return count;
  }

  /**
   * Deletes the producer-state snapshots (`<offset>.snapshot`, written by the broker) whose offset
   * `doomed` selects, as Kafka's ProducerStateManager does on truncation (snapshots above the new
   * log end describe data that is gone) and when the log start moves (snapshots below it can no
   * longer be loaded, since the replay after them would start outside the log). A snapshot at the
   * log start or end stays: it is the newest usable one. Failures only leave files behind, which
   * the broker's loader ignores, so they are logged, not thrown.
   */
  private deleteProducerSnapshots(doomed: (offset: number) => boolean): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      this.events.warn({ dir: this.dir, err }, "cannot list producer snapshots");
      return;
    }
    for (const name of names) {
      const parsed = parseOffsetFileName(name);
      if (parsed?.suffix !== PRODUCER_SNAPSHOT_FILE_SUFFIX || !doomed(parsed.offset)) continue;
      try {
        fs.rmSync(path.join(this.dir, name), { force: true });
      } catch (err) {
        this.events.warn({ dir: this.dir, file: name, err }, "cannot delete producer snapshot");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Durability

  /**
   * fsyncs everything appended so far and moves the recovery point to the log end offset as it was
   * when the flush started. A flush requested while another runs waits for it and then covers all
   * appends made until it starts, so concurrent callers share fsyncs (group commit).
   */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.flushQueued !== undefined) return this.flushQueued;
    if (this.flushInFlight === undefined) {
      const running = this.doFlush().finally(() => {
        if (this.flushInFlight === running) this.flushInFlight = undefined;
      });
      this.flushInFlight = running;
      return running;
    }
    const queued = this.flushInFlight
      .catch(() => {})
      .then(() => {
        this.flushQueued = undefined;
        return this.flush();
      });
    this.flushQueued = queued;
    return queued;
  }

  private async doFlush(): Promise<void> {
    const upTo = this.logEndOffset;
    const truncationsBefore = this.truncations;
    this.lastFlushMs = this.clock.nowMs();
    // Epochs assigned by appends are checkpointed here, before the recovery point can pass them
    // (see leader-epoch-cache.ts); later epochs start at or after upTo, which recovery re-reads.
    if (!this.discarded) {
      const fsync = (file: string) => this.pool.fsync(file).finally(() => this.pool.forget(file));
      try {
        if (await this.leaderEpochCache.flushIfDirtyAsync(fsync)) this.dirNeedsFsync = true;
      } catch (err) {
        // The partition was deleted meanwhile: its files are gone, nothing to make durable.
        if (!this.discarded) throw err;
      }
    }
    if (upTo <= this.recoveryPointValue) return;
    const pending: LogSegment[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      const end = this.segments[i + 1]?.baseOffset ?? upTo;
      if (end > this.recoveryPointValue) pending.push(this.segments[i]!);
    }
    // New segment files are only durable once the directory entry is: fsync the directory when
    // files were created since the last flush (as Kafka's LocalLog.flush does).
    const dirDirty = this.dirNeedsFsync;
    this.dirNeedsFsync = false;
    for (const s of pending) {
      try {
        await s.flush();
      } catch (err) {
        // A segment deleted meanwhile (retention, truncation), or the whole log, needs no flush.
        if (this.discarded || !this.segments.includes(s)) continue;
        this.failure = new KrillError("LOG_IO", `fsync of ${s.logPath} failed; log is offline`, {
          cause: err,
        });
        throw this.failure;
      }
    }
    if (dirDirty && !this.discarded) {
      try {
        await this.pool.fsyncDirectory(this.dir);
      } catch (err) {
        this.dirNeedsFsync = true;
        throw new KrillError("LOG_IO", `fsync of directory ${this.dir} failed`, { cause: err });
      }
    }
    if (this.truncations === truncationsBefore && upTo > this.recoveryPointValue)
      this.recoveryPointValue = upTo;
  }

  /**
   * `flush()` on the calling thread, for an owner that cannot wait (the KRaft core runs each event
   * to completion and counts only flushed offsets): the leader-epoch checkpoint, the segment files
   * holding unflushed offsets and, if files were created or removed, the directory. Indexes are
   * not fsynced: the metadata log recovers every segment on open, rebuilding them.
   */
  flushSync(): void {
    this.checkUsable();
    const upTo = this.logEndOffset;
    this.lastFlushMs = this.clock.nowMs();
    try {
      if (this.leaderEpochCache.needsFlush) {
        this.leaderEpochCache.flushIfDirty();
        this.dirNeedsFsync = true;
      }
      for (let i = 0; i < this.segments.length; i++) {
        const end = this.segments[i + 1]?.baseOffset ?? upTo;
        if (end > this.recoveryPointValue) this.pool.fsyncSync(this.segments[i]!.logPath);
      }
      if (this.dirNeedsFsync) {
        const fd = fs.openSync(this.dir, "r");
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        this.dirNeedsFsync = false;
      }
    } catch (err) {
      this.failure = new KrillError("LOG_IO", `fsync of ${this.dir} failed; log is offline`, { cause: err });
      throw this.failure;
    }
    if (upTo > this.recoveryPointValue) this.recoveryPointValue = upTo;
  }

  /** Set when segment files were created or removed since the last flush. */
  private dirNeedsFsync = true;

  /** The flush.ms check run by the LogManager's scheduler. */
  flushIfDue(): Promise<void> | undefined {
    if (this.unflushedMessages === 0) return undefined;
    if (this.clock.nowMs() - this.lastFlushMs < this.configValue.flushMs) return undefined;
    return this.flush();
  }

  /** Clean shutdown: flush, trim the active segment's indexes and close descriptors. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Closed first, so no append or read slips in while the last flush runs.
    this.closed = true;
    if (this.failure === undefined) {
      await this.flush();
      // The active segment's final time-index entry and trimmed indexes must be durable before the
      // clean-shutdown marker promises that indexes can be trusted.
      const active = this.activeSegment;
      active.onBecomeInactive();
      await active.flush();
    }
    for (const s of this.segments) s.close(false);
  }

  /** Closes descriptors without flushing or trimming (the partition is being deleted). */
  closeQuietly(): void {
    this.closed = true;
    this.discarded = true;
    for (const s of this.segments) {
      s.offsetIndex.unload();
      s.timeIndex.unload();
    }
    this.pool.forgetUnder(this.dir);
  }

  // ---------------------------------------------------------------------------------------------
  // Compaction support

  /**
   * Replaces `old` (a closed segment) with the cleaned file at `cleanedPath`, unless the log changed
   * so that `old` is no longer one of its segments. Crash-safe as Kafka's swap: the cleaned file is
   * renamed to `.swap`, the old segment deleted, and the swap renamed to `.log`; startup completes a
   * swap it finds. Returns whether the swap happened.
   */
  replaceSegment(old: LogSegment, cleanedPath: string): boolean {
    this.checkUsable();
    const idx = this.segments.indexOf(old);
    if (idx < 0 || idx === this.segments.length - 1) {
      fs.rmSync(cleanedPath, { force: true });
      return false;
    }
    if (fs.statSync(cleanedPath).size === 0) {
      // Nothing survived: the segment simply goes (reads skip the gap to the next segment).
      fs.rmSync(cleanedPath, { force: true });
      this.segments.splice(idx, 1);
      old.delete();
      return true;
    }
    const swapPath = path.join(this.dir, segmentFileName(old.baseOffset, LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX));
    fs.renameSync(cleanedPath, swapPath);
    old.delete();
    fs.renameSync(swapPath, old.logPath);
    const { segment } = LogSegment.open(this.pool, this.dir, old.baseOffset);
    segment.recover(this.configValue.indexIntervalBytes, undefined);
    this.segments[idx] = segment;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  private load(options: PartitionLogOptions): void {
    const config = this.configValue;
    const names = fs.readdirSync(this.dir);
    const logBases: number[] = [];
    for (const name of names) {
      const parsed = parseOffsetFileName(name);
      if (parsed === undefined) {
        if (name.endsWith(".tmp")) fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      if (parsed.suffix.endsWith(CLEANED_FILE_SUFFIX) || parsed.suffix.endsWith(DELETED_FILE_SUFFIX)) {
        // An interrupted cleaning (the original segment is intact), or a file Kafka had marked
        // for deletion.
        fs.rmSync(path.join(this.dir, name), { force: true });
      } else if (parsed.suffix === LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX) {
        // The cleaner crashed mid-swap after deleting the original: complete the swap. Its
        // indexes are stale, so they are dropped and rebuilt below.
        const base = segmentFileName(parsed.offset, "");
        fs.rmSync(path.join(this.dir, base + INDEX_FILE_SUFFIX), { force: true });
        fs.rmSync(path.join(this.dir, base + TIME_INDEX_FILE_SUFFIX), { force: true });
        fs.renameSync(path.join(this.dir, name), path.join(this.dir, base + LOG_FILE_SUFFIX));
        logBases.push(parsed.offset);
        this.loadReport.problems.push(`completed interrupted swap of segment ${parsed.offset}`);
      } else if (parsed.suffix === LOG_FILE_SUFFIX) {
        logBases.push(parsed.offset);
      }
    }
    logBases.sort((a, b) => a - b);
    const bases = [...new Set(logBases)];
    // Index files without their segment (a crash while a segment was being deleted) are removed,
    // so a later segment at that offset never picks them up.
    const baseSet = new Set(bases);
    for (const name of names) {
      const parsed = parseOffsetFileName(name);
      if (parsed === undefined || baseSet.has(parsed.offset)) continue;
      if ([INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, TXN_INDEX_FILE_SUFFIX].includes(parsed.suffix)) {
        fs.rmSync(path.join(this.dir, name), { force: true });
      }
    }
    const recoveryPoint = options.hadCleanShutdown ? Number.MAX_SAFE_INTEGER : (options.recoveryPoint ?? 0);
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const isLast = i === bases.length - 1;
      const { segment, indexesOk } = LogSegment.open(this.pool, this.dir, base);
      // Segments holding offsets at or after the recovery point may hold unflushed, torn data.
      const nextBase = bases[i + 1];
      const afterRecoveryPoint = nextBase === undefined || nextBase > recoveryPoint;
      let recover = !indexesOk || (!options.hadCleanShutdown && afterRecoveryPoint);
      if (!recover && isLast) {
        const problem = segment.loadTail(config.segmentIndexBytes);
        if (problem !== undefined) {
          this.loadReport.problems.push(`segment ${base}: ${problem}`);
          recover = true;
        }
      }
      if (recover) {
        // As Kafka's LogLoader, recovered batches also rebuild the leader-epoch cache: a crash
        // between writing a batch and checkpointing its new epoch must not lose the epoch.
        const r = segment.recover(
          config.indexIntervalBytes,
          isLast ? config.segmentIndexBytes : undefined,
          (b) => {
            if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch) {
              this.leaderEpochCache.assign(b.partitionLeaderEpoch, b.baseOffset);
            }
          },
        );
        this.loadReport.recoveredSegments++;
        if (!indexesOk) this.loadReport.rebuiltIndexes++;
        if (r.truncatedBytes > 0) {
          this.loadReport.truncatedBytes += r.truncatedBytes;
          this.loadReport.problems.push(`segment ${base}: truncated ${r.truncatedBytes} bytes: ${r.problem}`);
          this.segments.push(segment);
          // Everything after a corrupt batch is unreliable: later segments go (Kafka does the same).
          for (const later of bases.slice(i + 1)) {
            const { segment: doomed } = LogSegment.open(this.pool, this.dir, later);
            this.loadReport.truncatedBytes += doomed.sizeBytes;
            doomed.delete();
            this.loadReport.problems.push(`deleted segment ${later} after the corruption`);
          }
          break;
        }
        if (!isLast) segment.onBecomeInactive();
      }
      this.segments.push(segment);
    }
    if (this.segments.length === 0) {
      const start = options.logStartOffset ?? 0;
      this.segments.push(
        LogSegment.create(this.pool, this.dir, start, config.segmentIndexBytes, this.clock.nowMs()),
      );
      this.activeSegment.nextOffset = start;
    } else {
      // The active segment may have been loaded as a closed one (a corruption cut the log there).
      this.activeSegment.offsetIndex.makeMutable(config.segmentIndexBytes);
      this.activeSegment.timeIndex.makeMutable(config.segmentIndexBytes);
    }
    this.loadReport.segments = this.segments.length;
    const firstBase = this.segments[0]!.baseOffset;
    this.logStart = Math.min(Math.max(options.logStartOffset ?? firstBase, firstBase), this.logEndOffset);
    this.recoveryPointValue = options.hadCleanShutdown
      ? this.logEndOffset
      : Math.min(options.recoveryPoint ?? 0, this.logEndOffset);
    if (this.recoveryPointValue < this.logEndOffset) {
      // Recovered data survived a process crash in the page cache; make it durable so the next
      // restart does not validate it again.
      this.flush().catch((err: unknown) =>
        this.events.warn({ dir: this.dir, err }, "flush after recovery failed"),
      );
    }
    if (this.epochCacheLost) {
      for (const segment of this.segments) {
        for (const b of segment.batches(false)) {
          if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch > this.leaderEpochCache.latestEpoch) {
            this.leaderEpochCache.assign(b.partitionLeaderEpoch, b.baseOffset);
          }
        }
      }
      this.loadReport.problems.push("rebuilt the leader-epoch cache from batch headers");
    }
    this.leaderEpochCache.truncateFromEnd(this.logEndOffset);
    this.leaderEpochCache.truncateFromStart(this.logStart);
    if (this.loadReport.problems.length > 0) {
      this.events.warn({ dir: this.dir, ...this.loadReport }, "repaired log on load");
    }
  }
}

function fillRead(result: ReadResult, r: { records: Buffer; nextOffset: number }): ReadResult {
  if (r.records.length > 0) {
    result.records = r.records;
    result.nextOffset = r.nextOffset;
  }
  return result;
}

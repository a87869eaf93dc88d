/**
 * Storage of the metadata partition `__cluster_metadata-0` in Kafka's layout (KafkaMetadataLog):
 * segments `<20-digit base offset>.log` with `.index`/`.timeindex` and `leader-epoch-checkpoint`
 * (src/log's PartitionLog, as for any partition), and snapshots
 * `<20-digit end offset>-<10-digit epoch>.checkpoint` (written as `.checkpoint.part`, fsynced,
 * then renamed). Kafka's own `kafka-dump-log --cluster-metadata-decoder` reads both.
 *
 * This is plain storage with the operations a Raft log needs (append with the leader epoch,
 * truncate, flush, read from an offset, end offset for an epoch, snapshots); it knows nothing of
 * metadata records or of who is leader. `LocalMetadataLog` (a single-voter quorum) and the Raft
 * core's production log adapter both sit on it.
 *
 * Opening validates every segment: a torn batch at the very end (a crash mid-write) is cut off
 * with a warning; a bad batch anywhere else stops start-up (CORRUPT_SEGMENT) rather than silently
 * dropping committed metadata, since a single node has no other copy.
 */
import {
  closeSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { KrillError } from "../errors.js";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "../log/config.js";
import { FilePool } from "../log/file-pool.js";
import { parseOffsetFileName } from "../log/names.js";
import { PartitionLog } from "../log/partition-log.js";
import { LOG_OVERHEAD } from "../protocol/records/batch-header.js";
import { decodeRecordBatch } from "../protocol/records/record-batch.js";
import { METADATA_TOPIC } from "./metadata-log.js";

/**
 * No controller write comes near this (100,000 partition records are about 6 MiB); a batch
 * length beyond it is corruption.
 */
export const METADATA_BATCH_BYTES_MAX = 64 * 1024 * 1024;

/** Kafka's OffsetAndEpoch of a snapshot: it holds everything below `endOffset`. */
export interface SnapshotId {
  readonly endOffset: number;
  readonly epoch: number;
}

const SNAPSHOT_SUFFIX = ".checkpoint";
const PARTIAL_SUFFIX = ".checkpoint.part";
const DELETED_SUFFIX = ".checkpoint.deleted";
const SNAPSHOT_NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

/** Kafka's Snapshots.filenameFromSnapshotId. */
export function snapshotFileName(id: SnapshotId, suffix = SNAPSHOT_SUFFIX): string {
  return `${String(id.endOffset).padStart(20, "0")}-${String(id.epoch).padStart(10, "0")}${suffix}`;
}

/** Kafka's metadata.log.segment.bytes default (1 GiB) and segment.ms (7 days): src/log's defaults. */
const METADATA_LOG_CONFIG: LogConfig = Object.freeze({ ...DEFAULT_LOG_CONFIG });

export interface SegmentLogOptions {
  /** The partition directory (`.../__cluster_metadata-0`). */
  readonly dir: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class MetadataSegmentLog {
  readonly dir: string;
  readonly #log: PartitionLog;
  readonly #logger: Logger;
  #snapshots: SnapshotId[];

  private constructor(dir: string, log: PartitionLog, snapshots: SnapshotId[], logger: Logger) {
    this.dir = dir;
    this.#log = log;
    this.#snapshots = snapshots;
    this.#logger = logger;
  }

  /** Opens (creating if needed) the log in `options.dir`; see the module comment on validation. */
  static open(options: SegmentLogOptions): MetadataSegmentLog {
    const { dir, logger } = options;
    const names = safeReaddir(dir);
    // Partial snapshots are from a crash before their rename; deleted ones were on their way out.
    for (const name of names) {
      if (name.endsWith(PARTIAL_SUFFIX) || name.endsWith(DELETED_SUFFIX))
        rmSync(path.join(dir, name), { force: true });
    }
    const snapshots = names
      .flatMap((name) => {
        const m = SNAPSHOT_NAME.exec(name);
        return m === null ? [] : [{ endOffset: Number(m[1]), epoch: Number(m[2]) }];
      })
      .sort((a, b) => a.endOffset - b.endOffset || a.epoch - b.epoch);
    const segments = names
      .flatMap((name) => {
        const parsed = parseOffsetFileName(name);
        return parsed?.suffix === ".log" ? [{ name, base: parsed.offset }] : [];
      })
      .sort((a, b) => a.base - b.base);
    segments.forEach((s, i) => {
      checkSegment(path.join(dir, s.name), i === segments.length - 1, logger);
    });
    const log = PartitionLog.open({
      dir,
      topicPartition: { topic: METADATA_TOPIC, partition: 0 },
      config: METADATA_LOG_CONFIG,
      pool: new FilePool(16),
      clock: options.clock,
      events: {
        info: (fields, message) => logger.info(fields, message),
        warn: (fields, message) => logger.warn(fields, message),
      },
      // As Kafka's KafkaMetadataLog: recover every segment on open (checkSegment vetted them).
      hadCleanShutdown: false,
      recoveryPoint: 0,
      logStartOffset: snapshots.at(-1)?.endOffset ?? 0,
    });
    // The log may not start after the newest snapshot's end (a snapshot written with no log after it).
    const newest = snapshots.at(-1);
    if (newest !== undefined && log.logEndOffset < newest.endOffset)
      log.truncateFullyAndStartAt(newest.endOffset);
    log.updateHighWatermark(log.logEndOffset);
    return new MetadataSegmentLog(dir, log, snapshots, logger);
  }

  get logStartOffset(): number {
    return this.#log.logStartOffset;
  }

  /** The offset the next appended record gets. */
  get endOffset(): number {
    return this.#log.logEndOffset;
  }

  /** The epoch of the last batch in the log, or -1. */
  get lastEpoch(): number {
    return this.#log.leaderEpochCache.latestEpoch;
  }

  /** Appends whole batches, assigning offsets and writing `epoch` as their partitionLeaderEpoch. */
  append(batches: Buffer, epoch: number): { firstOffset: number; lastOffset: number } {
    const r = this.#log.append(batches, { assignOffsets: true, leaderEpoch: epoch, verifyCrc: false });
    return { firstOffset: r.firstOffset, lastOffset: r.lastOffset };
  }

  /** fsyncs everything appended so far (segments, leader-epoch checkpoint, the directory). */
  async flush(): Promise<void> {
    await this.#log.flush();
    this.#log.updateHighWatermark(this.#log.logEndOffset);
  }

  /** flush() done synchronously (for the KRaft core, which runs each event to completion). */
  flushSync(): void {
    this.#log.flushSync();
    this.#log.updateHighWatermark(this.#log.logEndOffset);
  }

  /** Empties the log and restarts it at `offset` (a snapshot beyond its end was installed). */
  truncateFullyAndStartAt(offset: number): void {
    this.#log.truncateFullyAndStartAt(offset);
    this.#log.updateHighWatermark(offset);
  }

  /** The leader-epoch cache's entries: each epoch and the offset where it starts, oldest first. */
  epochEntries(): readonly { readonly epoch: number; readonly startOffset: number }[] {
    return this.#log.leaderEpochCache.epochEntries();
  }

  /** Removes everything at and after `offset` (whole batches). */
  truncateTo(offset: number): void {
    this.#log.truncateTo(offset);
  }

  /** Stored batches from `offset` (the batch holding it first), up to about `maxBytes` (at least one batch). */
  read(offset: number, maxBytes: number): Buffer {
    return this.#log.read(offset, maxBytes, { minOneBatch: true }).records;
  }

  /** Kafka's endOffsetForEpoch: the largest epoch <= `epoch` and where it ends. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.#log.endOffsetForEpoch(epoch);
  }

  /** The epoch of the batch holding `offset`, or -1. */
  epochForOffset(offset: number): number {
    return this.#log.leaderEpochCache.epochForOffset(offset);
  }

  /** Snapshots on disk, oldest first. */
  get snapshots(): readonly SnapshotId[] {
    return this.#snapshots;
  }

  readSnapshot(id: SnapshotId): Buffer {
    return readFileSync(path.join(this.dir, snapshotFileName(id)));
  }

  snapshotSize(id: SnapshotId): number {
    return statSync(path.join(this.dir, snapshotFileName(id))).size;
  }

  /** Up to `maxBytes` of a snapshot file from `position` (FetchSnapshot reads it in chunks). */
  readSnapshotChunk(id: SnapshotId, position: number, maxBytes: number): Buffer {
    const fd = openSync(path.join(this.dir, snapshotFileName(id)), "r");
    try {
      const size = fstatSync(fd).size;
      const length = Math.max(0, Math.min(maxBytes, size - position));
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buf, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      return buf.subarray(0, done);
    } finally {
      closeSync(fd);
    }
  }

  /** Writes a snapshot (`.checkpoint.part`, fsync, rename, directory fsync). Synchronous. */
  writeSnapshot(id: SnapshotId, batches: readonly Buffer[]): void {
    const name = snapshotFileName(id);
    const partial = path.join(this.dir, snapshotFileName(id, PARTIAL_SUFFIX));
    try {
      const fd = openSync(partial, "w");
      try {
        for (const b of batches) writeSync(fd, b);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(partial, path.join(this.dir, name));
      fsyncDir(this.dir);
    } catch (err) {
      throw new KrillError("LOG_IO", `cannot write metadata snapshot ${name}`, { cause: err });
    }
    this.#snapshots = [...this.#snapshots.filter((s) => s.endOffset !== id.endOffset), id].sort(
      (a, b) => a.endOffset - b.endOffset,
    );
  }

  /**
   * Drops what `id` (a written snapshot of committed data) makes redundant: older snapshots and
   * the segments wholly below its end offset, whose start moves up to it.
   */
  deleteBefore(id: SnapshotId): void {
    for (const old of this.#snapshots.filter((s) => s.endOffset < id.endOffset)) {
      rmSync(path.join(this.dir, snapshotFileName(old)), { force: true });
    }
    this.#snapshots = this.#snapshots.filter((s) => s.endOffset >= id.endOffset);
    const start = Math.min(id.endOffset, this.#log.highWatermark);
    if (start > this.#log.logStartOffset) this.#log.deleteRecordsBefore(start);
  }

  async close(): Promise<void> {
    await this.#log.close();
    this.#logger.debug({ dir: this.dir }, "metadata log closed");
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new KrillError("LOG_IO", `cannot list ${dir}`, { cause: err });
  }
}

/**
 * Checks the framing and CRC of every batch of a segment. A short, overlong or bad last batch of
 * the last segment is a write the crash cut off (recovery truncates it); anything else is
 * corruption.
 */
function checkSegment(file: string, isLast: boolean, logger: Logger): void {
  const bytes = readFileSync(file);
  let pos = 0;
  while (pos < bytes.length) {
    const where = `${file} at byte ${pos}`;
    const remaining = bytes.length - pos;
    const torn = (problem: string): boolean => {
      if (!isLast) throw new KrillError("CORRUPT_SEGMENT", `${where}: ${problem}`);
      logger.warn(
        { file, validBytes: pos, fileBytes: bytes.length, problem },
        "metadata log ends in a torn batch; truncating it",
      );
      return true;
    };
    if (remaining < LOG_OVERHEAD) {
      if (torn("truncated batch header")) return;
    }
    const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
    if (size <= LOG_OVERHEAD || size > METADATA_BATCH_BYTES_MAX) {
      // A zero-filled tail (preallocated or never written) ends the log as well.
      if (torn(`batch length ${size - LOG_OVERHEAD} out of range`)) return;
    }
    if (remaining < size) {
      if (torn("truncated batch")) return;
    }
    try {
      decodeRecordBatch(bytes, {
        position: pos,
        decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
        batchSizeMax: METADATA_BATCH_BYTES_MAX,
      });
    } catch (err) {
      // A bad last batch is a torn write (its bytes were not all on disk); earlier it is corruption.
      if (pos + size === bytes.length && isLast) {
        torn("bad last batch");
        return;
      }
      throw new KrillError("CORRUPT_SEGMENT", `${where}: bad record batch`, { cause: err });
    }
    pos += size;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

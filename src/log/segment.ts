/**
 * One log segment: `<base>.log` holding record batches exactly as they travel on the wire, with its
 * sparse `<base>.index` and `<base>.timeindex` (index-file.ts).
 *
 * Concurrency contract: every method except `flush` is synchronous, so on Node's single thread a
 * read never observes an append half done: a reader sees the bytes up to `sizeBytes` as it was
 * when the read started, which includes the unflushed tail of the active segment (writes go to the
 * page cache, readable at once). `flush` pins descriptors and fsyncs in the thread pool; appends
 * made meanwhile are simply not covered by it. Owned by one `PartitionLog`.
 */
import fs from "node:fs";
import path from "node:path";
import { KrillError } from "../errors.js";
import { BATCH_HEADER_SIZE } from "../protocol/records/batch-header.js";
import { type BatchInfo, BatchScanner, batchInfoAt, checkBatchHeader, isCrcValid } from "./batch-scan.js";
import type { FilePool } from "./file-pool.js";
import { IndexEntriesBuilder, OffsetIndex, TimeIndex, writeFully } from "./index-file.js";
import {
  INDEX_FILE_SUFFIX,
  LOG_FILE_SUFFIX,
  segmentFileName,
  TIME_INDEX_FILE_SUFFIX,
  TXN_INDEX_FILE_SUFFIX,
} from "./names.js";
import { takeReadBuffer } from "./read-buffer-pool.js";

/** Window of the sequential scans run by recovery and index rebuilds. */
const RECOVERY_WINDOW_BYTES = 1024 * 1024;
/** Window for header-only scans that locate an offset (a few index intervals). */
const LOCATE_WINDOW_BYTES = 16 * 1024;
const RELATIVE_OFFSET_MAX = 0x7fffffff;
/** Read end positions remembered per segment (one per recent consumer position). */
const READ_ENDS_MAX = 16;

/**
 * An append refused for lack of space (ENOSPC, or EDQUOT for a quota) whose partial write was cut
 * back: the segment is exactly as before the call, so the log stays usable and a later append
 * succeeds once space returns. Any other write error leaves the tail unknown (see PartitionLog).
 */
export class NoSpaceError extends KrillError {
  constructor(message: string, options: { cause: unknown }) {
    super("LOG_IO", message, options);
  }
}

function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

/** Kafka's "no timestamp". */
export const NO_TIMESTAMP = -1;

export interface SegmentRecovery {
  /** Bytes of valid batches kept. */
  validBytes: number;
  /** Bytes removed from the end because they were torn or corrupt. */
  truncatedBytes: number;
  /** Why the first removed batch was rejected. */
  problem: string | undefined;
}

/** The result of reading stored batches from a segment. */
export interface SegmentRead {
  /** Whole batches, byte for byte as stored. */
  records: Buffer;
  /** Offset after the last batch returned. */
  nextOffset: number;
}

export class LogSegment {
  readonly logPath: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** Bytes of batches in the `.log` file. */
  sizeBytes: number;
  /** Offset after the last batch; exact for the active segment, loaded with `loadTail`. */
  nextOffset: number;
  /** Largest batch max timestamp in the segment and the last offset of the batch carrying it. */
  private maxTimestamp = NO_TIMESTAMP;
  private offsetOfMaxTimestamp: number;
  private maxTimestampKnown: boolean;
  private bytesSinceLastIndexEntry = 0;
  /** Max timestamp of the first batch: `segment.ms` counts from it, as in Kafka. */
  private rollingBasedTimestamp: number | undefined;

  private constructor(
    private readonly pool: FilePool,
    readonly dir: string,
    readonly baseOffset: number,
    sizeBytes: number,
    readonly createdMs: number,
  ) {
    this.logPath = path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX));
    this.offsetIndex = new OffsetIndex(
      pool,
      path.join(dir, segmentFileName(baseOffset, INDEX_FILE_SUFFIX)),
      baseOffset,
    );
    this.timeIndex = new TimeIndex(
      pool,
      path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX)),
      baseOffset,
    );
    this.sizeBytes = sizeBytes;
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.maxTimestampKnown = sizeBytes === 0;
  }

  /** A new, empty, active segment. */
  static create(
    pool: FilePool,
    dir: string,
    baseOffset: number,
    maxIndexBytes: number,
    nowMs: number,
  ): LogSegment {
    const segment = new LogSegment(pool, dir, baseOffset, 0, nowMs);
    pool.withFd(segment.logPath, (fd) => fs.ftruncateSync(fd, 0), true);
    segment.offsetIndex.createEmpty(maxIndexBytes);
    segment.timeIndex.createEmpty(maxIndexBytes);
    return segment;
  }

  /**
   * An existing segment, opened without reading its data (only `stat`s), as startup after a clean
   * shutdown does. Returns the segment and whether its indexes need a rebuild.
   */
  static open(pool: FilePool, dir: string, baseOffset: number): { segment: LogSegment; indexesOk: boolean } {
    const logPath = path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX));
    let stat: fs.Stats;
    try {
      stat = fs.statSync(logPath);
    } catch (cause) {
      throw new KrillError("LOG_IO", `Cannot stat ${logPath}`, { cause });
    }
    const segment = new LogSegment(pool, dir, baseOffset, stat.size, stat.mtimeMs);
    const indexesOk = segment.offsetIndex.openExisting() && segment.timeIndex.openExisting();
    return { segment, indexesOk };
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Appends

  /**
   * Whether the active segment must roll before taking an append of `appendBytes` ending at
   * `lastOffset` (Kafka's LogSegment.shouldRoll, without jitter).
   */
  shouldRoll(
    segmentBytes: number,
    segmentMs: number,
    appendBytes: number,
    lastOffset: number,
    nowMs: number,
  ): boolean {
    if (this.sizeBytes === 0) return false;
    if (this.sizeBytes + appendBytes > segmentBytes) return true;
    if (nowMs - (this.rollingBasedTimestamp ?? this.createdMs) > segmentMs) return true;
    if (this.offsetIndex.isFull || this.timeIndex.isFull) return true;
    return lastOffset - this.baseOffset > RELATIVE_OFFSET_MAX;
  }

  /**
   * Appends `buf`, which holds the whole batches described by `batches` (positions relative to
   * `buf`), and adds index entries every `indexIntervalBytes`. On a write error the segment is cut
   * back to its previous size, so a failed append leaves no partial batch behind.
   */
  append(buf: Buffer, batches: readonly BatchInfo[], indexIntervalBytes: number): void {
    const start = this.sizeBytes;
    try {
      this.pool.withFd(this.logPath, (fd) => writeFully(fd, buf, start));
    } catch (cause) {
      const cutBack = this.cutBackTo(start);
      if (cutBack && isNoSpace(cause)) {
        throw new NoSpaceError(`No space left on device appending to ${this.logPath}`, { cause });
      }
      throw new KrillError("LOG_IO", `Append to ${this.logPath} failed`, { cause });
    }
    if (start === 0 && batches.length > 0) this.rollingBasedTimestamp = batches[0]!.maxTimestamp;
    this.ensureMaxTimestamp();
    for (const b of batches) {
      const physical = start + b.position;
      if (b.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = b.maxTimestamp;
        this.offsetOfMaxTimestamp = b.lastOffset;
      }
      // A full index skips entries rather than failing an append already written: indexes are
      // sparse, and the next append rolls the segment.
      if (
        this.bytesSinceLastIndexEntry > indexIntervalBytes &&
        !this.offsetIndex.isFull &&
        !this.timeIndex.isFull
      ) {
        this.offsetIndex.append(b.lastOffset, physical);
        this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
        this.bytesSinceLastIndexEntry = 0;
      }
      this.bytesSinceLastIndexEntry += b.sizeBytes;
    }
    this.sizeBytes = start + buf.length;
    const last = batches[batches.length - 1];
    if (last !== undefined) this.nextOffset = last.lastOffset + 1;
  }

  /** Cuts the file back to `size`; true when it is that size again. */
  private cutBackTo(size: number): boolean {
    try {
      return this.pool.withFd(this.logPath, (fd) => {
        fs.ftruncateSync(fd, size);
        return fs.fstatSync(fd).size === size;
      });
    } catch {
      // Recovery validates the tail on the next start; nothing more can be done here.
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  private readAt = (buf: Buffer, length: number, position: number): number =>
    this.pool.withFd(this.logPath, (fd) => fs.readSync(fd, buf, 0, length, position));

  /**
   * The byte position of the batch a read from `offset` starts at, when a recent read ended exactly
   * there (the common case of a consumer reading on); undefined otherwise.
   */
  knownReadStart(offset: number): number | undefined {
    const position = this.readEnds.get(offset);
    return position !== undefined && position < this.sizeBytes ? position : undefined;
  }

  /**
   * The first batch whose last offset is >= `offset`, found from the offset index and a header-only
   * scan of at most about one index interval; undefined if the segment has none.
   */
  locate(offset: number): BatchInfo | undefined {
    const end = this.sizeBytes;
    // A consumer reading on from where its last read ended starts at a known batch boundary.
    let start = this.readEnds.get(offset);
    if (start === undefined || start > end) {
      const from = this.offsetIndex.lookup(offset);
      if (from.position > end) {
        throw this.corruptAt(
          from.position,
          `offset index entry for ${from.offset} points past the end (${end})`,
        );
      }
      start = from.position;
    }
    const scanner = new BatchScanner(this.readAt, start, end, LOCATE_WINDOW_BYTES);
    for (;;) {
      const b = scanner.next(false);
      if (b === undefined) {
        if (scanner.problem !== undefined) {
          throw new KrillError(
            "CORRUPT_SEGMENT",
            `Corrupt batch at position ${scanner.position} of ${this.logPath}: ${scanner.problem}`,
          );
        }
        return undefined;
      }
      if (b.lastOffset >= offset) return b;
    }
  }

  /**
   * Reads whole batches from byte `position`: as many as fit in `maxBytes`, stopping before any
   * batch with last offset >= `maxOffsetExclusive`. With `minOneBatch` the first batch is returned
   * even if larger than `maxBytes`. Every batch returned has a valid CRC: a corrupt first batch is
   * an error, a corrupt later batch ends the read before it (the next read reports it). With
   * `pooled` the bytes may sit in a read-buffer-pool.ts buffer: the caller must release it once
   * they are written out, and must not keep them after that.
   */
  read(
    position: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
    pooled = false,
  ): SegmentRead {
    const available = this.sizeBytes - position;
    if (available <= 0) return { records: Buffer.alloc(0), nextOffset: -1 };
    const bytes = Math.min(available, Math.max(maxBytes, BATCH_HEADER_SIZE));
    const buf = pooled ? takeReadBuffer(bytes) : Buffer.allocUnsafe(bytes);
    const got = this.readFully(buf, position);
    const first = this.collect(
      buf,
      got,
      position,
      available,
      maxBytes,
      maxOffsetExclusive,
      minOneBatch,
      true,
    );
    if (first.kind === "done") return first.read;
    // The first batch alone is larger than maxBytes: complete exactly that batch.
    const whole = Buffer.allocUnsafe(first.sizeBytes);
    buf.copy(whole, 0, 0, got);
    const rest = this.readFully(whole.subarray(got), position + got);
    return this.collectWhole(whole, got + rest, position, available, maxBytes, maxOffsetExclusive, true);
  }

  private collectWhole(
    whole: Buffer,
    got: number,
    position: number,
    available: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    remember: boolean,
  ): SegmentRead {
    if (got < whole.length) throw this.corruptAt(position, "segment file is shorter than its batch");
    const again = this.collect(whole, got, position, available, maxBytes, maxOffsetExclusive, true, remember);
    if (again.kind !== "done") throw this.corruptAt(position, "batch size changed while reading");
    return again.read;
  }

  /**
   * Picks the whole, CRC-valid batches out of `buf[0, got)` (read from `position`); asks for the
   * first batch's full size when it alone does not fit and `minOneBatch` wants it anyway.
   */
  private collect(
    buf: Buffer,
    got: number,
    position: number,
    available: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
    remember: boolean,
  ): { kind: "done"; read: SegmentRead } | { kind: "need"; sizeBytes: number } {
    let p = 0;
    let nextOffset = -1;
    while (p + BATCH_HEADER_SIZE <= got) {
      const checked = checkBatchHeader(buf, p, available - p);
      if (typeof checked === "string") {
        if (p === 0) throw this.corruptAt(position, checked);
        break;
      }
      const info = batchInfoAt(buf, p, position + p, checked);
      if (info.lastOffset >= maxOffsetExclusive) break;
      if (p + checked > got || p + checked > maxBytes) {
        if (p > 0 || !minOneBatch) break;
        if (p + checked > got) return { kind: "need", sizeBytes: checked };
      }
      if (!isCrcValid(buf, p, checked)) {
        if (p === 0) throw this.corruptAt(position, `CRC mismatch in batch at offset ${info.baseOffset}`);
        break;
      }
      p += checked;
      nextOffset = info.lastOffset + 1;
      if (p >= maxBytes) break;
    }
    if (p > 0 && remember) this.rememberReadEnd(nextOffset, position + p);
    return { kind: "done", read: { records: buf.subarray(0, p), nextOffset } };
  }

  /**
   * Where recent reads ended: next offset -> byte position of the batch after them. Consumers fetch
   * from where they stopped, so the next read starts here without an index lookup and scan. Small
   * and bounded; cleared when the segment is truncated (a cleaned segment is a new object).
   */
  private readonly readEnds = new Map<number, number>();

  private rememberReadEnd(nextOffset: number, position: number): void {
    this.readEnds.delete(nextOffset);
    this.readEnds.set(nextOffset, position);
    if (this.readEnds.size > READ_ENDS_MAX) {
      const oldest = this.readEnds.keys().next().value;
      if (oldest !== undefined) this.readEnds.delete(oldest);
    }
  }

  private readFully(buf: Buffer, position: number): number {
    let got = 0;
    while (got < buf.length) {
      const n = this.readAt(buf.subarray(got), buf.length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  private corruptAt(position: number, why: string): KrillError {
    return new KrillError(
      "CORRUPT_SEGMENT",
      `Corrupt batch at position ${position} of ${this.logPath}: ${why}`,
    );
  }

  /**
   * The first batch whose max timestamp is >= `timestamp`, found from the time index and a scan;
   * undefined if the segment has none.
   */
  findByTimestamp(timestamp: number): BatchInfo | undefined {
    const before = this.timeIndex.lookupBefore(timestamp);
    const start = before === undefined ? 0 : this.offsetIndex.lookup(before.offset).position;
    const scanner = new BatchScanner(
      this.readAt,
      Math.min(start, this.sizeBytes),
      this.sizeBytes,
      LOCATE_WINDOW_BYTES,
    );
    for (;;) {
      const b = scanner.next(false);
      if (b === undefined) return undefined;
      if (b.maxTimestamp >= timestamp) return b;
    }
  }

  /** Every batch header in the segment, in order (compaction and tests; reads headers only). */
  *batches(verifyCrc: boolean): Generator<BatchInfo> {
    const window = Math.min(RECOVERY_WINDOW_BYTES, this.sizeBytes);
    const scanner = new BatchScanner(this.readAt, 0, this.sizeBytes, window);
    for (;;) {
      const b = scanner.next(verifyCrc);
      if (b === undefined) {
        if (scanner.problem !== undefined) throw this.corruptAt(scanner.position, scanner.problem);
        return;
      }
      yield b;
    }
  }

  /** The stored bytes of one batch. */
  readBatch(info: BatchInfo): Buffer {
    const buf = Buffer.allocUnsafe(info.sizeBytes);
    if (this.readFully(buf, info.position) !== info.sizeBytes)
      throw this.corruptAt(info.position, "short read");
    return buf;
  }

  // ---------------------------------------------------------------------------------------------
  // Timestamps

  private ensureMaxTimestamp(): void {
    if (this.maxTimestampKnown) return;
    const last = this.timeIndex.lastEntry;
    if (last !== undefined && last.timestamp > this.maxTimestamp) {
      this.maxTimestamp = last.timestamp;
      this.offsetOfMaxTimestamp = last.offset;
    }
    this.maxTimestampKnown = true;
  }

  /** Max timestamp of the segment's first batch (NO_TIMESTAMP if empty); reads one header once. */
  firstBatchTimestamp(): number {
    if (this.rollingBasedTimestamp === undefined && this.sizeBytes > 0) {
      const window = Math.min(BATCH_HEADER_SIZE, this.sizeBytes);
      this.rollingBasedTimestamp = new BatchScanner(this.readAt, 0, this.sizeBytes, window).next(
        false,
      )?.maxTimestamp;
    }
    return this.rollingBasedTimestamp ?? NO_TIMESTAMP;
  }

  /** Largest batch timestamp in the segment (NO_TIMESTAMP if none). */
  get maxTimestampSoFar(): number {
    this.ensureMaxTimestamp();
    return this.maxTimestamp;
  }

  get offsetOfMaxTimestampSoFar(): number {
    this.ensureMaxTimestamp();
    return this.offsetOfMaxTimestamp;
  }

  /** What retention.ms compares: the max timestamp, or the file's mtime if batches carry none. */
  largestTimestamp(): number {
    const ts = this.maxTimestampSoFar;
    if (ts >= 0) return ts;
    try {
      return fs.statSync(this.logPath).mtimeMs;
    } catch {
      return this.createdMs;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Loading, recovery, truncation

  /**
   * Finishes loading the active segment after a clean shutdown: scans the batch headers after the
   * last offset index entry to learn the next offset and max timestamp, and makes the indexes
   * appendable again. Returns a problem description if the tail is not a clean sequence of
   * batches (the caller then runs `recover`).
   */
  loadTail(maxIndexBytes: number): string | undefined {
    if (!this.offsetIndex.sane() || !this.timeIndex.sane()) return "index fails its sanity check";
    const last = this.offsetIndex.lastEntry;
    const start = last?.position ?? 0;
    if (start > this.sizeBytes) return "offset index points past the end of the log";
    this.maxTimestampKnown = false;
    this.maxTimestamp = NO_TIMESTAMP;
    this.ensureMaxTimestamp();
    this.nextOffset = last === undefined ? this.baseOffset : last.offset + 1;
    const window = Math.min(RECOVERY_WINDOW_BYTES, this.sizeBytes - start);
    const scanner = new BatchScanner(this.readAt, start, this.sizeBytes, window);
    let first = true;
    for (;;) {
      const b = scanner.next(false);
      if (b === undefined) break;
      if (first && start === 0) this.rollingBasedTimestamp = b.maxTimestamp;
      first = false;
      if (b.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = b.maxTimestamp;
        this.offsetOfMaxTimestamp = b.lastOffset;
      }
      this.nextOffset = b.lastOffset + 1;
    }
    if (scanner.problem !== undefined) return scanner.problem;
    this.bytesSinceLastIndexEntry = this.sizeBytes - start;
    if (start > 0 && this.rollingBasedTimestamp === undefined) {
      const firstBatch = new BatchScanner(this.readAt, 0, this.sizeBytes, BATCH_HEADER_SIZE).next(false);
      this.rollingBasedTimestamp = firstBatch?.maxTimestamp;
    }
    this.offsetIndex.makeMutable(maxIndexBytes);
    this.timeIndex.makeMutable(maxIndexBytes);
    return undefined;
  }

  /**
   * Validates every batch (sizes, magic, CRC, offsets increasing and within this segment), cuts the
   * file at the first torn or corrupt batch and rebuilds both indexes from what remains (Kafka's
   * LogSegment.recover). `maxIndexBytes` keeps the indexes appendable (the active segment).
   */
  recover(
    indexIntervalBytes: number,
    maxIndexBytes: number | undefined,
    onBatch?: (batch: BatchInfo) => void,
  ): SegmentRecovery {
    let fileSize: number;
    try {
      fileSize = fs.statSync(this.logPath).size;
    } catch (cause) {
      throw new KrillError("LOG_IO", `Cannot stat ${this.logPath}`, { cause });
    }
    const scanner = new BatchScanner(this.readAt, 0, fileSize, Math.min(RECOVERY_WINDOW_BYTES, fileSize));
    const entries = new IndexEntriesBuilder(this.baseOffset);
    let lastOffset = this.baseOffset - 1;
    let sinceIndex = 0;
    let maxTs = NO_TIMESTAMP;
    let offsetOfMaxTs = this.baseOffset;
    let rolling: number | undefined;
    let problem: string | undefined;
    for (;;) {
      const b = scanner.next(true);
      if (b === undefined) {
        problem = scanner.problem;
        break;
      }
      if (b.baseOffset <= lastOffset || b.lastOffset - this.baseOffset > RELATIVE_OFFSET_MAX) {
        problem = `batch at offset ${b.baseOffset} does not follow offset ${lastOffset} in segment ${this.baseOffset}`;
        scanner.position = b.position;
        break;
      }
      onBatch?.(b);
      rolling ??= b.maxTimestamp;
      if (b.maxTimestamp > maxTs) {
        maxTs = b.maxTimestamp;
        offsetOfMaxTs = b.lastOffset;
      }
      if (sinceIndex > indexIntervalBytes) {
        entries.addOffset(b.lastOffset, b.position);
        entries.addTime(maxTs, offsetOfMaxTs);
        sinceIndex = 0;
      }
      sinceIndex += b.sizeBytes;
      lastOffset = b.lastOffset;
    }
    const validBytes = scanner.position;
    if (validBytes < fileSize) {
      try {
        this.pool.withFd(this.logPath, (fd) => fs.ftruncateSync(fd, validBytes));
      } catch (cause) {
        throw new KrillError("LOG_IO", `Cannot truncate ${this.logPath}`, { cause });
      }
    }
    // A closed segment's time index ends with its max timestamp, as after a roll.
    if (maxIndexBytes === undefined && maxTs >= 0) entries.addTime(maxTs, offsetOfMaxTs);
    this.offsetIndex.rewrite(entries.offsetEntries(), maxIndexBytes);
    this.timeIndex.rewrite(entries.timeEntries(), maxIndexBytes);
    this.sizeBytes = validBytes;
    this.nextOffset = lastOffset + 1;
    this.maxTimestamp = maxTs;
    this.offsetOfMaxTimestamp = offsetOfMaxTs;
    this.maxTimestampKnown = true;
    this.bytesSinceLastIndexEntry = sinceIndex;
    this.rollingBasedTimestamp = rolling;
    return {
      validBytes,
      truncatedBytes: fileSize - validBytes,
      problem: validBytes < fileSize ? problem : undefined,
    };
  }

  /**
   * Removes every batch whose last offset is >= `offset` (the batch containing `offset` goes too:
   * the log only ever holds whole batches) and the index entries pointing at them. Returns the
   * number of bytes removed. The segment must then be (or become) the active one.
   */
  truncateTo(offset: number, maxIndexBytes: number): number {
    const first = this.locate(offset);
    if (first === undefined) return 0;
    const removed = this.sizeBytes - first.position;
    this.offsetIndex.truncateToPosition(first.position);
    this.timeIndex.truncateTo(offset);
    this.pool.withFd(this.logPath, (fd) => fs.ftruncateSync(fd, first.position));
    this.sizeBytes = first.position;
    this.readEnds.clear();
    this.maxTimestampKnown = false;
    const problem = this.loadTail(maxIndexBytes);
    if (problem !== undefined) throw this.corruptAt(first.position, problem);
    return removed;
  }

  /** The segment stops being active: record its final max timestamp and trim the indexes. */
  onBecomeInactive(): void {
    this.ensureMaxTimestamp();
    if (this.maxTimestamp >= 0)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
    this.offsetIndex.trim();
    this.timeIndex.trim();
  }

  async flush(): Promise<void> {
    await this.pool.fsync(this.logPath);
    await this.offsetIndex.flush();
    await this.timeIndex.flush();
  }

  /** Closes descriptors (clean shutdown of the active segment trims its indexes first). */
  close(active: boolean): void {
    if (active) this.onBecomeInactive();
    this.offsetIndex.unload();
    this.timeIndex.unload();
    this.pool.forget(this.logPath);
    this.pool.forget(this.offsetIndex.path);
    this.pool.forget(this.timeIndex.path);
  }

  /** Deletes the segment's files. */
  delete(): void {
    this.pool.forget(this.logPath);
    fs.rmSync(this.logPath, { force: true });
    this.offsetIndex.delete();
    this.timeIndex.delete();
    fs.rmSync(path.join(this.dir, segmentFileName(this.baseOffset, TXN_INDEX_FILE_SUFFIX)), { force: true });
  }
}

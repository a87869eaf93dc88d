/**
 * Kafka's sparse segment indexes, in Kafka's file format so its tools can read them:
 *
 * - offset index (`.index`): 8-byte entries, int32 offset relative to the segment's base offset
 *   and int32 byte position of a batch in the `.log`; the offset is the batch's last offset.
 * - time index (`.timeindex`): 12-byte entries, int64 timestamp and int32 relative offset: the
 *   largest timestamp seen so far in the segment and the last offset of the batch carrying it.
 *
 * The active segment's indexes are preallocated to `segment.index.bytes` (a sparse file, so no
 * disk is used until written) and trimmed to their entries when the segment rolls or closes, as
 * Kafka does. A new segment's index files are created lazily (Kafka's LazyIndex): only when the
 * first entries are written out, or the index is trimmed, flushed or rewritten. Creating a
 * partition then costs one file instead of three, which is most of the cost of creating thousands
 * of partitions at once; an index file missing after a crash is rebuilt by recovery. Lookups binary-search an in-memory copy of the file, held under the pool's shared
 * IndexCache budget (least recently used copies are dropped, so memory does not grow with the
 * number of segments; Kafka's mmap serves the same purpose); without a copy they binary-search the
 * file with positioned reads. New entries are kept in memory, up to TAIL_ENTRIES_MAX, and written
 * in one go (when the tail fills, and before any flush, trim or resize), saving two system calls
 * per indexed append. Unwritten entries only matter after a crash, and recovery rebuilds the indexes
 * of every segment after the recovery point anyway.
 *
 * Concurrency contract: synchronous; one `LogSegment` owns each index.
 */
import fs from "node:fs";
import { KrillError } from "../errors.js";
import type { FilePool } from "./file-pool.js";

const RELATIVE_OFFSET_MAX = 0x7fffffff;
/** New entries kept in memory before they are written to the file. */
const TAIL_ENTRIES_MAX = 64;

abstract class IndexFile {
  /** Number of valid entries. */
  entries = 0;
  /** Entries the file has room for (preallocated size / entry size). */
  maxEntries = 0;
  protected readonly scratch: Buffer;
  /**
   * A copy of entries [0, loadedCount) read from the file, so a lookup binary-searches memory
   * instead of issuing a read per probe (as Kafka's mmap). Held under the pool's IndexCache budget,
   * which drops the least recently used copies.
   */
  private loaded: Buffer | undefined;
  private loadedCount = 0;
  /** Entries [tailStart, tailStart + tailCount) are in `tail`, not yet in the file. */
  private tail: Buffer | undefined;
  private tailStart = 0;
  private tailCount = 0;

  constructor(
    protected readonly pool: FilePool,
    readonly path: string,
    readonly baseOffset: number,
    readonly entrySize: number,
  ) {
    this.scratch = Buffer.alloc(entrySize);
  }

  /**
   * Opens an existing index, trusting its size (after a clean shutdown indexes are trimmed to
   * their entries) without reading it: startup with many segments only stats files. Returns false
   * if the file is missing or malformed, so the caller rebuilds it.
   */
  openExisting(): boolean {
    let size: number;
    try {
      size = fs.statSync(this.path).size;
    } catch {
      return false;
    }
    if (size % this.entrySize !== 0) return false;
    this.pendingCreate = false;
    this.tailCount = 0;
    this.unload();
    this.fileBytes = size;
    this.entries = size / this.entrySize;
    this.maxEntries = this.entries;
    this.clearLastEntry();
    return true;
  }

  /** Reads the last entry and checks it belongs to this segment (Kafka's sanity check). */
  sane(): boolean {
    if (this.entries === 0) return true;
    try {
      this.loadLastEntry();
    } catch {
      return false;
    }
    return this.lastEntryValid();
  }

  /** Creates (or empties) the file and preallocates it for appends. */
  createEmpty(maxIndexBytes: number): void {
    this.tailCount = 0;
    this.unload();
    this.entries = 0;
    this.clearLastEntry();
    // A leftover file of the same name must not be mistaken for this index: remove it now (cheap
    // when there is none) and create the file when something is first written to it.
    this.pool.forget(this.path);
    fs.rmSync(this.path, { force: true });
    this.pendingCreate = true;
    this.fileBytes = 0;
    this.makeMutable(maxIndexBytes);
  }

  /**
   * Set while the file does not exist yet (a new segment's index, see the header): `fileBytes` is
   * then the size the file will be created with.
   */
  private pendingCreate = false;

  /** Creates the file of a lazily created index at its intended size. */
  private materialize(): void {
    if (!this.pendingCreate) return;
    const bytes = this.fileBytes ?? 0;
    this.pool.withFd(this.path, (fd) => fs.ftruncateSync(fd, bytes), true);
    this.pendingCreate = false;
  }

  /** Grows the file back to its preallocated size so it can take appends (the segment is active). */
  makeMutable(maxIndexBytes: number): void {
    this.flushTail();
    const maxEntries = Math.max(Math.floor(maxIndexBytes / this.entrySize), this.entries);
    this.maxEntries = maxEntries;
    this.resizeFile(maxEntries * this.entrySize);
  }

  /** Shrinks the file to its entries (the segment rolled or closed). */
  trim(): void {
    this.flushTail();
    this.maxEntries = this.entries;
    this.resizeFile(this.entries * this.entrySize);
    // A closed segment's index exists on disk (a clean restart trusts it; Kafka's tools read it).
    this.materialize();
  }

  /**
   * Replaces all entries with `entries` (a rebuild); `maxIndexBytes` given keeps it appendable.
   * Stale bytes past the new entries are cut by one resize (truncation is the expensive part of a
   * rebuild on most filesystems, so it is done once, and only if the size changes).
   */
  rewrite(entries: Buffer, maxIndexBytes: number | undefined): void {
    const count = entries.length / this.entrySize;
    this.tailCount = 0;
    this.unload();
    this.pendingCreate = false;
    this.pool.withFd(this.path, (fd) => writeFully(fd, entries, 0), true);
    this.fileBytes = Math.max(this.fileBytes ?? 0, entries.length);
    this.entries = count;
    this.maxEntries = count;
    if (count > 0) this.loadLastEntry();
    else this.clearLastEntry();
    if (maxIndexBytes !== undefined) this.makeMutable(maxIndexBytes);
    else this.trim();
  }

  /** File size as last set or seen by this object; undefined until known. */
  private fileBytes: number | undefined;

  private resizeFile(bytes: number, create = false): void {
    if (this.pendingCreate) {
      this.fileBytes = bytes;
      return;
    }
    if (this.fileBytes === undefined) {
      try {
        this.fileBytes = fs.statSync(this.path).size;
      } catch {
        this.fileBytes = undefined;
      }
    }
    if (this.fileBytes === bytes) return;
    this.pool.withFd(this.path, (fd) => fs.ftruncateSync(fd, bytes), create || this.fileBytes === undefined);
    this.fileBytes = bytes;
  }

  /** Notes that a write at entry `i` may have grown the file. */
  protected grewTo(i: number): void {
    const end = (i + 1) * this.entrySize;
    if (this.fileBytes === undefined || end > this.fileBytes) this.fileBytes = end;
  }

  get isFull(): boolean {
    return this.entries >= this.maxEntries;
  }

  get sizeBytes(): number {
    return this.entries * this.entrySize;
  }

  delete(): void {
    this.tailCount = 0;
    this.pendingCreate = false;
    this.unload();
    this.fileBytes = undefined;
    this.pool.forget(this.path);
    fs.rmSync(this.path, { force: true });
  }

  /** Forgets the descriptor after the file was renamed by the caller. */
  renamed(): void {
    this.pool.forget(this.path);
  }

  async flush(): Promise<void> {
    // Nothing written yet: no file to make durable (recovery rebuilds a missing index).
    if (this.pendingCreate && this.tailCount === 0) return;
    if (!this.pendingCreate && !fs.existsSync(this.path)) return;
    this.flushTail();
    await this.pool.fsync(this.path);
  }

  protected readEntry(i: number): Buffer {
    if (
      this.tail !== undefined &&
      this.tailCount > 0 &&
      i >= this.tailStart &&
      i < this.tailStart + this.tailCount
    ) {
      const at = (i - this.tailStart) * this.entrySize;
      return this.tail.subarray(at, at + this.entrySize);
    }
    const buf = this.scratch;
    const n = this.pool.withFd(this.path, (fd) =>
      fs.readSync(fd, buf, 0, this.entrySize, i * this.entrySize),
    );
    if (n !== this.entrySize) {
      throw new KrillError(
        "CORRUPT_SEGMENT",
        `Index ${this.path} is shorter than its ${this.entries} entries`,
      );
    }
    return buf;
  }

  /** Adds entry number `i` (always the next one) to the in-memory tail. */
  protected writeEntry(i: number, entry: Buffer): void {
    if (this.tailCount === TAIL_ENTRIES_MAX) this.flushTail();
    if (this.tailCount === 0) this.tailStart = i;
    this.tail ??= Buffer.allocUnsafe(TAIL_ENTRIES_MAX * this.entrySize);
    entry.copy(this.tail, this.tailCount * this.entrySize);
    this.tailCount++;
  }

  /** Writes the in-memory tail to the file. */
  flushTail(): void {
    if (this.tailCount === 0 || this.tail === undefined) return;
    const bytes = this.tail.subarray(0, this.tailCount * this.entrySize);
    this.materialize();
    this.pool.withFd(this.path, (fd) => writeFully(fd, bytes, this.tailStart * this.entrySize));
    this.grewTo(this.tailStart + this.tailCount - 1);
    this.tailCount = 0;
  }

  /** Makes sure a lookup can binary-search memory: loads (or refreshes) the in-memory copy. */
  protected ensureLoaded(): void {
    const inFile = this.tailCount > 0 ? this.tailStart : this.entries;
    if (this.loaded !== undefined && inFile - this.loadedCount <= TAIL_ENTRIES_MAX) {
      this.pool.indexCache.touch(this);
      return;
    }
    const bytes = inFile * this.entrySize;
    // Very large indexes are searched on disk rather than evicting everything else.
    if (bytes === 0 || bytes > this.pool.indexCache.bytesMax / 8) return;
    const buf = Buffer.allocUnsafe(bytes);
    let got = 0;
    this.pool.withFd(this.path, (fd) => {
      while (got < bytes) {
        const n = fs.readSync(fd, buf, got, bytes - got, got);
        if (n === 0) break;
        got += n;
      }
    });
    if (got < bytes) return;
    this.loaded = buf;
    this.loadedCount = inFile;
    this.pool.indexCache.admit(this, bytes, () => {
      this.loaded = undefined;
      this.loadedCount = 0;
    });
  }

  /** Drops the in-memory copy (the segment is closed or deleted). */
  unload(): void {
    this.loaded = undefined;
    this.loadedCount = 0;
    this.pool.indexCache.release(this);
  }

  /** Entry `i` from the in-memory copy, the unwritten tail, or the file. */
  protected entryBytes(i: number): Buffer {
    if (this.loaded !== undefined && i < this.loadedCount) {
      const at = i * this.entrySize;
      return this.loaded.subarray(at, at + this.entrySize);
    }
    return this.readEntry(i);
  }

  /** Entries from `n` on are gone (truncation): drop them from the tail too. */
  protected dropEntriesFrom(n: number): void {
    if (n < this.loadedCount) this.loadedCount = n;
    if (this.tailCount > 0) this.tailCount = Math.max(0, Math.min(this.tailCount, n - this.tailStart));
  }

  protected relative(offset: number): number {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > RELATIVE_OFFSET_MAX) {
      throw new KrillError(
        "STATE",
        `Offset ${offset} does not fit index ${this.path} based at ${this.baseOffset}`,
      );
    }
    return rel;
  }

  protected abstract loadLastEntry(): void;
  protected abstract clearLastEntry(): void;
  protected abstract lastEntryValid(): boolean;
}

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  static readonly ENTRY_SIZE = 8;
  private cachedLast: OffsetPosition | undefined;
  private lastKnown = true;

  constructor(pool: FilePool, path: string, baseOffset: number) {
    super(pool, path, baseOffset, OffsetIndex.ENTRY_SIZE);
  }

  get lastEntry(): OffsetPosition | undefined {
    if (!this.lastKnown) this.loadLastEntry();
    return this.cachedLast;
  }

  private set last(entry: OffsetPosition | undefined) {
    this.cachedLast = entry;
    this.lastKnown = true;
  }

  private get last(): OffsetPosition | undefined {
    return this.lastEntry;
  }

  /** Adds an entry; offsets must increase (a repeated or older offset is ignored). */
  append(offset: number, position: number): void {
    if (this.last !== undefined && offset <= this.last.offset) return;
    if (this.isFull) throw new KrillError("STATE", `Offset index ${this.path} is full`);
    const entry = Buffer.allocUnsafe(8);
    entry.writeInt32BE(this.relative(offset), 0);
    entry.writeInt32BE(position, 4);
    this.writeEntry(this.entries, entry);
    this.entries++;
    this.last = { offset, position };
  }

  /** The entry with the largest offset <= `target`, or the segment start if there is none. */
  lookup(target: number): OffsetPosition {
    let lo = 0;
    let hi = this.entries - 1;
    let found: OffsetPosition = { offset: this.baseOffset, position: 0 };
    if (this.last !== undefined && this.last.offset <= target) return this.last;
    this.ensureLoaded();
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entryAt(mid);
      if (e.offset <= target) {
        found = e;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Removes entries whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1).offset >= offset) keep--;
    this.setEntries(keep);
  }

  /** Removes entries pointing at or beyond byte `position` of the log. */
  truncateToPosition(position: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1).position >= position) keep--;
    this.setEntries(keep);
  }

  entryAt(i: number): OffsetPosition {
    const buf = this.entryBytes(i);
    return { offset: this.baseOffset + buf.readInt32BE(0), position: buf.readInt32BE(4) };
  }

  private setEntries(n: number): void {
    this.dropEntriesFrom(n);
    this.entries = n;
    if (n > 0) this.loadLastEntry();
    else this.last = undefined;
  }

  protected loadLastEntry(): void {
    this.last = this.entries > 0 ? this.entryAt(this.entries - 1) : undefined;
  }

  protected clearLastEntry(): void {
    this.cachedLast = undefined;
    this.lastKnown = false;
  }

  protected lastEntryValid(): boolean {
    return this.last !== undefined && this.last.offset >= this.baseOffset && this.last.position >= 0;
  }
}

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex extends IndexFile {
  static readonly ENTRY_SIZE = 12;
  private cachedLast: TimestampOffset | undefined;
  private lastKnown = true;

  constructor(pool: FilePool, path: string, baseOffset: number) {
    super(pool, path, baseOffset, TimeIndex.ENTRY_SIZE);
  }

  get lastEntry(): TimestampOffset | undefined {
    if (!this.lastKnown) this.loadLastEntry();
    return this.cachedLast;
  }

  private set last(entry: TimestampOffset | undefined) {
    this.cachedLast = entry;
    this.lastKnown = true;
  }

  private get last(): TimestampOffset | undefined {
    return this.lastEntry;
  }

  /**
   * One slot is kept free so the final entry written when the segment rolls or closes always
   * fits; the index counts as full one entry early.
   */
  override get isFull(): boolean {
    return this.entries >= this.maxEntries - 1;
  }

  /**
   * Adds an entry if `timestamp` is larger than the last one. `final` is the entry written on roll
   * or close, which may use the reserved slot (or grow a trimmed file).
   */
  maybeAppend(timestamp: number, offset: number, final = false): void {
    if (this.last !== undefined && (timestamp <= this.last.timestamp || offset < this.last.offset)) return;
    if (!final && this.isFull) throw new KrillError("STATE", `Time index ${this.path} is full`);
    const entry = Buffer.allocUnsafe(12);
    entry.writeBigInt64BE(BigInt(timestamp), 0);
    entry.writeInt32BE(this.relative(offset), 8);
    this.writeEntry(this.entries, entry);
    this.entries++;
    if (this.entries > this.maxEntries) this.maxEntries = this.entries;
    this.last = { timestamp, offset };
  }

  /**
   * The last entry whose timestamp is below `target`: every batch up to its offset has a max
   * timestamp below the target, so a search for the target can start after it.
   */
  lookupBefore(target: number): TimestampOffset | undefined {
    this.ensureLoaded();
    let lo = 0;
    let hi = this.entries - 1;
    let found: TimestampOffset | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.entryAt(mid);
      if (e.timestamp < target) {
        found = e;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Removes entries whose offset is >= `offset`. */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1).offset >= offset) keep--;
    this.dropEntriesFrom(keep);
    this.entries = keep;
    if (keep > 0) this.loadLastEntry();
    else this.last = undefined;
  }

  entryAt(i: number): TimestampOffset {
    const buf = this.entryBytes(i);
    return { timestamp: Number(buf.readBigInt64BE(0)), offset: this.baseOffset + buf.readInt32BE(8) };
  }

  protected loadLastEntry(): void {
    this.last = this.entries > 0 ? this.entryAt(this.entries - 1) : undefined;
  }

  protected clearLastEntry(): void {
    this.cachedLast = undefined;
    this.lastKnown = false;
  }

  protected lastEntryValid(): boolean {
    return this.last !== undefined && this.last.offset >= this.baseOffset;
  }
}

/** Writes all of `buf` at `position`, looping over short writes. */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
  }
}

/** Builds index entries in memory during a rebuild, written with one `rewrite`. */
export class IndexEntriesBuilder {
  private readonly offsets: Buffer[] = [];
  private readonly times: Buffer[] = [];
  private lastOffset = -1;
  private lastTimestamp: number | undefined;

  constructor(private readonly baseOffset: number) {}

  addOffset(offset: number, position: number): void {
    if (offset <= this.lastOffset) return;
    const e = Buffer.allocUnsafe(8);
    e.writeInt32BE(offset - this.baseOffset, 0);
    e.writeInt32BE(position, 4);
    this.offsets.push(e);
    this.lastOffset = offset;
  }

  addTime(timestamp: number, offset: number): void {
    if (this.lastTimestamp !== undefined && timestamp <= this.lastTimestamp) return;
    const e = Buffer.allocUnsafe(12);
    e.writeBigInt64BE(BigInt(timestamp), 0);
    e.writeInt32BE(offset - this.baseOffset, 8);
    this.times.push(e);
    this.lastTimestamp = timestamp;
  }

  offsetEntries(): Buffer {
    return Buffer.concat(this.offsets);
  }

  timeEntries(): Buffer {
    return Buffer.concat(this.times);
  }
}

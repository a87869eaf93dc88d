/**
 * A bounded pool of open file descriptors, shared by every segment and index of a `LogManager`.
 * Files are opened lazily on first use and the least recently used descriptor is closed when the
 * pool is full, so 10,000 partitions with several segments each fit within the default limit of
 * 1024 descriptors per process (the broker's sockets need the rest).
 *
 * Concurrency contract: `withFd` callbacks are synchronous, so no other pool user runs while one
 * holds a descriptor. Asynchronous users (fsync in the thread pool) `pin` a descriptor: a pinned
 * descriptor is never closed by eviction or `forget`; it is closed when the last pin is released
 * if it was forgotten or evicted meanwhile. Pins are few (one per in-flight flush), so the pool may
 * exceed its bound by that many for the duration.
 */
import fs from "node:fs";
import { KrillError } from "../errors.js";
import { journalFsync } from "./fsync-journal.js";

interface Entry {
  fd: number;
  pins: number;
  /** Set when the entry left the pool while pinned: close on the last release. */
  detached: boolean;
}

const OPEN_FLAGS = fs.constants.O_RDWR;
const CREATE_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;

const FSYNCS_IN_FLIGHT_MAX = 4;

/** A counting semaphore: at most `max` tasks run; the rest wait in order. */
class Slots {
  private inUse = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.inUse >= this.max) {
      // A finishing task hands its slot straight to the first waiter.
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.inUse++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiters.shift();
      if (next !== undefined) next();
      else this.inUse--;
    }
  }
}

/** Budget for index contents held in memory by all indexes of a pool (see index-file.ts). */
export const INDEX_CACHE_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Least-recently-used accounting of index contents held in memory: owners register what they hold
 * and are told to drop it when the total exceeds the budget.
 */
export class IndexCache {
  private readonly held = new Map<object, { bytes: number; drop: () => void }>();
  private totalBytes = 0;

  constructor(readonly bytesMax: number) {}

  get bytes(): number {
    return this.totalBytes;
  }

  admit(owner: object, bytes: number, drop: () => void): void {
    this.release(owner);
    this.held.set(owner, { bytes, drop });
    this.totalBytes += bytes;
    for (const [other, entry] of this.held) {
      if (this.totalBytes <= this.bytesMax) break;
      if (other === owner) continue;
      this.held.delete(other);
      this.totalBytes -= entry.bytes;
      entry.drop();
    }
  }

  touch(owner: object): void {
    const entry = this.held.get(owner);
    if (entry === undefined) return;
    this.held.delete(owner);
    this.held.set(owner, entry);
  }

  release(owner: object): void {
    const entry = this.held.get(owner);
    if (entry === undefined) return;
    this.held.delete(owner);
    this.totalBytes -= entry.bytes;
  }
}

export interface PinnedFd {
  readonly fd: number;
  release(): void;
}

export class FilePool {
  readonly maxOpenFiles: number;
  /** Shared budget for index contents kept in memory. */
  readonly indexCache = new IndexCache(INDEX_CACHE_BYTES_MAX);
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly open = new Map<string, Entry>();
  private opensTotal = 0;
  private readonly fsyncSlots = new Slots(FSYNCS_IN_FLIGHT_MAX);

  constructor(maxOpenFiles: number) {
    if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 4) {
      throw new KrillError("CONFIG_INVALID", `max open files must be an integer >= 4, got ${maxOpenFiles}`);
    }
    this.maxOpenFiles = maxOpenFiles;
  }

  /** Number of descriptors currently open (pinned, detached ones included). */
  get openCount(): number {
    return this.open.size;
  }

  /** How many times a file was opened: with `openCount`, shows how much the bound costs. */
  get opens(): number {
    return this.opensTotal;
  }

  /** Runs `fn` with a descriptor for `path` opened read-write; `create` makes the file if missing. */
  withFd<T>(path: string, fn: (fd: number) => T, create = false): T {
    const entry = this.acquire(path, create);
    return fn(entry.fd);
  }

  /** A descriptor that stays open until `release`, for asynchronous I/O such as fsync. */
  pin(path: string): PinnedFd {
    const entry = this.acquire(path, false);
    entry.pins++;
    let released = false;
    return {
      fd: entry.fd,
      release: () => {
        if (released) return;
        released = true;
        entry.pins--;
        if (entry.pins === 0 && entry.detached) closeQuietly(entry.fd);
      },
    };
  }

  /**
   * fsync in the thread pool, so the event loop keeps serving reads and appends meanwhile. At most
   * FSYNCS_IN_FLIGHT_MAX run at once (libuv has four threads anyway); the rest wait here without
   * holding a descriptor, which keeps pinned descriptors bounded when many partitions roll at once.
   */
  async fsync(path: string): Promise<void> {
    await this.inFsyncSlot(() => this.fsyncNow(path));
  }

  /**
   * fsync of a directory (after files were created or removed in it), under the same bound; the
   * directory is opened just for it, outside the pool.
   */
  async fsyncDirectory(dir: string): Promise<void> {
    await this.inFsyncSlot(async () => {
      const handle = await fs.promises.open(dir, "r");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  private inFsyncSlot(task: () => Promise<void>): Promise<void> {
    return this.fsyncSlots.run(task);
  }

  /**
   * fsync on the calling thread (an owner that cannot wait: the KRaft core's metadata log),
   * recorded in the test-only journal as `fsync` is.
   */
  fsyncSync(path: string): void {
    this.withFd(path, (fd) => {
      const journalled = journalFsync(path, fd);
      fs.fsyncSync(fd);
      journalled();
    });
  }

  private async fsyncNow(path: string): Promise<void> {
    const pinned = this.pin(path);
    try {
      // What this fsync makes durable, for the chaos rig's test-only journal (fsync-journal.ts).
      const journalled = journalFsync(path, pinned.fd);
      await new Promise<void>((resolve, reject) =>
        fs.fsync(pinned.fd, (err) =>
          err ? reject(new KrillError("LOG_IO", `fsync ${path} failed`, { cause: err })) : resolve(),
        ),
      );
      journalled();
    } finally {
      pinned.release();
    }
  }

  /** Closes the descriptor of a file that was deleted, renamed or truncated away. */
  forget(path: string): void {
    const entry = this.open.get(path);
    if (entry === undefined) return;
    this.open.delete(path);
    this.retire(entry);
  }

  /** Closes every descriptor under a directory (the partition is being deleted or closed). */
  forgetUnder(dir: string): void {
    const prefix = dir.endsWith("/") ? dir : `${dir}/`;
    for (const path of [...this.open.keys()]) if (path.startsWith(prefix)) this.forget(path);
  }

  closeAll(): void {
    for (const path of [...this.open.keys()]) this.forget(path);
  }

  private acquire(path: string, create: boolean): Entry {
    // Appends hit the same file many times in a row: skip the recency update then.
    if (path === this.lastPath && this.lastEntry !== undefined && this.open.get(path) === this.lastEntry) {
      return this.lastEntry;
    }
    const entry = this.acquireSlow(path, create);
    this.lastPath = path;
    this.lastEntry = entry;
    return entry;
  }

  private lastPath: string | undefined;
  private lastEntry: Entry | undefined;

  private acquireSlow(path: string, create: boolean): Entry {
    const existing = this.open.get(path);
    if (existing !== undefined) {
      // Move to the most recently used end.
      this.open.delete(path);
      this.open.set(path, existing);
      return existing;
    }
    this.evictFor(1);
    let fd: number;
    try {
      fd = fs.openSync(path, create ? CREATE_FLAGS : OPEN_FLAGS, 0o644);
    } catch (cause) {
      throw new KrillError("LOG_IO", `Cannot open ${path}`, { cause });
    }
    this.opensTotal++;
    const entry: Entry = { fd, pins: 0, detached: false };
    this.open.set(path, entry);
    return entry;
  }

  private evictFor(needed: number): void {
    if (this.open.size + needed <= this.maxOpenFiles) return;
    for (const [path, entry] of this.open) {
      if (this.open.size + needed <= this.maxOpenFiles) return;
      if (entry.pins > 0) continue;
      this.open.delete(path);
      this.retire(entry);
    }
  }

  private retire(entry: Entry): void {
    if (entry.pins > 0) entry.detached = true;
    else closeQuietly(entry.fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // The descriptor is gone either way; a close error has nothing left to report to.
  }
}

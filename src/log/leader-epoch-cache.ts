/**
 * The leader-epoch cache of one partition (Kafka's LeaderEpochFileCache): for each leader epoch,
 * the first offset written in it, persisted in `leader-epoch-checkpoint`. OffsetForLeaderEpoch
 * answers from it (`endOffsetFor`), and followers use it to find where their log diverges.
 *
 * Durability: a new epoch (`assign`, on the append path) is only recorded in memory and marked
 * dirty; the owner writes the checkpoint (`flushIfDirty`) when it flushes the log, before its
 * recovery point passes the epoch's start, so an entry can only be missing from the file for
 * offsets above the recovery point, which recovery re-reads from the batch headers (Kafka since
 * KAFKA-15046 likewise keeps the fsync off the append path). This keeps the first append to each
 * of thousands of new partitions free of two fsyncs. Truncations remove entries that recovery
 * could not take back, so they write (and fsync) the checkpoint at once, as Kafka does.
 *
 * Concurrency contract: synchronous; owned by one `PartitionLog`, which calls it from its own
 * synchronous methods.
 */

import fs from "node:fs";
import { KrillError } from "../errors.js";
import { checkpointText, readCheckpointLines, writeCheckpointLines } from "./checkpoint.js";

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[];
  /** Entries were assigned since the checkpoint was last written. */
  private dirty = false;

  constructor(
    private readonly file: string,
    entries: EpochEntry[] = [],
  ) {
    this.entries = entries;
  }

  /** Loads the checkpoint; a missing file is an empty cache. */
  static load(file: string): LeaderEpochCache {
    const lines = readCheckpointLines(file) ?? [];
    const entries: EpochEntry[] = [];
    for (const line of lines) {
      const [epochText, offsetText, extra] = line.trim().split(/\s+/);
      const epoch = Number(epochText);
      const startOffset = Number(offsetText);
      if (
        extra !== undefined ||
        !Number.isInteger(epoch) ||
        epoch < 0 ||
        !Number.isSafeInteger(startOffset)
      ) {
        throw new KrillError("CORRUPT_SEGMENT", `Malformed line ${JSON.stringify(line)} in ${file}`);
      }
      const last = entries.at(-1);
      if (last !== undefined && (epoch <= last.epoch || startOffset < last.startOffset)) {
        throw new KrillError("CORRUPT_SEGMENT", `Epochs out of order in ${file}`);
      }
      entries.push({ epoch, startOffset });
    }
    return new LeaderEpochCache(file, entries);
  }

  get latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries that conflict with it (a later or equal
   * epoch, or a start offset at or after it) are dropped, as Kafka does after a leader change.
   */
  assign(epoch: number, startOffset: number): void {
    const last = this.entries.at(-1);
    if (last !== undefined && last.epoch === epoch && last.startOffset <= startOffset) return;
    const kept = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    kept.push({ epoch, startOffset });
    this.entries = kept;
    this.dirty = true;
  }

  /** True while an assigned epoch is not yet in the checkpoint file. */
  get needsFlush(): boolean {
    return this.dirty;
  }

  /** Writes the checkpoint if epochs were assigned since it was last written. */
  flushIfDirty(): void {
    if (this.dirty) this.flush();
  }

  /**
   * `flushIfDirty` with the fsync in the thread pool (`fsync`, the pool's bounded one), so a log
   * flush, and a shutdown flushing thousands of partitions, does not block the event loop on it.
   * The temporary file has its own name, so a synchronous write (a truncation) meanwhile cannot
   * mix with it; if one happened, its newer content stands and this write is dropped. The rename
   * is durable once the caller fsyncs the directory. Returns whether the file was replaced.
   */
  async flushIfDirtyAsync(fsync: (file: string) => Promise<void>): Promise<boolean> {
    if (!this.dirty) return false;
    const generation = ++this.writes;
    this.dirty = false;
    const tmp = `${this.file}.flush.tmp`;
    try {
      fs.writeFileSync(tmp, checkpointText(this.lines()));
      await fsync(tmp);
      if (generation !== this.writes) {
        fs.rmSync(tmp, { force: true });
        return false;
      }
      fs.renameSync(tmp, this.file);
      return true;
    } catch (cause) {
      if (generation === this.writes) this.dirty = true;
      throw new KrillError("LOG_IO", `Cannot write checkpoint ${this.file}`, { cause });
    }
  }

  /** Counts checkpoint writes, so an asynchronous one can tell it was overtaken. */
  private writes = 0;

  private lines(): string[] {
    return this.entries.map((e) => `${e.epoch} ${e.startOffset}`);
  }

  /** The epoch of the batch containing `offset` as far as the cache knows. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch <= `requestedEpoch` and the end offset of
   * `requestedEpoch` (the start offset of the next larger epoch, or the log end offset for the
   * latest epoch). Kafka's LeaderEpochFileCache.endOffsetFor.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedResult = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedResult;
    if (requestedEpoch === this.latestEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return undefinedResult;
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requestedEpoch) floor = e;
    if (floor === undefined) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: floor.epoch, endOffset: higher.startOffset };
  }

  /** Drops entries starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.flush();
  }

  /**
   * The log start moved to `startOffset`: entries wholly before it are dropped, and the epoch in
   * effect at `startOffset` now starts there.
   */
  truncateFromStart(startOffset: number): void {
    let idx = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i]!.startOffset <= startOffset) idx = i;
    if (idx < 0) return;
    const first = this.entries[idx]!;
    if (idx === 0 && first.startOffset === startOffset) return;
    this.entries = [{ epoch: first.epoch, startOffset }, ...this.entries.slice(idx + 1)];
    this.flush();
  }

  clear(): void {
    this.entries = [];
    this.flush();
  }

  flush(): void {
    this.writes++;
    writeCheckpointLines(this.file, this.lines());
    this.dirty = false;
  }
}

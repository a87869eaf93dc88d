/**
 * The metadata log on disk, local to this node (a single-voter quorum that commits what it has
 * fsynced): `<metadata.log.dir>/__cluster_metadata-0/` holds `metadata.log` (entries appended in
 * offset order) and `snapshot-<20-digit offset>.checkpoint` files (the whole image as records,
 * written when the log has grown enough, so start-up replays a snapshot plus a short tail instead
 * of the whole history). It implements the `MetadataLog` seam (metadata-log.ts): a batch is
 * committed once fsynced, then handed to the listeners, then the proposal resolves.
 *
 * Both files hold Kafka record batches (magic 2, CRC-32C, uncompressed), as Kafka's metadata log
 * does: one batch per controller write, each record's value one serialized metadata record, the
 * key null. Batches of metadata.log carry their metadata offsets; a snapshot's batches count from
 * 0 and stand for the image as of the offset in the file name. On open, a torn batch at the end of
 * metadata.log (a crash mid-write) is cut off with a warning; a bad batch anywhere else is
 * corruption and stops start-up. A controller write is one batch, so it is applied whole or not
 * at all. A snapshot is written to a temporary file, fsynced, then renamed into place; only then
 * is the log reset, so a crash at any point leaves a snapshot plus a log that together hold every
 * committed record.
 *
 * Concurrency: appends are synchronous (write + fsync), so two proposals never interleave on
 * disk; deliveries to listeners are chained in offset order.
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { mkdir, readdir, readFile, rm, truncate } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import { LOG_OVERHEAD } from "../protocol/records/batch-header.js";
import { buildRecordBatch, decodeRecordBatch } from "../protocol/records/record-batch.js";
import { METADATA_DIR_NAME, type MetadataLog, type MetadataLogListener } from "./metadata-log.js";
import type { MetadataLogEntry, MetadataRecord } from "./records.js";

const LOG_FILE = "metadata.log";
/**
 * No controller write comes near this (100,000 partition records are about 6 MiB); a batch
 * length beyond it is corruption.
 */
export const METADATA_BATCH_BYTES_MAX = 64 * 1024 * 1024;
/** Records per snapshot batch. */
const SNAPSHOT_BATCH_RECORDS = 1000;

export interface RecordSerde {
  encode(record: MetadataRecord): Buffer;
  decode(payload: Buffer): MetadataRecord;
}

export interface LoadedMetadata {
  /** Records of the newest snapshot, then of the log after it, in order. */
  readonly entries: MetadataLogEntry[];
  readonly snapshotOffset: number;
  readonly nextOffset: number;
}

export class LocalMetadataLog implements MetadataLog {
  readonly dir: string;
  readonly #serde: RecordSerde;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #listeners: MetadataLogListener[] = [];
  #fd = -1;
  #nextOffset = 0;
  #deliveries: Promise<unknown> = Promise.resolve();
  #bytesSinceSnapshot = 0;
  #lastSnapshotMs: number;

  constructor(parentDir: string, serde: RecordSerde, logger: Logger, clock: Clock = SYSTEM_CLOCK) {
    this.dir = path.join(parentDir, METADATA_DIR_NAME);
    this.#serde = serde;
    this.#logger = logger;
    this.#clock = clock;
    this.#lastSnapshotMs = clock.nowMs();
  }

  get endOffset(): number {
    return this.#nextOffset;
  }

  get bytesSinceSnapshot(): number {
    return this.#bytesSinceSnapshot;
  }

  get lastSnapshotMs(): number {
    return this.#lastSnapshotMs;
  }

  /** Reads the newest snapshot and the log after it, repairing a torn tail. */
  async open(): Promise<LoadedMetadata> {
    await mkdir(this.dir, { recursive: true });
    const files = await readdir(this.dir);
    // Leftover temporary snapshots are from a crash before their rename: never valid.
    for (const f of files.filter((f) => f.endsWith(".tmp")))
      await rm(path.join(this.dir, f), { force: true });
    const snapshots = files.filter((f) => /^snapshot-\d{20}\.checkpoint$/.test(f)).sort();
    const entries: MetadataLogEntry[] = [];
    let snapshotOffset = -1;
    const newest = snapshots.at(-1);
    if (newest !== undefined) {
      const bytes = await readFile(path.join(this.dir, newest));
      const parsed = this.#parse(bytes, newest, false);
      snapshotOffset = Number(newest.slice(9, 29));
      // Every snapshot record describes the image as of the snapshot's offset.
      for (const e of parsed.entries) entries.push({ offset: snapshotOffset, record: e.record });
      for (const old of snapshots.slice(0, -1)) await rm(path.join(this.dir, old), { force: true });
    }
    const logPath = path.join(this.dir, LOG_FILE);
    let logBytes: Buffer;
    try {
      logBytes = await readFile(logPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        throw new KrillError("LOG_IO", `cannot read ${logPath}`, { cause: err });
      logBytes = Buffer.alloc(0);
    }
    const tail = this.#parse(logBytes, LOG_FILE, true);
    if (tail.validBytes < logBytes.length) {
      this.#logger.warn(
        { file: logPath, validBytes: tail.validBytes, fileBytes: logBytes.length },
        "metadata log ends in a torn batch; truncating it",
      );
      await truncate(logPath, tail.validBytes);
    }
    for (const e of tail.entries) if (e.offset > snapshotOffset) entries.push(e);
    this.#nextOffset = Math.max(snapshotOffset + 1, (tail.entries.at(-1)?.offset ?? -1) + 1);
    this.#bytesSinceSnapshot = tail.validBytes;
    this.#fd = openSync(logPath, "a");
    return { entries, snapshotOffset, nextOffset: this.#nextOffset };
  }

  #parse(
    bytes: Buffer,
    file: string,
    tornTailAllowed: boolean,
  ): { entries: MetadataLogEntry[]; validBytes: number } {
    const entries: MetadataLogEntry[] = [];
    let pos = 0;
    while (pos < bytes.length) {
      const where = `${path.join(this.dir, file)} at byte ${pos}`;
      const remaining = bytes.length - pos;
      // A short or overlong tail is a write the crash cut off; anywhere else it is corruption.
      if (remaining < LOG_OVERHEAD) {
        if (tornTailAllowed) break;
        throw new KrillError("CORRUPT_SEGMENT", `${where}: truncated batch header`);
      }
      const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
      if (size <= LOG_OVERHEAD || size > METADATA_BATCH_BYTES_MAX) {
        if (tornTailAllowed) break;
        throw new KrillError("CORRUPT_SEGMENT", `${where}: batch length ${size - LOG_OVERHEAD} out of range`);
      }
      if (remaining < size) {
        if (tornTailAllowed) break;
        throw new KrillError("CORRUPT_SEGMENT", `${where}: truncated batch`);
      }
      let batch: ReturnType<typeof decodeRecordBatch>;
      try {
        batch = decodeRecordBatch(bytes, {
          position: pos,
          decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
          batchSizeMax: METADATA_BATCH_BYTES_MAX,
        });
      } catch (err) {
        // A bad last batch is a torn write (its bytes were not all on disk); earlier it is corruption.
        if (tornTailAllowed && pos + size === bytes.length) break;
        throw new KrillError("CORRUPT_SEGMENT", `${where}: bad record batch`, { cause: err });
      }
      for (const record of batch.records) {
        if (record.value === null)
          throw new KrillError("CORRUPT_SEGMENT", `${where}: record without a value`);
        try {
          entries.push({ offset: Number(record.offset), record: this.#serde.decode(record.value) });
        } catch (err) {
          throw new KrillError("CORRUPT_SEGMENT", `${where}: undecodable metadata record`, { cause: err });
        }
      }
      pos += size;
    }
    return { entries, validBytes: pos };
  }

  /** One batch holding `records` at offsets firstOffset.. */
  #batch(records: readonly MetadataRecord[], firstOffset: number): Buffer {
    const timestamp = BigInt(this.#clock.nowMs());
    return buildRecordBatch({
      baseOffset: BigInt(firstOffset),
      records: records.map((record) => ({ timestamp, key: null, value: this.#serde.encode(record) })),
    });
  }

  register(listener: MetadataLogListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Appends durably (committed: this log is its own quorum), hands the batch to the listeners
   * after every earlier batch, and resolves with the offset of its last record.
   */
  propose(records: readonly MetadataRecord[]): Promise<number> {
    let lastOffset: number;
    try {
      lastOffset = this.#append(records);
    } catch (err) {
      return Promise.reject(err);
    }
    if (records.length === 0) return Promise.resolve(lastOffset);
    const batch = { lastOffset, records };
    // A listener's failure fails this proposal only; the records are committed regardless, and
    // the next batch is still delivered.
    const delivered = this.#deliveries.then(async () => {
      for (const listener of this.#listeners) await listener.handleCommit(batch);
      return lastOffset;
    });
    this.#deliveries = delivered.catch(() => {});
    return delivered;
  }

  /**
   * Appends records durably and returns the offset of the last one. Synchronous I/O on purpose:
   * metadata writes are rare and small, and a synchronous write+fsync cannot interleave with
   * another append.
   */
  #append(records: readonly MetadataRecord[]): number {
    if (this.#fd < 0) throw new KrillError("STATE", "metadata log is not open");
    if (records.length === 0) return this.#nextOffset - 1;
    const bytes = this.#batch(records, this.#nextOffset);
    try {
      writeSync(this.#fd, bytes);
      fsyncSync(this.#fd);
    } catch (err) {
      throw new KrillError("LOG_IO", `cannot append to ${path.join(this.dir, LOG_FILE)}`, { cause: err });
    }
    this.#nextOffset += records.length;
    this.#bytesSinceSnapshot += bytes.length;
    return this.#nextOffset - 1;
  }

  /**
   * Writes `records` (a whole image as of `offset`) as a snapshot and resets the log, which holds
   * nothing newer than `offset`. This log keeps no tail after a snapshot, so it takes one only
   * when `offset` is the last appended record (not while a later batch is on its way to the
   * listeners). Synchronous like the append, so no append can slip in between the snapshot and
   * the log reset.
   */
  createSnapshot(records: readonly MetadataRecord[], offset: number): boolean {
    if (offset !== this.#nextOffset - 1) return false;
    const name = `snapshot-${String(offset).padStart(20, "0")}.checkpoint`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    try {
      const fd = openSync(tmp, "w");
      try {
        for (let i = 0; i < records.length; i += SNAPSHOT_BATCH_RECORDS) {
          writeSync(fd, this.#batch(records.slice(i, i + SNAPSHOT_BATCH_RECORDS), i));
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path.join(this.dir, name));
      fsyncDir(this.dir);
      ftruncateSync(this.#fd, 0);
      fsyncSync(this.#fd);
      for (const f of readdirSync(this.dir)) {
        if (/^snapshot-\d{20}\.checkpoint$/.test(f) && f !== name)
          rmSync(path.join(this.dir, f), { force: true });
      }
    } catch (err) {
      throw new KrillError("LOG_IO", `cannot write metadata snapshot ${name}`, { cause: err });
    }
    this.#bytesSinceSnapshot = 0;
    this.#lastSnapshotMs = this.#clock.nowMs();
    this.#logger.info({ offset, records: records.length }, "wrote metadata snapshot");
    return true;
  }

  close(): void {
    if (this.#fd >= 0) {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = -1;
    }
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

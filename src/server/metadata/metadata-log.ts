/**
 * The metadata log on disk, local to this node: `<metadata.log.dir>/__cluster_metadata-0/` holds
 * `metadata.log` (entries appended in offset order) and `snapshot-<20-digit offset>.checkpoint`
 * files (the whole image as records, written when the log has grown enough, so start-up replays a
 * snapshot plus a short tail instead of the whole history).
 *
 * Entry framing, in both files: int64 offset, int32 payload length, uint32 CRC-32C of the payload,
 * payload (one serialized metadata record). On open, a torn entry at the end of metadata.log (a
 * crash mid-write) is cut off with a warning; a bad CRC anywhere else is corruption and stops
 * start-up. A snapshot is written to a temporary file, fsynced, then renamed into place; only then
 * is the log reset, so a crash at any point leaves a snapshot plus a log that together hold every
 * committed record.
 *
 * Concurrency: one writer (the controller, which serializes its operations). `append` resolves
 * once the entries are fsynced.
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
import { KrillError } from "../../errors.js";
import { crc32c } from "../../protocol/crc32c.js";
import type { MetadataLogEntry, MetadataRecord } from "./records.js";

export const METADATA_TOPIC = "__cluster_metadata";
export const METADATA_DIR_NAME = `${METADATA_TOPIC}-0`;
const LOG_FILE = "metadata.log";
const ENTRY_HEADER_BYTES = 16;
/** No single metadata record comes near this; a larger length is corruption. */
export const METADATA_RECORD_BYTES_MAX = 8 * 1024 * 1024;

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

export class MetadataLog {
  readonly dir: string;
  readonly #serde: RecordSerde;
  readonly #logger: Logger;
  #fd = -1;
  #nextOffset = 0;
  #bytesSinceSnapshot = 0;
  #lastSnapshotMs = Date.now();

  constructor(parentDir: string, serde: RecordSerde, logger: Logger) {
    this.dir = path.join(parentDir, METADATA_DIR_NAME);
    this.#serde = serde;
    this.#logger = logger;
  }

  get nextOffset(): number {
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
      entries.push(...parsed.entries);
      snapshotOffset = Number(newest.slice(9, 29));
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
        "metadata log ends in a torn entry; truncating it",
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
      const torn = (why: string) => {
        if (tornTailAllowed) return true;
        throw new KrillError("CORRUPT_SEGMENT", `${path.join(this.dir, file)} at byte ${pos}: ${why}`);
      };
      if (bytes.length - pos < ENTRY_HEADER_BYTES) {
        if (torn("truncated entry header")) break;
      }
      const offset = Number(bytes.readBigInt64BE(pos));
      const length = bytes.readInt32BE(pos + 8);
      const crc = bytes.readUInt32BE(pos + 12);
      if (length < 0 || length > METADATA_RECORD_BYTES_MAX) {
        if (torn(`entry length ${length} out of range`)) break;
      }
      if (bytes.length - pos - ENTRY_HEADER_BYTES < length) {
        if (torn("truncated entry")) break;
      }
      const payload = bytes.subarray(pos + ENTRY_HEADER_BYTES, pos + ENTRY_HEADER_BYTES + length);
      if (crc32c(payload) !== crc) {
        // A bad CRC in the last entry is a torn write; earlier it is corruption.
        const last = pos + ENTRY_HEADER_BYTES + length === bytes.length;
        if (!(tornTailAllowed && last)) {
          throw new KrillError(
            "CORRUPT_SEGMENT",
            `${path.join(this.dir, file)} at byte ${pos}: CRC mismatch`,
          );
        }
        break;
      }
      let record: MetadataRecord;
      try {
        record = this.#serde.decode(payload);
      } catch (err) {
        throw new KrillError(
          "CORRUPT_SEGMENT",
          `${path.join(this.dir, file)} at byte ${pos}: undecodable record`,
          { cause: err },
        );
      }
      entries.push({ offset, record });
      pos += ENTRY_HEADER_BYTES + length;
    }
    return { entries, validBytes: pos };
  }

  #frame(records: readonly MetadataRecord[], firstOffset: number): Buffer {
    const parts: Buffer[] = [];
    records.forEach((record, i) => {
      const payload = this.#serde.encode(record);
      const header = Buffer.allocUnsafe(ENTRY_HEADER_BYTES);
      header.writeBigInt64BE(BigInt(firstOffset + i), 0);
      header.writeInt32BE(payload.length, 8);
      header.writeUInt32BE(crc32c(payload), 12);
      parts.push(header, payload);
    });
    return Buffer.concat(parts);
  }

  /**
   * Appends records durably and returns the offset of the last one. Synchronous I/O on purpose:
   * metadata writes are rare and small, and a synchronous write+fsync cannot interleave with
   * another append.
   */
  append(records: readonly MetadataRecord[]): number {
    if (this.#fd < 0) throw new KrillError("STATE", "metadata log is not open");
    if (records.length === 0) return this.#nextOffset - 1;
    const bytes = this.#frame(records, this.#nextOffset);
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
   * Writes `records` (a whole image as of `offset`, the last appended offset) as a snapshot and
   * resets the log, which holds nothing newer than `offset`. Synchronous like `append`, so no
   * append can slip in between the snapshot and the log reset.
   */
  snapshot(records: readonly MetadataRecord[], offset: number): void {
    if (offset !== this.#nextOffset - 1) throw new Error("assertion: snapshot must cover the whole log");
    const name = `snapshot-${String(offset).padStart(20, "0")}.checkpoint`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    try {
      // Snapshot entries all carry the snapshot's offset: they describe the state at that point.
      const fd = openSync(tmp, "w");
      try {
        for (const record of records) writeSync(fd, this.#frame([record], offset));
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
    this.#lastSnapshotMs = Date.now();
    this.#logger.info({ offset, records: records.length }, "wrote metadata snapshot");
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

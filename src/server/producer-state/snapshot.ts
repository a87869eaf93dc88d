/**
 * Producer-state snapshot files, in Kafka's own format (ProducerSnapshot version 1) and naming
 * (`<20-digit offset>.snapshot` in the partition directory), so a Krill data directory reads the
 * same to Kafka's tools. The offset in the name is the log end offset the state reflects; on
 * start-up the newest valid snapshot is loaded and the batches after its offset are replayed
 * from the log.
 *
 *   version: int16 (1)
 *   crc: uint32            CRC-32C of everything after this field
 *   entries: int32 count, then per producer (46 bytes):
 *     producerId int64, producerEpoch int16, lastSequence int32, lastOffset int64,
 *     offsetDelta int32, timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64
 *
 * Like Kafka, a snapshot keeps only each producer's last batch; the replay after it restores the
 * other recent batches that duplicate detection uses.
 *
 * Files are written to a temporary name, fsynced and renamed, so a crash leaves either no new
 * snapshot or a whole one. A snapshot that fails its CRC or framing is reported as corrupt; the
 * caller deletes it and falls back to an older one (or a full replay), as Kafka does.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { KrillError } from "../../errors.js";
import { crc32c } from "../../protocol/crc32c.js";
import type { ProducerStateEntry } from "./producer-state.js";

export const PRODUCER_SNAPSHOT_SUFFIX = ".snapshot";
const SNAPSHOT_VERSION = 1;
const CRC_OFFSET = 2;
const ENTRIES_OFFSET = 6;
const ENTRY_BYTES = 46;
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, "0")}${PRODUCER_SNAPSHOT_SUFFIX}`;
}

export function encodeSnapshot(entries: Iterable<ProducerStateEntry>): Buffer {
  const list = [...entries];
  const buf = Buffer.alloc(ENTRIES_OFFSET + 4 + list.length * ENTRY_BYTES);
  buf.writeInt16BE(SNAPSHOT_VERSION, 0);
  let o = buf.writeInt32BE(list.length, ENTRIES_OFFSET);
  for (const e of list) {
    const last = e.batches.at(-1);
    o = buf.writeBigInt64BE(e.producerId, o);
    o = buf.writeInt16BE(e.producerEpoch, o);
    o = buf.writeInt32BE(last?.lastSeq ?? -1, o);
    o = buf.writeBigInt64BE(BigInt(last?.lastOffset ?? -1), o);
    o = buf.writeInt32BE(last === undefined ? 0 : last.lastOffset - last.firstOffset, o);
    // Kafka stores the producer's last timestamp (it drives expiry after a restart).
    o = buf.writeBigInt64BE(BigInt(Math.trunc(e.lastTimestampMs)), o);
    o = buf.writeInt32BE(e.coordinatorEpoch, o);
    o = buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), o);
  }
  buf.writeUInt32BE(crc32c(buf.subarray(ENTRIES_OFFSET)), CRC_OFFSET);
  return buf;
}

/** Decodes a snapshot; any framing or CRC problem is KrillError("CORRUPT_SEGMENT"). */
export function decodeSnapshot(buf: Buffer): ProducerStateEntry[] {
  const corrupt = (why: string) => new KrillError("CORRUPT_SEGMENT", `Producer snapshot is corrupt: ${why}`);
  if (buf.length < ENTRIES_OFFSET + 4) throw corrupt(`${buf.length} bytes is shorter than the header`);
  const version = buf.readInt16BE(0);
  if (version !== SNAPSHOT_VERSION) throw corrupt(`unsupported version ${version}`);
  const stored = buf.readUInt32BE(CRC_OFFSET);
  const computed = crc32c(buf.subarray(ENTRIES_OFFSET));
  if (stored !== computed) throw corrupt(`stored crc ${stored}, computed ${computed}`);
  const count = buf.readInt32BE(ENTRIES_OFFSET);
  if (count < 0 || count * ENTRY_BYTES !== buf.length - ENTRIES_OFFSET - 4) {
    throw corrupt(`${count} entries do not fill ${buf.length - ENTRIES_OFFSET - 4} bytes`);
  }
  const entries: ProducerStateEntry[] = [];
  let o = ENTRIES_OFFSET + 4;
  for (let i = 0; i < count; i++, o += ENTRY_BYTES) {
    const producerId = buf.readBigInt64BE(o);
    const producerEpoch = buf.readInt16BE(o + 8);
    const lastSeq = buf.readInt32BE(o + 10);
    const lastOffset = Number(buf.readBigInt64BE(o + 14));
    const offsetDelta = buf.readInt32BE(o + 22);
    const timestampMs = Number(buf.readBigInt64BE(o + 26));
    const coordinatorEpoch = buf.readInt32BE(o + 34);
    const currentTxnFirstOffset = Number(buf.readBigInt64BE(o + 38));
    if (offsetDelta < 0 || (lastOffset >= 0 && lastOffset - offsetDelta < 0)) {
      throw corrupt(`producer ${producerId} has offset delta ${offsetDelta} at offset ${lastOffset}`);
    }
    entries.push({
      producerId,
      producerEpoch,
      batches:
        lastOffset >= 0
          ? [
              {
                firstSeq: lastSeq < 0 ? lastSeq : firstSequenceOf(lastSeq, offsetDelta),
                lastSeq,
                firstOffset: lastOffset - offsetDelta,
                lastOffset,
                timestampMs,
              },
            ]
          : [],
      lastTimestampMs: timestampMs,
      coordinatorEpoch,
      currentTxnFirstOffset,
    });
  }
  return entries;
}

/** The inverse of lastSequenceOf: sequences wrap from Int32 max to 0. */
function firstSequenceOf(lastSeq: number, offsetDelta: number): number {
  return lastSeq - offsetDelta >= 0 ? lastSeq - offsetDelta : 0x7fffffff + (lastSeq - offsetDelta) + 1;
}

/** Offsets of the snapshot files in `dir`, ascending. */
export function listSnapshotOffsets(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new KrillError("LOG_IO", `Cannot list ${dir}`, { cause });
  }
  const offsets: number[] = [];
  for (const name of names) {
    const m = SNAPSHOT_NAME.exec(name);
    if (m !== null) offsets.push(Number(m[1]));
  }
  return offsets.sort((a, b) => a - b);
}

/** Writes the snapshot for `offset` atomically (temporary file, fsync, rename). */
export function writeSnapshotFile(dir: string, offset: number, entries: Iterable<ProducerStateEntry>): void {
  const file = path.join(dir, snapshotFileName(offset));
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, encodeSnapshot(entries));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (cause) {
    throw new KrillError("LOG_IO", `Cannot write producer snapshot ${file}`, { cause });
  }
}

/**
 * `writeSnapshotFile` off the event loop: the bytes are encoded by the caller at the moment the
 * snapshot is taken; the write, fsync and rename run in the thread pool, so many partitions'
 * snapshots (shutdown) proceed in parallel instead of one fsync after another.
 */
export async function writeSnapshotBytes(dir: string, offset: number, bytes: Buffer): Promise<void> {
  const file = path.join(dir, snapshotFileName(offset));
  const tmp = `${file}.tmp`;
  try {
    const handle = await fsp.open(tmp, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, file);
  } catch (cause) {
    throw new KrillError("LOG_IO", `Cannot write producer snapshot ${file}`, { cause });
  }
}

/** Snapshots hold 46 bytes per producer; a file beyond this is not one of ours. */
const SNAPSHOT_BYTES_MAX = 256 * 1024 * 1024;

export function readSnapshotFile(dir: string, offset: number): ProducerStateEntry[] {
  const file = path.join(dir, snapshotFileName(offset));
  let buf: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > SNAPSHOT_BYTES_MAX)
      throw new KrillError("CORRUPT_SEGMENT", `Producer snapshot ${file} is ${size} bytes`);
    buf = fs.readFileSync(file);
  } catch (cause) {
    if (cause instanceof KrillError) throw cause;
    throw new KrillError("LOG_IO", `Cannot read producer snapshot ${file}`, { cause });
  }
  return decodeSnapshot(buf);
}

export function deleteSnapshotFile(dir: string, offset: number): void {
  fs.rmSync(path.join(dir, snapshotFileName(offset)), { force: true });
}

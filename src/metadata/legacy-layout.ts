/**
 * The metadata layout Krill wrote before it used Kafka's (up to the segment log): in
 * `__cluster_metadata-0/`, one `metadata.log` of record batches carrying their metadata offsets,
 * and `snapshot-<20-digit offset>.checkpoint` holding the whole image as of that offset (batches
 * counted from 0, no header or footer). Read only to migrate it (local-metadata-log.ts).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { KrillError } from "../errors.js";
import { LOG_OVERHEAD } from "../protocol/records/batch-header.js";
import { decodeRecordBatch } from "../protocol/records/record-batch.js";
import { METADATA_BATCH_BYTES_MAX } from "./segment-log.js";

const LEGACY_LOG = "metadata.log";
const LEGACY_SNAPSHOT = /^snapshot-(\d{20})\.checkpoint$/;

export interface LegacyMetadata {
  /** Offset the newest snapshot stands at, or -1 without one. */
  readonly snapshotOffset: number;
  readonly snapshotValues: Buffer[];
  /** The log's batches after the snapshot: first offset and record values. */
  readonly batches: { readonly baseOffset: number; readonly values: Buffer[] }[];
}

/** The legacy files present in `dir`. */
export function legacyFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter(
    (f) => f === LEGACY_LOG || LEGACY_SNAPSHOT.test(f) || /^snapshot-\d{20}\.checkpoint\.tmp$/.test(f),
  );
}

/** Reads the newest legacy snapshot and the log after it; a torn last batch is dropped with a warning. */
export function readLegacy(dir: string, logger: Logger): LegacyMetadata {
  const files = legacyFiles(dir);
  const snapshots = files.filter((f) => LEGACY_SNAPSHOT.test(f)).sort();
  const newest = snapshots.at(-1);
  let snapshotOffset = -1;
  const snapshotValues: Buffer[] = [];
  if (newest !== undefined) {
    snapshotOffset = Number(LEGACY_SNAPSHOT.exec(newest)![1]);
    for (const b of parse(readFileSync(path.join(dir, newest)), path.join(dir, newest), false, logger)) {
      snapshotValues.push(...b.values);
    }
  }
  const logPath = path.join(dir, LEGACY_LOG);
  const batches = existsSync(logPath)
    ? parse(readFileSync(logPath), logPath, true, logger).filter((b) => b.baseOffset > snapshotOffset)
    : [];
  return { snapshotOffset, snapshotValues, batches };
}

/** Removes the legacy files (after their content is durable in the new layout). */
export function removeLegacy(dir: string): void {
  for (const f of legacyFiles(dir)) rmSync(path.join(dir, f), { force: true });
}

function parse(
  bytes: Buffer,
  file: string,
  tornTailAllowed: boolean,
  logger: Logger,
): { baseOffset: number; values: Buffer[] }[] {
  const out: { baseOffset: number; values: Buffer[] }[] = [];
  let pos = 0;
  const torn = (problem: string): void => {
    if (!tornTailAllowed) throw new KrillError("CORRUPT_SEGMENT", `${file} at byte ${pos}: ${problem}`);
    logger.warn(
      { file, validBytes: pos, fileBytes: bytes.length, problem },
      "legacy metadata log ends in a torn batch; dropping it",
    );
  };
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    if (remaining < LOG_OVERHEAD) {
      torn("truncated batch header");
      break;
    }
    const size = LOG_OVERHEAD + bytes.readInt32BE(pos + 8);
    if (size <= LOG_OVERHEAD || size > METADATA_BATCH_BYTES_MAX) {
      torn(`batch length ${size - LOG_OVERHEAD} out of range`);
      break;
    }
    if (remaining < size) {
      torn("truncated batch");
      break;
    }
    let batch: ReturnType<typeof decodeRecordBatch>;
    try {
      batch = decodeRecordBatch(bytes, {
        position: pos,
        decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
        batchSizeMax: METADATA_BATCH_BYTES_MAX,
      });
    } catch (err) {
      if (tornTailAllowed && pos + size === bytes.length) {
        torn("bad last batch");
        break;
      }
      throw new KrillError("CORRUPT_SEGMENT", `${file} at byte ${pos}: bad record batch`, { cause: err });
    }
    const values: Buffer[] = [];
    for (const record of batch.records) {
      if (record.value === null)
        throw new KrillError("CORRUPT_SEGMENT", `${file} at byte ${pos}: record without a value`);
      values.push(record.value);
    }
    out.push({ baseOffset: Number(batch.header.baseOffset), values });
    pos += size;
  }
  return out;
}

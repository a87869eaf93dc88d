/**
 * Test helpers: a small, independent magic-2 batch builder and reader (uncompressed only), so the
 * log's tests do not depend on the code under test to produce their inputs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ManualClock as SourceManualClock } from "../../src/clock.js";
import { crc32c } from "../../src/protocol/crc32c.js";

export interface TestRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp?: number;
}

export interface TestBatchOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  baseTimestamp?: number;
  producerId?: number;
  attributes?: number;
}

function varint(n: number, out: number[]): void {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

export function buildBatch(records: readonly TestRecord[], options: TestBatchOptions = {}): Buffer {
  const baseTimestamp = options.baseTimestamp ?? records[0]?.timestamp ?? Date.now();
  let maxTimestamp = -1;
  const recordBytes: Buffer[] = [];
  records.forEach((r, i) => {
    const ts = r.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const body: number[] = [0];
    varint(ts - baseTimestamp, body);
    varint(i, body);
    const parts: Buffer[] = [];
    if (r.key === null) varint(-1, body);
    else varint(r.key.length, body);
    parts.push(Buffer.from(body));
    if (r.key !== null) parts.push(r.key);
    const v: number[] = [];
    if (r.value === null) varint(-1, v);
    else varint(r.value.length, v);
    parts.push(Buffer.from(v));
    if (r.value !== null) parts.push(r.value);
    parts.push(Buffer.from([0])); // no headers
    const bodyBuf = Buffer.concat(parts);
    const len: number[] = [];
    varint(bodyBuf.length, len);
    recordBytes.push(Buffer.from(len), bodyBuf);
  });
  const recs = Buffer.concat(recordBytes);
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(BigInt(options.baseOffset ?? 0), 0);
  header.writeInt32BE(61 - 12 + recs.length, 8);
  header.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  header.writeInt8(2, 16);
  header.writeInt16BE(options.attributes ?? 0, 21);
  header.writeInt32BE(Math.max(records.length - 1, 0), 23);
  header.writeBigInt64BE(BigInt(baseTimestamp), 27);
  header.writeBigInt64BE(BigInt(maxTimestamp), 35);
  header.writeBigInt64BE(BigInt(options.producerId ?? -1), 43);
  header.writeInt16BE(-1, 51);
  header.writeInt32BE(-1, 53);
  header.writeInt32BE(records.length, 57);
  const batch = Buffer.concat([header, recs]);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** A batch of `count` records with `valueBytes`-byte values, keys "k<i>". */
export function simpleBatch(count: number, valueBytes = 10, timestamp = Date.now()): Buffer {
  const records: TestRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({ key: Buffer.from(`k${i}`), value: Buffer.alloc(valueBytes, i % 251), timestamp });
  }
  return buildBatch(records);
}

export interface ParsedBatch {
  baseOffset: number;
  lastOffset: number;
  position: number;
  size: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  crcValid: boolean;
}

/** Splits stored bytes into batches (header fields only), checking CRCs. */
export function parseBatches(buf: Buffer): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let p = 0;
  while (p + 61 <= buf.length) {
    const size = 12 + buf.readInt32BE(p + 8);
    if (p + size > buf.length) break;
    const baseOffset = Number(buf.readBigInt64BE(p));
    out.push({
      baseOffset,
      lastOffset: baseOffset + buf.readInt32BE(p + 23),
      position: p,
      size,
      maxTimestamp: Number(buf.readBigInt64BE(p + 35)),
      partitionLeaderEpoch: buf.readInt32BE(p + 12),
      crcValid: crc32c(buf.subarray(p + 21, p + size)) === buf.readUInt32BE(p + 17),
    });
    p += size;
  }
  if (p !== buf.length) throw new Error(`${buf.length - p} trailing bytes after batches`);
  return out;
}

export function tempDir(prefix = "krill-log-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The broker's manual clock, starting at a fixed recent time; `now` reads it. */
export class ManualClock extends SourceManualClock {
  constructor(startMs = 1_700_000_000_000) {
    super(startMs);
  }
  get now(): number {
    return this.nowMs();
  }
}

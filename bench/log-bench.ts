/**
 * Storage benchmark (src/log), with the raw disk measured in the same run as the reference:
 *
 * 1. raw: a plain sequential write of a scratch file in 1 MiB blocks (page cache, then with a final
 *    fsync) and a sequential read of it;
 * 2. append throughput of 1 KiB records in 16 KiB, 64 KiB, 256 KiB and 1 MiB batches, as a ratio of
 *    the raw buffered write (goal: >= 0.8), and the same with krill.fsync.before.ack (group commit)
 *    beside the raw write + fsync;
 * 3. sequential read throughput (fetch-sized 1 MiB reads, CRC-checked, page cache);
 * 4. how cost grows: time per append and per read with 1, 100 and 10,000 partitions (descriptors
 *    bounded by the LRU pool);
 * 5. startup time with 10,000 segments after a clean and an unclean shutdown.
 *
 *   tsx bench/log-bench.ts [--quick] [--dir /path/on/the/disk/to/measure]
 *
 * MB/s and GB/s are 10^6 and 10^9 bytes per second.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { logConfigFrom } from "../src/log/config.js";
import { LogManager } from "../src/log/log-manager.js";
import { CLEAN_SHUTDOWN_FILE, RECOVERY_POINT_CHECKPOINT_FILE } from "../src/log/names.js";
import type { PartitionLog } from "../src/log/partition-log.js";
import { crc32c } from "../src/protocol/crc32c.js";

const quick = process.argv.includes("--quick");
const dirArg = process.argv.indexOf("--dir");
const baseDir = dirArg > 0 ? process.argv[dirArg + 1]! : os.tmpdir();
const scratch = fs.mkdtempSync(path.join(baseDir, "krill-log-bench-"));
const TOTAL_BYTES = quick ? 128 << 20 : 512 << 20;
/** Each throughput figure is the best of this many runs: the machine may be shared. */
const RUNS = quick ? 2 : 3;
const MB = 1e6;

function fmtRate(bytes: number, ms: number): string {
  const perSec = (bytes / ms) * 1000;
  return perSec >= 1e9 ? `${(perSec / 1e9).toFixed(2)} GB/s` : `${(perSec / MB).toFixed(0)} MB/s`;
}

function rate(bytes: number, ms: number): number {
  return (bytes / ms) * 1000;
}

/** A magic-2 batch of 1 KiB-valued records filling about `batchBytes`; built once, reused. */
function makeBatch(batchBytes: number): Buffer {
  const recordCount = Math.max(1, Math.floor(batchBytes / 1040));
  const records: Buffer[] = [];
  for (let i = 0; i < recordCount; i++) {
    // length varint, attributes, timestampDelta 0, offsetDelta, key null, value 1024 bytes, 0 headers.
    const body = Buffer.alloc(1 + 1 + varintSize(i) + 1 + 2 + 1024 + 1);
    let p = 0;
    body[p++] = 0;
    body[p++] = 0;
    p = writeVarint(body, p, i);
    body[p++] = 1; // key length -1 (zigzag)
    p = writeVarint(body, p, 1024);
    body.fill(i & 0xff, p, p + 1024);
    p += 1024;
    body[p++] = 0;
    const len = Buffer.alloc(varintSize(p));
    writeVarint(len, 0, p);
    records.push(len, body.subarray(0, p));
  }
  const recs = Buffer.concat(records);
  const batch = Buffer.alloc(61 + recs.length);
  batch.writeInt32BE(49 + recs.length, 8);
  batch.writeInt32BE(-1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt32BE(recordCount - 1, 23);
  const now = BigInt(Date.now());
  batch.writeBigInt64BE(now, 27);
  batch.writeBigInt64BE(now, 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(recordCount, 57);
  recs.copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

function varintSize(n: number): number {
  let z = n * 2;
  let size = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let z = n * 2;
  while (z >= 0x80) {
    buf[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[at++] = z;
  return at;
}

/** Best time of a plain sequential write of TOTAL_BYTES in `blockBytes` writes (page cache). */
function rawWriteMs(blockBytes: number): number {
  const file = path.join(scratch, `raw-${blockBytes}.bin`);
  const block = Buffer.alloc(blockBytes, 7);
  const blocks = Math.floor(TOTAL_BYTES / blockBytes);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) {
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, "w");
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) fs.writeSync(fd, block, 0, blockBytes, i * blockBytes);
    best = Math.min(best, performance.now() - t0);
    fs.closeSync(fd);
  }
  fs.rmSync(file, { force: true });
  return (best * TOTAL_BYTES) / (blocks * blockBytes);
}

function rawDisk(): { writeMs: number; writeFsyncMs: number; readMs: number; readFreshMs: number } {
  const file = path.join(scratch, "raw.bin");
  const block = Buffer.alloc(1 << 20, 7);
  const blocks = TOTAL_BYTES / block.length;
  const pass = (fsyncAtEnd: boolean): number => {
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, "w");
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) fs.writeSync(fd, block, 0, block.length, i * block.length);
    if (fsyncAtEnd) fs.fsyncSync(fd);
    const ms = performance.now() - t0;
    fs.closeSync(fd);
    return ms;
  };
  const writeMs = Math.min(...Array.from({ length: RUNS }, () => pass(false)));
  const writeFsyncMs = pass(true);
  const fd = fs.openSync(file, "r");
  const buf = Buffer.allocUnsafe(1 << 20);
  let readMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) fs.readSync(fd, buf, 0, buf.length, i * buf.length);
    readMs = Math.min(readMs, performance.now() - t0);
  }
  // The same read into a fresh buffer per block, as a server must (each read's bytes go to a
  // socket while the next read runs): new memory costs page faults and zeroing.
  let readFreshMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < blocks; i++) fs.readSync(fd, Buffer.allocUnsafe(1 << 20), 0, 1 << 20, i * (1 << 20));
    readFreshMs = Math.min(readFreshMs, performance.now() - t0);
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return { writeMs, writeFsyncMs, readMs, readFreshMs };
}

async function appendThroughput(
  batchBytes: number,
  fsyncBeforeAck: boolean,
): Promise<{ appendMs: number; readMs: number; bytes: number }> {
  const dir = fs.mkdtempSync(path.join(scratch, "append-"));
  const lm = new LogManager({
    logDirs: [dir],
    defaultConfig: logConfigFrom(fsyncBeforeAck ? { "krill.fsync.before.ack": "true" } : {}),
    cleaner: { enable: false },
  });
  lm.startup();
  const log = lm.getOrCreateLog({ topic: "bench", partition: 0 });
  const batch = makeBatch(batchBytes);
  const count = Math.floor((fsyncBeforeAck ? TOTAL_BYTES / 4 : TOTAL_BYTES) / batch.length);
  const opts = { assignOffsets: true, leaderEpoch: 0 };
  const t0 = performance.now();
  if (fsyncBeforeAck) {
    // Eight producers in flight, each waiting for its durable ack before the next append.
    let next = 0;
    const producer = async (): Promise<void> => {
      while (next < count) {
        next++;
        await log.append(batch, opts).durable;
      }
    };
    await Promise.all(Array.from({ length: 8 }, producer));
  } else {
    for (let i = 0; i < count; i++) log.append(batch, opts);
  }
  const appendMs = performance.now() - t0;
  const bytes = count * batch.length;
  const readMs = fsyncBeforeAck ? 0 : sequentialRead(log);
  await lm.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
  return { appendMs, readMs, bytes };
}

function sequentialRead(log: PartitionLog): number {
  const t0 = performance.now();
  let offset = log.logStartOffset;
  let bytes = 0;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20);
    bytes += r.records.length;
    offset = r.nextOffset;
  }
  const ms = performance.now() - t0;
  if (bytes === 0) throw new Error("read nothing");
  return ms;
}

async function scaling(partitions: number): Promise<{ appendUs: number; readUs: number; opens: number }> {
  const dir = fs.mkdtempSync(path.join(scratch, "scale-"));
  const lm = new LogManager({ logDirs: [dir], cleaner: { enable: false } });
  lm.startup();
  const logs: PartitionLog[] = [];
  for (let p = 0; p < partitions; p++) logs.push(lm.getOrCreateLog({ topic: "scale", partition: p }));
  const batch = makeBatch(16 * 1024);
  const opts = { assignOffsets: true, leaderEpoch: -1 };
  const ops = quick ? 20_000 : 50_000;
  const opensBefore = lm.pool.opens;
  let t0 = performance.now();
  for (let i = 0; i < ops; i++) logs[i % partitions]!.append(batch, opts);
  const appendUs = ((performance.now() - t0) * 1000) / ops;
  t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const log = logs[i % partitions]!;
    const offset = Math.floor(i / partitions) * (batch.readInt32BE(23) + 1);
    log.read(Math.min(offset, log.logEndOffset - 1), 64 * 1024);
  }
  const readUs = ((performance.now() - t0) * 1000) / ops;
  const opens = lm.pool.opens - opensBefore;
  await lm.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
  return { appendUs, readUs, opens };
}

async function startup(): Promise<{
  segments: number;
  cleanColdMs: number;
  cleanMs: number;
  uncleanMs: number;
  uncleanAllMs: number;
}> {
  const dir = fs.mkdtempSync(path.join(scratch, "startup-"));
  const partitions = 100;
  const perPartition = 100;
  // Small segments so 10,000 of them stay small on disk: 4 batches of ~1 KiB each.
  const config = logConfigFrom({ "segment.bytes": String(4 * 1100) });
  const lm = new LogManager({ logDirs: [dir], defaultConfig: config, cleaner: { enable: false } });
  lm.startup();
  const batch = makeBatch(1024);
  for (let p = 0; p < partitions; p++) {
    const log = lm.getOrCreateLog({ topic: "startup", partition: p });
    while (log.numberOfSegments < perPartition) log.append(batch, { assignOffsets: true, leaderEpoch: -1 });
  }
  // Let the background flushes after rolls finish, as they would in a running broker.
  await Promise.all(lm.allLogs().map((l) => l.flush()));
  await lm.shutdown();
  const open = () => {
    const m = new LogManager({ logDirs: [dir], defaultConfig: config, cleaner: { enable: false } });
    const t0 = performance.now();
    const report = m.startup();
    const ms = performance.now() - t0;
    return { m, ms, report };
  };
  const cleanCold = open();
  await cleanCold.m.shutdown();
  const clean = open();
  const segments = clean.report.segments;
  await clean.m.shutdown();
  // Unclean: no marker; recovery points from the last checkpoint (only the newest data is checked).
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
  const unclean = open();
  unclean.m.pool.closeAll();
  // Worst case: no checkpoint at all, every segment is validated (CRC of every batch).
  fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE), { force: true });
  fs.rmSync(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE), { force: true });
  const uncleanAll = open();
  await uncleanAll.m.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    segments,
    cleanColdMs: cleanCold.ms,
    cleanMs: clean.ms,
    uncleanMs: unclean.ms,
    uncleanAllMs: uncleanAll.ms,
  };
}

async function bestOf(
  run: () => Promise<{ appendMs: number; readMs: number; bytes: number }>,
): Promise<{ appendMs: number; readMs: number; bytes: number }> {
  let best = await run();
  for (let i = 1; i < RUNS; i++) {
    const r = await run();
    best = {
      bytes: r.bytes,
      appendMs: Math.min(best.appendMs, r.appendMs),
      readMs: Math.min(best.readMs, r.readMs),
    };
  }
  return best;
}

async function main(): Promise<void> {
  console.log(
    `krill log bench (${quick ? "quick" : "full"}), scratch ${scratch}, ${TOTAL_BYTES / MB} MB per pass`,
  );
  const raw = rawDisk();
  const rawWrite = rate(TOTAL_BYTES, raw.writeMs);
  const rawWriteFsync = rate(TOTAL_BYTES, raw.writeFsyncMs);
  console.log(
    `raw disk: write ${fmtRate(TOTAL_BYTES, raw.writeMs)} (page cache), write+fsync ${fmtRate(TOTAL_BYTES, raw.writeFsyncMs)}, read ${fmtRate(TOTAL_BYTES, raw.readMs)} (into one reused buffer), ${fmtRate(TOTAL_BYTES, raw.readFreshMs)} (into a fresh buffer per MiB)`,
  );
  console.log("\nappend (1 KiB records) and sequential read (1 MiB fetches, CRC-checked):");
  console.log("batch     append        vs 1 MiB raw write  vs raw write of batch-sized blocks  read");
  for (const size of [16 << 10, 64 << 10, 256 << 10, 1 << 20]) {
    const r = await bestOf(() => appendThroughput(size, false));
    const sameBlockMs = rawWriteMs(size);
    const sameBlock = rate(TOTAL_BYTES, sameBlockMs);
    const appendRate = rate(r.bytes, r.appendMs);
    console.log(
      `${String(size >> 10).padStart(5)} KiB  ${fmtRate(r.bytes, r.appendMs).padEnd(12)}  ${(appendRate / rawWrite).toFixed(2).padEnd(18)}  ${`${(appendRate / sameBlock).toFixed(2)} (raw ${fmtRate(TOTAL_BYTES, sameBlockMs)})`.padEnd(34)}  ${fmtRate(r.bytes, r.readMs)}`,
    );
  }
  console.log("\nappend with krill.fsync.before.ack (8 producers, group commit):");
  for (const size of [16 << 10, 1 << 20]) {
    const r = await appendThroughput(size, true);
    console.log(
      `${String(size >> 10).padStart(5)} KiB  ${fmtRate(r.bytes, r.appendMs).padEnd(12)}  vs raw write+fsync ${(rate(r.bytes, r.appendMs) / rawWriteFsync).toFixed(2)}`,
    );
  }
  console.log("\ncost per operation as partitions grow (16 KiB batches, 512 descriptors max):");
  console.log("partitions  append µs  read µs  files opened");
  for (const n of [1, 100, 10_000]) {
    const r = await scaling(n);
    console.log(
      `${String(n).padStart(10)}  ${r.appendUs.toFixed(1).padStart(9)}  ${r.readUs.toFixed(1).padStart(7)}  ${r.opens}`,
    );
  }
  console.log("\nstartup:");
  const s = await startup();
  console.log(
    `${s.segments} segments: clean ${s.cleanMs.toFixed(0)} ms (first start after writing: ${s.cleanColdMs.toFixed(0)} ms), unclean (from recovery points) ${s.uncleanMs.toFixed(0)} ms, unclean without checkpoint (validate all) ${s.uncleanAllMs.toFixed(0)} ms`,
  );
  fs.rmSync(scratch, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  fs.rmSync(scratch, { recursive: true, force: true });
  console.error(err);
  process.exit(1);
});

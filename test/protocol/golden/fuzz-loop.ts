/**
 * The golden-seeded mutation loop, shared by the suite's bounded run
 * (test/protocol/golden/fuzz-golden.test.ts) and the longer timed run (scripts/fuzz-golden.ts).
 * Every golden batch (all clients, all codecs) is mutated and fed to the decoder, the produce
 * validator and the log's batch scanner (recovery, offset lookup), which may only reject, with
 * KrillError or a wire error code, never crash with anything else.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isKrillError } from "../../../src/errors.js";
import { BatchScanner } from "../../../src/log/batch-scan.js";
import { crc32c } from "../../../src/protocol/crc32c.js";
import { validateProducedBatches } from "../../../src/protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";

export interface GoldenFuzzReport {
  inputs: number;
  /** Inputs that still decoded (mutations inside values with a repaired CRC). */
  decoded: number;
  /** The slowest input's time through all three checks. */
  slowestMs: number;
}

/**
 * Bytes the log's recovery scan keeps from `buf` (the scan reads it through a small window, as it
 * reads a segment file). Over bytes that are all there only the data can stop it, so it never
 * throws.
 */
function validPrefixBytes(buf: Buffer): number {
  const readAt = (target: Buffer, length: number, position: number) =>
    buf.copy(target, 0, position, Math.min(buf.length, position + length));
  const scanner = new BatchScanner(readAt, 0, buf.length, 256);
  while (scanner.next(true) !== undefined);
  return scanner.position;
}

function goldenSeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  for (const client of ["java", "kcat", "kafkajs", "platformatic"]) {
    const dir = join(import.meta.dirname, client);
    for (const name of readdirSync(dir)) seeds.push(readFileSync(join(dir, name)));
  }
  return seeds;
}

/**
 * Runs `iterations` mutated inputs (or until `timeLimitMs` passes) from `seed`; throws on the first
 * failure other than a clean rejection, naming the iteration and seed.
 */
export function fuzzGoldenBatches(options: {
  seed: number;
  iterations: number;
  timeLimitMs?: number;
}): GoldenFuzzReport {
  const seeds = goldenSeeds();
  let state = options.seed;
  const rand = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return state % n;
  };
  const deadline = performance.now() + (options.timeLimitMs ?? Number.POSITIVE_INFINITY);
  const report: GoldenFuzzReport = { inputs: 0, decoded: 0, slowestMs: 0 };
  for (let i = 0; i < options.iterations && performance.now() < deadline; i++) {
    const buf = Buffer.from(seeds[rand(seeds.length)]!);
    const flips = 1 + rand(6);
    for (let f = 0; f < flips; f++) {
      // Mostly inside the records section, where the codecs and record framing live.
      const at = rand(3) === 0 ? rand(buf.length) : 61 + rand(buf.length - 61);
      buf[at] = rand(256);
    }
    // Half the time repair the CRC so the mutation reaches the decompressor and record decoder.
    if (rand(2) === 0) buf.writeUInt32BE(crc32c(buf.subarray(21)), 17);
    const input = rand(4) === 0 ? buf.subarray(0, rand(buf.length + 1)) : buf;
    const started = performance.now();
    try {
      decodeRecordBatch(input, { decompressedBytesMax: 1 << 20 });
      report.decoded++;
    } catch (err) {
      if (!isKrillError(err))
        throw new Error(`iteration ${i} (seed ${options.seed}): ${String(err)}`, { cause: err });
    }
    const result = validateProducedBatches(input, {
      maxMessageBytes: 1 << 20,
      timestampType: "CreateTime",
      timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
      timestampAfterMaxMs: Number.POSITIVE_INFINITY,
      nowMs: 0,
    });
    if (typeof result.ok !== "boolean")
      throw new Error(`iteration ${i} (seed ${options.seed}): validation returned no verdict`);
    const kept = validPrefixBytes(input);
    if (kept > input.length)
      throw new Error(
        `iteration ${i} (seed ${options.seed}): recovery kept ${kept} of ${input.length} bytes`,
      );
    report.slowestMs = Math.max(report.slowestMs, performance.now() - started);
    report.inputs++;
  }
  return report;
}

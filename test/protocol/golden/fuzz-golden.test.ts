/**
 * Mutation fuzzing seeded with every golden batch (all clients, all codecs): the decoder, the
 * produce validator and the log's batch scanner (recovery, offset lookup) may only reject, with KrillError or a wire error code,
 * never crash with anything else. Bounded by iteration count; a one-off 60-second run of the same
 * loop (2.4 million inputs) is recorded in docs/records.md.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { BatchScanner } from "../../../src/log/batch-scan.js";
import { crc32c } from "../../../src/protocol/crc32c.js";
import { validateProducedBatches } from "../../../src/protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../../src/protocol/records/record-batch.js";

const ITERATIONS = 10_000;
const SEED = 20_251_122;

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

const seeds: Buffer[] = [];
for (const client of ["java", "kcat", "kafkajs", "platformatic"]) {
  const dir = join(import.meta.dirname, client);
  for (const name of readdirSync(dir)) seeds.push(readFileSync(join(dir, name)));
}

describe("golden-seeded mutation fuzz", () => {
  it(`only rejects cleanly over ${ITERATIONS} mutated batches (seed ${SEED})`, () => {
    let state = SEED;
    const rand = (n: number) => {
      state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
      return state % n;
    };
    let decoded = 0;
    for (let i = 0; i < ITERATIONS; i++) {
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
      try {
        decodeRecordBatch(input, { decompressedBytesMax: 1 << 20 });
        decoded++;
      } catch (err) {
        if (!isKrillError(err))
          throw new Error(`iteration ${i} (seed ${SEED}): ${String(err)}`, { cause: err });
      }
      const result = validateProducedBatches(input, {
        maxMessageBytes: 1 << 20,
        timestampType: "CreateTime",
        timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
        timestampAfterMaxMs: Number.POSITIVE_INFINITY,
        nowMs: 0,
      });
      expect(typeof result.ok).toBe("boolean");
      expect(validPrefixBytes(input)).toBeLessThanOrEqual(input.length);
    }
    // Some mutations (inside values, with a repaired CRC) still decode; most are rejected.
    expect(decoded).toBeGreaterThan(0);
    expect(decoded).toBeLessThan(ITERATIONS);
  });
});

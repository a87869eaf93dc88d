/**
 * Produce hot-path throughput: validateProducedBatches + assignOffsetsInPlace on one batch of
 * 16 KiB to 1 MiB, with and without LogAppendTime (which adds a CRC recomputation). Printed beside
 * the reference measured in the same run: one bare CRC-32C pass over the same bytes, the floor
 * of what validation must cost. Records are never decoded on this path, so the codec does not
 * matter; batches are uncompressed with 1 KiB values.
 *
 *   tsx bench/records-bench.ts [--quick]
 *
 * Prints MB/s (10^6 bytes per second) and batches/s.
 */
import { crc32c } from "../src/protocol/crc32c.js";
import { assignOffsetsInPlace } from "../src/protocol/records/offset-assignment.js";
import {
  type ProduceValidationOptions,
  validateProducedBatches,
} from "../src/protocol/records/produce-validation.js";
import { buildRecordBatch } from "../src/protocol/records/record-batch.js";

const quick = process.argv.includes("--quick");
const SIZES = [16 << 10, 64 << 10, 256 << 10, 1 << 20];
const BYTES_PER_RUN = quick ? 128 << 20 : 1 << 30;
const RUNS = quick ? 3 : 5;
const VALUE_BYTES = 1000;
const NOW_MS = 1_700_000_000_000;

const options: ProduceValidationOptions = {
  maxMessageBytes: 2 << 20,
  timestampType: "CreateTime",
  timestampBeforeMaxMs: Number.POSITIVE_INFINITY,
  timestampAfterMaxMs: 3_600_000,
  nowMs: NOW_MS,
};

function batchOf(targetBytes: number): Buffer {
  const count = Math.max(1, Math.floor(targetBytes / (VALUE_BYTES + 20)));
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  return buildRecordBatch({
    producerId: 1n,
    producerEpoch: 0,
    baseSequence: 0,
    records: Array.from({ length: count }, (_, i) => ({ timestamp: NOW_MS + i, key: `key-${i}`, value })),
  });
}

function measure(buf: Buffer, step: (buf: Buffer, i: number) => void): { mbPerS: number; perS: number } {
  const iterations = Math.max(1, Math.floor(BYTES_PER_RUN / buf.length));
  for (let i = 0; i < Math.min(iterations, 20); i++) step(buf, i);
  let best = 0;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) step(buf, i);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, iterations / seconds);
  }
  return { mbPerS: (best * buf.length) / 1e6, perS: best };
}

let sink = 0;
const steps: [string, (buf: Buffer, i: number) => void][] = [
  ["reference: one crc32c pass", (buf) => (sink ^= crc32c(buf.subarray(21)))],
  [
    "validate + assignOffsets",
    (buf, i) => {
      const result = validateProducedBatches(buf, options);
      if (!result.ok) throw new Error(result.errorMessage);
      assignOffsetsInPlace(buf, BigInt(i) * 1000n, 1);
      buf.writeBigInt64BE(0n, 0); // a fresh produce has baseOffset 0
    },
  ],
  [
    "validate + assignOffsets + LogAppendTime",
    (buf, i) => {
      const result = validateProducedBatches(buf, options);
      if (!result.ok) throw new Error(result.errorMessage);
      // After the first round the batch already says LogAppendTime; a CreateTime topic accepts
      // that (Kafka range-checks its maxTimestamp), so the same bytes serve every round.
      assignOffsetsInPlace(buf, BigInt(i) * 1000n, 1, NOW_MS);
      buf.writeBigInt64BE(0n, 0);
    },
  ],
];

console.log(`Produce hot path, best of ${RUNS}, node ${process.version}`);
console.log(["step".padEnd(44), ...SIZES.map((s) => `${s >> 10} KiB`.padStart(20))].join(""));
for (const [name, step] of steps) {
  const cells = SIZES.map((size) => {
    const buf = batchOf(size);
    const { mbPerS, perS } = measure(buf, step);
    return `${mbPerS.toFixed(0)} MB/s ${perS.toFixed(0).padStart(6)}/s`.padStart(20);
  });
  console.log([name.padEnd(44), ...cells].join(""));
}
if (sink === 0.5) console.log("unreachable");

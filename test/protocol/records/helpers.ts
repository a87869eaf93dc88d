import fc from "fast-check";
import type { CompressionName } from "../../../src/protocol/compression/index.js";
import type { RecordInput } from "../../../src/protocol/records/record-batch.js";

export const CODEC_NAMES: CompressionName[] = ["none", "gzip", "snappy", "lz4", "zstd"];

const NOW_MS = 1_760_000_000_000;

/** Arbitrary records with realistic timestamps around NOW_MS, optional keys/values and headers. */
export const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  timestamp: fc.integer({ min: NOW_MS - 1_000_000, max: NOW_MS + 1_000_000 }),
  key: fc.option(
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 12 }),
      value: fc.option(
        fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)),
        { nil: null },
      ),
    }),
    { maxLength: 3 },
  ),
});

export const recordsArb = fc.array(recordArb, { minLength: 1, maxLength: 30 });

export { NOW_MS };

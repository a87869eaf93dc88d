import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { CompressionCodec, compressSync } from "../../../src/protocol/compression/index.js";
import { crc32c } from "../../../src/protocol/crc32c.js";
import { RECORDS_OFFSET } from "../../../src/protocol/records/batch-header.js";
import { isBatchCrcValid } from "../../../src/protocol/records/batch-iterator.js";
import {
  buildRecordBatch,
  checkRecordsStructure,
  type DecodedRecordBatch,
  decodeRecordBatch,
} from "../../../src/protocol/records/record-batch.js";
import { transcodeRecordBatch, transcodeRecordBatchAsync } from "../../../src/protocol/records/transcode.js";
import { writeVarint } from "../../../src/protocol/records/varint.js";
import { CODEC_NAMES, recordsArb } from "./helpers.js";

const LIMITS = { decompressedBytesMax: 1 << 22 };

/**
 * Everything a transcode must keep: the header minus codec bits, length and CRC, and the records,
 * as one string (comparing strings is far cheaper than a deep equality over many Buffers).
 */
function essence(batch: DecodedRecordBatch): string {
  const { crc: _crc, batchLength: _length, attributes, ...header } = batch.header;
  const hex = (b: Buffer | null) => (b === null ? null : b.toString("hex"));
  return JSON.stringify({
    header: Object.fromEntries(Object.entries(header).map(([k, v]) => [k, String(v)])),
    attributes: attributes & ~0x07,
    records: batch.records.map((r) => [
      String(r.offset),
      String(r.timestamp),
      r.attributes,
      hex(r.key),
      hex(r.value),
      r.headers.map((h) => [h.key, hex(h.value)]),
    ]),
  });
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isKrillError(err) ? err.code : `not a KrillError: ${String(err)}`;
  }
  return undefined;
}

describe("transcodeRecordBatch", () => {
  it("changes only the codec: header fields and records survive every codec pair (property)", () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.constantFrom(...CODEC_NAMES),
        fc.nat({ max: 4 }),
        fc.boolean(),
        (records, from, to, transactional) => {
          const source = buildRecordBatch({
            records,
            compression: from,
            baseOffset: 0n,
            producerId: 12n,
            producerEpoch: 2,
            baseSequence: 40,
            transactional,
          });
          const out = transcodeRecordBatch(source, to as CompressionCodec, LIMITS);
          expect(isBatchCrcValid(out, 0, out.length)).toBe(true);
          const decoded = decodeRecordBatch(out, LIMITS);
          expect(decoded.compression).toBe(to);
          expect(essence(decoded)).toBe(essence(decodeRecordBatch(source, LIMITS)));
          // The records section is codec-independent, so transcoding to none gives exactly the
          // batch built uncompressed.
          if (to === CompressionCodec.NONE) {
            expect(
              out.equals(
                buildRecordBatch({
                  records,
                  producerId: 12n,
                  producerEpoch: 2,
                  baseSequence: 40,
                  transactional,
                }),
              ),
            ).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("transcodes every golden client batch to every codec (and async to one codec per file)", async () => {
    const root = join(import.meta.dirname, "../golden");
    let file = 0;
    for (const client of ["java", "kcat", "kafkajs", "platformatic"]) {
      for (const name of readdirSync(join(root, client))) {
        const buf = readFileSync(join(root, client, name));
        const original = essence(decodeRecordBatch(buf, LIMITS));
        for (let target = 0; target <= 4; target++) {
          const sync = transcodeRecordBatch(buf, target as CompressionCodec, LIMITS);
          expect(essence(decodeRecordBatch(sync, LIMITS)), `${client}/${name} -> ${target}`).toEqual(
            original,
          );
        }
        const asyncTarget = (file++ % 5) as CompressionCodec;
        const async = await transcodeRecordBatchAsync(buf, asyncTarget, LIMITS);
        expect(essence(decodeRecordBatch(async, LIMITS))).toBe(original);
      }
    }
  });

  it("transcodes the batch at a position and leaves the input unchanged", () => {
    const a = buildRecordBatch({ records: [{ timestamp: 1, key: null, value: "a" }] });
    const b = buildRecordBatch({
      baseOffset: 1n,
      compression: "gzip",
      records: [{ timestamp: 2, key: "k", value: "b" }],
    });
    const buf = Buffer.concat([a, b]);
    const before = Buffer.from(buf);
    const out = transcodeRecordBatch(buf, CompressionCodec.ZSTD, { ...LIMITS, position: a.length });
    expect(buf.equals(before)).toBe(true);
    const decoded = decodeRecordBatch(out, LIMITS);
    expect(decoded.header.baseOffset).toBe(1n);
    expect(decoded.records[0]?.value?.toString()).toBe("b");
  });

  it("refuses a compressed section whose records are malformed, and bombs", () => {
    const good = buildRecordBatch({ records: [{ timestamp: 1, key: "key", value: "value" }] });
    const plain = Buffer.from(good.subarray(RECORDS_OFFSET));
    writeVarint(plain, 4, 60); // the key's length now runs past the record
    const section = compressSync(CompressionCodec.GZIP, plain);
    const bad = Buffer.concat([good.subarray(0, RECORDS_OFFSET), section]);
    bad.writeInt32BE(bad.length - 12, 8);
    bad.writeInt16BE(CompressionCodec.GZIP, 21);
    bad.writeUInt32BE(crc32c(bad.subarray(21)), 17);
    expect(errorCode(() => transcodeRecordBatch(bad, CompressionCodec.LZ4, LIMITS))).toBe("CORRUPT_RECORD");
    const bomb = buildRecordBatch({
      compression: "zstd",
      records: [{ timestamp: 1, key: null, value: Buffer.alloc(8 << 20) }],
    });
    expect(
      errorCode(() => transcodeRecordBatch(bomb, CompressionCodec.GZIP, { decompressedBytesMax: 1 << 20 })),
    ).toBe("COMPRESSION");
  });
});

describe("checkRecordsStructure", () => {
  it("accepts exactly what decodeRecordBatch accepts on mutated sections (differential fuzz)", () => {
    const base = buildRecordBatch({
      records: [
        {
          timestamp: 5,
          key: "k",
          value: "hello",
          headers: [
            { key: "a", value: "b" },
            { key: "c", value: null },
          ],
        },
        { timestamp: 6, key: null, value: null },
        { timestamp: 2 ** 40, key: "x", value: "y".repeat(40) },
      ],
    });
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat({ max: base.length - RECORDS_OFFSET - 1 }), fc.integer({ min: 0, max: 255 })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.integer({ min: 0, max: 5 }),
        (flips, count) => {
          const buf = Buffer.from(base);
          for (const [at, byte] of flips) buf[RECORDS_OFFSET + at] = byte;
          buf.writeInt32BE(count, 57);
          const section = buf.subarray(RECORDS_OFFSET);
          const walked = errorCode(() => checkRecordsStructure(section, count));
          const decoded = errorCode(() => decodeRecordBatch(buf, { ...LIMITS, verifyCrc: false }));
          expect(walked).toBe(decoded);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

/**
 * Hostile input into every generated decoder: random bytes, every truncation of valid frames,
 * and hand-made frames claiming huge counts and lengths. A decoder may only accept or throw
 * KrillError DECODE_ERROR; claims larger than the frame are rejected before any allocation.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { decodeFetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import { decodeMetadataRequest } from "../../../src/protocol/generated/metadata-request.js";
import { decodeProduceRequest } from "../../../src/protocol/generated/produce-request.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { runCodecFuzz } from "./fuzz-support.js";
import { ArbitraryBuilder, codecOf, messages, SPEC_PRESENT, versionsOf } from "./schema-arbitraries.js";

function expectDecodeError(fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isKrillError(caught, "DECODE_ERROR"), `expected DECODE_ERROR, got ${String(caught)}`).toBe(true);
  if (pattern !== undefined) expect((caught as Error).message).toMatch(pattern);
}

describe.skipIf(!SPEC_PRESENT)("every decoder under hostile input", () => {
  for (const m of messages()) {
    test(`${m.group}/${m.name}: random bytes and truncations`, () => {
      const codec = codecOf(m);
      for (const version of versionsOf(m)) {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 48 }), (bytes) => {
            try {
              codec.decode(new Reader(Buffer.from(bytes)), version);
            } catch (err) {
              if (!isKrillError(err, "DECODE_ERROR")) throw err;
            }
          }),
          { numRuns: 8 },
        );
        // Every strict prefix of a valid frame must be rejected: a decoder reads the same bytes
        // in the same order, so it runs out before it finishes.
        for (const msg of fc.sample(new ArbitraryBuilder(m, version).message(), { numRuns: 1 })) {
          const w = new Writer(64);
          codec.encode(w, msg, version);
          const frame = w.finish();
          for (let cut = 0; cut < frame.length; cut++) {
            expectDecodeError(() => codec.decode(new Reader(frame.subarray(0, cut)), version));
          }
        }
      }
    });
  }

  test("bounded mutation fuzz over all decoders", () => {
    const seed = Date.now() >>> 0;
    const report = runCodecFuzz({ iterations: 20_000, seed, timeLimitMs: 8000 });
    expect(report.failures, `fuzz seed ${seed}: ${JSON.stringify(report.failures.slice(0, 3))}`).toEqual([]);
    expect(report.decodes).toBeGreaterThan(500);
    expect(report.rejected).toBeGreaterThan(0);
  });
});

describe("huge counts and lengths are rejected before allocation", () => {
  test("classic array count of 2^31-1 with 10 bytes left", () => {
    const frame = Buffer.alloc(14);
    frame.writeInt32BE(0x7fffffff, 0);
    expectDecodeError(
      () => decodeMetadataRequest(new Reader(frame), 1),
      /MetadataRequest.topics: array of 2147483647 elements/,
    );
  });

  test("compact array count of 2^32-2 in a flexible version", () => {
    const frame = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0]);
    expectDecodeError(
      () => decodeMetadataRequest(new Reader(frame), 12),
      /MetadataRequest.topics: array of 4294967294 elements/,
    );
  });

  test("struct array running out of bytes mid-element", () => {
    // FetchRequest v4: replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel, then topics with
    // one topic whose partitions array claims 3 partitions in 8 bytes.
    const w = new Writer();
    w.writeInt32(-1);
    w.writeInt32(500);
    w.writeInt32(1);
    w.writeInt32(1 << 20);
    w.writeInt8(0);
    w.writeInt32(1);
    w.writeString("t");
    w.writeInt32(3);
    w.writeRawBytes(Buffer.alloc(8));
    expectDecodeError(() => decodeFetchRequest(new Reader(w.finish()), 4));
  });

  test("records length larger than the frame", () => {
    const w = new Writer();
    w.writeNullableString(null);
    w.writeInt16(1);
    w.writeInt32(1000);
    w.writeInt32(1);
    w.writeString("t");
    w.writeInt32(1);
    w.writeInt32(0);
    w.writeInt32(0x7fffffff);
    w.writeRawBytes(Buffer.alloc(16));
    expectDecodeError(
      () => decodeProduceRequest(new Reader(w.finish()), 3),
      /PartitionProduceData.records: needs 2147483647 bytes/,
    );
  });

  test("string length beyond the frame and beyond Kafka's limit", () => {
    const w = new Writer();
    w.writeNullableString(null);
    w.writeInt16(1);
    w.writeInt32(1000);
    w.writeInt32(1);
    w.writeInt16(0x7fff);
    w.writeRawBytes(Buffer.from("abc"));
    expectDecodeError(
      () => decodeProduceRequest(new Reader(w.finish()), 3),
      /TopicProduceData.name: needs 32767 bytes/,
    );
    const compact = Buffer.from([0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 0xe8, 0x02, 0x81, 0x80, 0x02, 0x61]);
    expectDecodeError(() => decodeProduceRequest(new Reader(compact), 9), /exceeds 32767/);
  });

  test("tagged field whose size runs past the frame", () => {
    // MetadataRequest v12 with no topics, then tagged fields: one tag claiming 1000 bytes.
    const frame = Buffer.from([0x01, 0x00, 0x00, 0x01, 0x05, 0xe8, 0x07, 0x00]);
    expectDecodeError(() => decodeMetadataRequest(new Reader(frame), 12));
  });
});

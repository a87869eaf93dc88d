import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import {
  RecordCursor,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "../../../src/protocol/records/varint.js";

function cursor(bytes: number[] | Buffer): RecordCursor {
  const buf = Buffer.from(bytes);
  return new RecordCursor(buf, 0, buf.length);
}

describe("record varints", () => {
  it("round-trips int32 varints and int64 varlongs at every size (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (v, l) => {
          const buf = Buffer.alloc(varintSize(v) + varlongSize(l));
          const mid = writeVarint(buf, 0, v);
          expect(mid).toBe(varintSize(v));
          expect(writeVarlong(buf, mid, l)).toBe(buf.length);
          const c = new RecordCursor(buf, 0, buf.length);
          expect(c.varint()).toBe(v);
          expect(c.varlong()).toBe(l);
          expect(c.remaining).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("matches Kafka's encoding of known values", () => {
    // ByteUtils.writeVarint / writeVarlong: zig-zag then base-128 little-endian groups.
    expect([
      ...(() => {
        const b = Buffer.alloc(10);
        return b.subarray(0, writeVarint(b, 0, -1));
      })(),
    ]).toEqual([0x01]);
    expect(cursor([0x02]).varint()).toBe(1);
    expect(cursor([0x96, 0x01]).varint()).toBe(75);
    expect(cursor([0xfe, 0xff, 0xff, 0xff, 0x0f]).varint()).toBe(2 ** 31 - 1);
    expect(cursor([0xff, 0xff, 0xff, 0xff, 0x0f]).varint()).toBe(-(2 ** 31));
    expect(cursor([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).varlong()).toBe(-(2n ** 63n));
    expect(cursor([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).varlong()).toBe(2n ** 48n);
  });

  it("rejects truncated, overlong and oversized encodings with CORRUPT_RECORD", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
        return undefined;
      } catch (err) {
        return isKrillError(err) ? err.code : "other";
      }
    };
    expect(code(() => cursor([0x80]).varint())).toBe("CORRUPT_RECORD");
    expect(code(() => cursor([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).varint())).toBe("CORRUPT_RECORD");
    expect(code(() => cursor([0xff, 0xff, 0xff, 0xff, 0x1f]).varint())).toBe("CORRUPT_RECORD");
    expect(code(() => cursor([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80]).varlong())).toBe(
      "CORRUPT_RECORD",
    );
    expect(code(() => cursor(Array(11).fill(0x80)).varlong())).toBe("CORRUPT_RECORD");
    expect(code(() => cursor([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x03]).varlong())).toBe(
      "CORRUPT_RECORD",
    );
    expect(code(() => cursor([0x03]).nullableBytes())).toBe("CORRUPT_RECORD"); // -2
    expect(code(() => cursor([0x08, 1, 2]).nullableBytes())).toBe("CORRUPT_RECORD"); // 4 bytes, 2 left
    expect(cursor([0x01]).nullableBytes()).toBeNull();
  });
});

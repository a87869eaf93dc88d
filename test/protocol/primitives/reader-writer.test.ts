import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isKrillError } from "../../../src/errors.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { nonNull, RAW_CHUNK_COPY_BYTES_MAX, Writer } from "../../../src/protocol/primitives/writer.js";

function bytes(fn: (w: Writer) => void): Buffer {
  const w = new Writer(16);
  fn(w);
  return w.finish();
}

function hex(fn: (w: Writer) => void): string {
  return bytes(fn).toString("hex");
}

function expectError(code: "DECODE_ERROR" | "ENCODE_ERROR", fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isKrillError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  if (pattern !== undefined) expect((caught as Error).message).toMatch(pattern);
}

describe("fixed-width integers", () => {
  test("big-endian layout and sign extension", () => {
    expect(hex((w) => w.writeInt8(-1))).toBe("ff");
    expect(hex((w) => w.writeInt16(-2))).toBe("fffe");
    expect(hex((w) => w.writeUint16(0xfffe))).toBe("fffe");
    expect(hex((w) => w.writeInt32(-2147483648))).toBe("80000000");
    expect(hex((w) => w.writeUint32(0xfffffffe))).toBe("fffffffe");
    expect(hex((w) => w.writeInt64(-2n))).toBe("fffffffffffffffe");
    expect(hex((w) => w.writeFloat64(1.5))).toBe("3ff8000000000000");
    const r = new Reader(
      Buffer.from("ff" + "fffe" + "fffe" + "80000000" + "fffffffe" + "fffffffffffffffe", "hex"),
    );
    expect(r.readInt8()).toBe(-1);
    expect(r.readInt16()).toBe(-2);
    expect(r.readUint16()).toBe(0xfffe);
    expect(r.readInt32()).toBe(-2147483648);
    expect(r.readUint32()).toBe(0xfffffffe);
    expect(r.readInt64()).toBe(-2n);
    expect(r.remaining()).toBe(0);
  });

  test("round trip over the full ranges", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.double(),
        (i8, i16, i32, i64, f64) => {
          const r = new Reader(
            bytes((w) => {
              w.writeInt8(i8);
              w.writeInt16(i16);
              w.writeInt32(i32);
              w.writeInt64(i64);
              w.writeFloat64(f64);
            }),
          );
          expect([r.readInt8(), r.readInt16(), r.readInt32(), r.readInt64(), r.readFloat64()]).toEqual([
            i8,
            i16,
            i32,
            i64,
            f64,
          ]);
        },
      ),
    );
  });

  test("reads past the end name the field", () => {
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.alloc(3)).readInt32("timeoutMs"),
      /timeoutMs: needs 4 bytes/,
    );
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(7)).readInt64("offset"), /offset/);
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(0)).readBool("flag"), /flag/);
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(15)).readUuid("topicId"), /topicId/);
  });

  test("a reader never reads past its end even inside a larger buffer", () => {
    const r = new Reader(Buffer.from("0001020304050607", "hex"), 2, 4);
    expect(r.readInt16()).toBe(0x0203);
    expectError("DECODE_ERROR", () => r.readInt8());
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(4), 3, 2));
  });
});

describe("varints", () => {
  const unsignedCases: [number, string][] = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "8001"],
    [300, "ac02"],
    [16383, "ff7f"],
    [16384, "808001"],
    [2 ** 21 - 1, "ffff7f"],
    [2 ** 28, "8080808001"],
    [2 ** 31, "8080808008"],
    [2 ** 32 - 1, "ffffffff0f"],
  ];
  test.each(unsignedCases)("unsigned varint %d", (value, encoded) => {
    expect(hex((w) => w.writeUnsignedVarint(value))).toBe(encoded);
    const r = new Reader(Buffer.from(encoded, "hex"));
    expect(r.readUnsignedVarint()).toBe(value);
    expect(r.remaining()).toBe(0);
  });

  test("zig-zag varint and varlong match Kafka's ByteUtils", () => {
    const cases: [number, string][] = [
      [0, "00"],
      [-1, "01"],
      [1, "02"],
      [-64, "7f"],
      [64, "8001"],
      [2147483647, "feffffff0f"],
      [-2147483648, "ffffffff0f"],
    ];
    for (const [v, e] of cases) {
      expect(hex((w) => w.writeVarint(v))).toBe(e);
      expect(new Reader(Buffer.from(e, "hex")).readVarint()).toBe(v);
      expect(hex((w) => w.writeVarlong(BigInt(v)))).toBe(e);
      expect(new Reader(Buffer.from(e, "hex")).readVarlong()).toBe(BigInt(v));
    }
    expect(hex((w) => w.writeVarlong(-(2n ** 63n)))).toBe("ffffffffffffffffff01");
    expect(hex((w) => w.writeVarlong(2n ** 63n - 1n))).toBe("feffffffffffffffff01");
  });

  test("round trips over the full ranges", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        (u, i, l) => {
          const r = new Reader(
            bytes((w) => {
              w.writeUnsignedVarint(u);
              w.writeVarint(i);
              w.writeVarlong(l);
            }),
          );
          expect([r.readUnsignedVarint(), r.readVarint(), r.readVarlong()]).toEqual([u, i, l]);
          expect(r.remaining()).toBe(0);
        },
      ),
    );
  });

  test("over-long and truncated varints are rejected", () => {
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("ffffffff10", "hex")).readUnsignedVarint("n"),
      /32 bits/,
    );
    expectError("DECODE_ERROR", () => new Reader(Buffer.from("ffffffffff01", "hex")).readUnsignedVarint("n"));
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("8080", "hex")).readUnsignedVarint("count"),
      /count/,
    );
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(11, 0xff)).readVarlong("ts"), /10 bytes/);
    expectError("DECODE_ERROR", () => new Reader(Buffer.from("80", "hex")).readVarlong("ts"), /ts/);
  });

  test("the writer rejects values an unsigned varint cannot carry", () => {
    for (const v of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expectError("ENCODE_ERROR", () => new Writer().writeUnsignedVarint(v));
    }
  });
});

describe("strings", () => {
  test("classic and compact forms, null and empty", () => {
    expect(hex((w) => w.writeString("ab"))).toBe("00026162");
    expect(hex((w) => w.writeNullableString(null))).toBe("ffff");
    expect(hex((w) => w.writeString(""))).toBe("0000");
    expect(hex((w) => w.writeCompactString("ab"))).toBe("036162");
    expect(hex((w) => w.writeCompactNullableString(null))).toBe("00");
    expect(hex((w) => w.writeCompactString(""))).toBe("01");
  });

  test("UTF-8 lengths count bytes, not UTF-16 units", () => {
    const s = "é€😀";
    expect(bytes((w) => w.writeString(s)).readInt16BE(0)).toBe(Buffer.byteLength(s));
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), fc.boolean(), (str, compact) => {
        const buf = bytes((w) => (compact ? w.writeCompactString(str) : w.writeString(str)));
        const r = new Reader(buf);
        expect(compact ? r.readCompactString() : r.readString()).toBe(str);
        expect(r.remaining()).toBe(0);
      }),
    );
  });

  test("null where not nullable, negative lengths and over-long strings", () => {
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("ffff", "hex")).readString("topic"),
      /topic: null/,
    );
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("fffe", "hex")).readNullableString("x"),
      /invalid length/,
    );
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("00", "hex")).readCompactString("topic"),
      /null/,
    );
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("0005616263", "hex")).readString("s"),
      /needs 5 bytes/,
    );
    const long = "x".repeat(0x8000);
    expectError(
      "ENCODE_ERROR",
      () => new Writer().writeString(long, "clientId"),
      /clientId: string of 32768 bytes/,
    );
    expectError("ENCODE_ERROR", () => new Writer().writeCompactString(long));
    expect(bytes((w) => w.writeString("x".repeat(0x7fff))).length).toBe(2 + 0x7fff);
    expectError("ENCODE_ERROR", () => new Writer().writeString(null as unknown as string, "name"), /name/);
  });
});

describe("bytes and arrays", () => {
  test("bytes are copied, views are not", () => {
    const frame = Buffer.from("00000003010203", "hex");
    const copied = new Reader(frame).readBytes(false);
    const view = new Reader(frame).readNullableBytesView(false);
    frame[4] = 9;
    expect([...copied]).toEqual([1, 2, 3]);
    expect([...view!]).toEqual([9, 2, 3]);
    expect(new Reader(Buffer.from("ffffffff", "hex")).readNullableBytes(false)).toBeNull();
    expect(new Reader(Buffer.from("00", "hex")).readNullableBytes(true)).toBeNull();
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("ffffffff", "hex")).readBytes(false, "key"),
      /key: null/,
    );
    expectError(
      "DECODE_ERROR",
      () => new Reader(Buffer.from("7fffffff00", "hex")).readBytes(false, "value"),
      /value/,
    );
  });

  test("array counts are checked against the bytes remaining times the element size", () => {
    const r = () => new Reader(Buffer.from(`00000003${"00".repeat(8)}`, "hex"));
    expect(r().readArrayLength(false, 1)).toBe(3);
    expectError("DECODE_ERROR", () => r().readArrayLength(false, 4, "partitions"), /partitions: array of 3/);
    expect(new Reader(Buffer.from("ffffffff", "hex")).readArrayLength(false, 4)).toBe(-1);
    expect(new Reader(Buffer.from("00", "hex")).readArrayLength(true, 4)).toBe(-1);
    expectError("DECODE_ERROR", () => new Reader(Buffer.from("fffffffe", "hex")).readArrayLength(false, 1));
    expectError("DECODE_ERROR", () =>
      new Reader(Buffer.from(`7fffffff${"00".repeat(10)}`, "hex")).readArrayLength(false, 1),
    );
  });

  test("array length prefixes", () => {
    expect(hex((w) => w.writeArrayLength(2, false))).toBe("00000002");
    expect(hex((w) => w.writeArrayLength(null, false))).toBe("ffffffff");
    expect(hex((w) => w.writeArrayLength(2, true))).toBe("03");
    expect(hex((w) => w.writeArrayLength(null, true))).toBe("00");
  });
});

describe("tagged fields", () => {
  test("unknown tagged fields are kept and written back in tag order around known ones", () => {
    const unknown = [
      { tag: 1, data: Buffer.from([0xaa]) },
      { tag: 5, data: Buffer.from([0xbb, 0xcc]) },
    ];
    const out = hex((w) => {
      let i = w.writeRawTaggedFields(unknown, 0, 3);
      w.writeTaggedBody(3, Buffer.from([0x01]));
      i = w.writeRawTaggedFields(unknown, i, Number.POSITIVE_INFINITY);
      expect(i).toBe(2);
    });
    expect(out).toBe("0101aa" + "030101" + "0502bbcc");
    const r = new Reader(Buffer.from("0101aa", "hex"));
    const list = r.readUnknownTaggedField(undefined, r.readUnsignedVarint(), r.readUnsignedVarint());
    expect(list).toEqual([{ tag: 1, data: Buffer.from([0xaa]) }]);
  });

  test("a known tagged value must fill exactly its declared size", () => {
    const r = new Reader(Buffer.from("0000000500", "hex"));
    const end = r.beginTaggedValue(5, "leaderEpoch");
    r.readInt32();
    expectError("DECODE_ERROR", () => r.endTaggedValue(end, "leaderEpoch"), /leaderEpoch/);
    expectError("DECODE_ERROR", () => new Reader(Buffer.alloc(2)).beginTaggedValue(3, "x"));
  });
});

describe("Writer output", () => {
  test("grows from a small start across many writes", () => {
    const w = new Writer(16);
    for (let i = 0; i < 10_000; i++) w.writeInt32(i);
    const out = w.finish();
    expect(out.length).toBe(40_000);
    expect(w.length).toBe(40_000);
    for (let i = 0; i < 10_000; i += 997) expect(out.readInt32BE(i * 4)).toBe(i);
  });

  test("large raw chunks are referenced, small ones copied, order kept", () => {
    const big = Buffer.alloc(RAW_CHUNK_COPY_BYTES_MAX, 7);
    const small = Buffer.from([1, 2, 3]);
    const w = new Writer(16);
    w.writeInt32(1);
    w.writeRawChunk(big);
    w.writeRawChunk(small);
    w.writeInt16(2);
    for (let i = 0; i < 100; i++) w.writeInt32(i); // forces growth after a referenced chunk
    const chunks = w.toChunks();
    expect(chunks[1]).toBe(big);
    expect(chunks.length).toBe(3);
    const total = Buffer.concat(chunks);
    expect(w.length).toBe(total.length);
    expect(w.finish().equals(total)).toBe(true);
    expect(total.readInt32BE(0)).toBe(1);
    expect(total.subarray(4 + big.length, 4 + big.length + 3)).toEqual(small);
    expect(total.readInt16BE(7 + big.length)).toBe(2);
    expect(total.readInt32BE(total.length - 4)).toBe(99);
  });

  test("nullable bytes chunks and nonNull", () => {
    expect(hex((w) => w.writeNullableBytesChunk(null, false))).toBe("ffffffff");
    expect(hex((w) => w.writeNullableBytesChunk(Buffer.from([5]), true))).toBe("0205");
    expect(nonNull("x", "f")).toBe("x");
    expectError("ENCODE_ERROR", () => nonNull(null, "topics"), /topics: null/);
  });
});

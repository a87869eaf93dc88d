/**
 * Reader over one Buffer, used by the generated decoders. Every read checks the bytes remaining
 * first and throws `KrillError("DECODE_ERROR")` naming the field; every length or count read from
 * the wire is checked against the bytes remaining before anything is allocated, so a hostile frame
 * can make a decoder fail but never allocate more than the frame's own size.
 *
 * Concurrency: a Reader is a cursor owned by one decode call; it is not shared.
 *
 * `bytes` fields are copied out (they outlive the frame); `records` and `zeroCopy` fields are views
 * into the frame buffer (`readBytesView`), so the frame buffer must not be reused while they live.
 */
import { KrillError } from "../../errors.js";
import type { RawTaggedField } from "./tagged.js";
import { UUID_BYTES, uuidFromBytes } from "./uuid.js";

/** Kafka caps every string, compact or not, at 32767 UTF-8 bytes. */
export const STRING_LENGTH_MAX = 0x7fff;

export class Reader {
  readonly buf: Buffer;
  offset: number;
  /** Exclusive end: reads never go past it even if `buf` is longer. */
  readonly end: number;

  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new KrillError("DECODE_ERROR", `reader range ${offset}..${end} outside buffer of ${buf.length}`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless exactly `this.end` was reached, naming what was decoded. */
  expectEnd(what: string): void {
    if (this.offset !== this.end) {
      throw new KrillError("DECODE_ERROR", `${what}: ${this.end - this.offset} unexpected trailing bytes`);
    }
  }

  private eof(needed: number, field: string): KrillError {
    return new KrillError(
      "DECODE_ERROR",
      `${field}: needs ${needed} bytes at offset ${this.offset}, only ${this.end - this.offset} remain`,
    );
  }

  readBool(field = "bool"): boolean {
    if (this.offset + 1 > this.end) throw this.eof(1, field);
    return this.buf[this.offset++] !== 0;
  }

  readInt8(field = "int8"): number {
    if (this.offset + 1 > this.end) throw this.eof(1, field);
    const v = this.buf[this.offset++]!;
    return (v << 24) >> 24;
  }

  readInt16(field = "int16"): number {
    const o = this.offset;
    if (o + 2 > this.end) throw this.eof(2, field);
    this.offset = o + 2;
    return ((this.buf[o]! << 24) | (this.buf[o + 1]! << 16)) >> 16;
  }

  readUint16(field = "uint16"): number {
    const o = this.offset;
    if (o + 2 > this.end) throw this.eof(2, field);
    this.offset = o + 2;
    return (this.buf[o]! << 8) | this.buf[o + 1]!;
  }

  readInt32(field = "int32"): number {
    const o = this.offset;
    if (o + 4 > this.end) throw this.eof(4, field);
    this.offset = o + 4;
    const b = this.buf;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  readUint32(field = "uint32"): number {
    return this.readInt32(field) >>> 0;
  }

  readInt64(field = "int64"): bigint {
    const o = this.offset;
    if (o + 8 > this.end) throw this.eof(8, field);
    this.offset = o + 8;
    return this.buf.readBigInt64BE(o);
  }

  readFloat64(field = "float64"): number {
    const o = this.offset;
    if (o + 8 > this.end) throw this.eof(8, field);
    this.offset = o + 8;
    return this.buf.readDoubleBE(o);
  }

  readUuid(field = "uuid"): string {
    const o = this.offset;
    if (o + UUID_BYTES > this.end) throw this.eof(UUID_BYTES, field);
    this.offset = o + UUID_BYTES;
    return uuidFromBytes(this.buf, o);
  }

  /** Unsigned LEB128 of at most 5 bytes (an unsigned 32-bit value), as Kafka's ByteUtils. */
  readUnsignedVarint(field = "unsigned varint"): number {
    const b = this.buf;
    let o = this.offset;
    const end = this.end;
    // One byte is by far the common case (tagged-field counts, short compact lengths).
    if (o < end) {
      const first = b[o]!;
      if (first < 0x80) {
        this.offset = o + 1;
        return first;
      }
    }
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (o >= end) {
        this.offset = o;
        throw this.eof(1, field);
      }
      const byte = b[o++]!;
      if (i === 4 && byte > 0x0f) {
        this.offset = o;
        throw new KrillError("DECODE_ERROR", `${field}: unsigned varint does not fit in 32 bits`);
      }
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return value;
      }
      shift += 7;
    }
    this.offset = o;
    throw new KrillError("DECODE_ERROR", `${field}: varint is longer than 5 bytes`);
  }

  /** Zig-zag signed 32-bit varint (record headers, record fields). */
  readVarint(field = "varint"): number {
    const u = this.readUnsignedVarint(field);
    // u < 2^32; zig-zag decode without losing the top bit.
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zig-zag signed 64-bit varint of at most 10 bytes. */
  readVarlong(field = "varlong"): bigint {
    const b = this.buf;
    let o = this.offset;
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (o >= this.end) {
        this.offset = o;
        throw this.eof(1, field);
      }
      const byte = b[o++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        value = BigInt.asUintN(64, value);
        return (value >> 1n) ^ -(value & 1n);
      }
      shift += 7n;
    }
    this.offset = o;
    throw new KrillError("DECODE_ERROR", `${field}: varlong is longer than 10 bytes`);
  }

  private utf8(length: number, field: string): string {
    if (length > STRING_LENGTH_MAX) {
      throw new KrillError("DECODE_ERROR", `${field}: string length ${length} exceeds ${STRING_LENGTH_MAX}`);
    }
    const o = this.offset;
    if (o + length > this.end) throw this.eof(length, field);
    this.offset = o + length;
    return this.buf.toString("utf8", o, o + length);
  }

  /** STRING: int16 length then UTF-8; null (-1) is rejected. */
  readString(field = "string"): string {
    const length = this.readInt16(field);
    if (length < 0) throw nullOrNegative(field, length);
    return this.utf8(length, field);
  }

  /** NULLABLE_STRING: int16 length (-1 = null) then UTF-8. */
  readNullableString(field = "string"): string | null {
    const length = this.readInt16(field);
    if (length === -1) return null;
    if (length < 0) throw nullOrNegative(field, length);
    return this.utf8(length, field);
  }

  /** COMPACT_STRING: unsigned varint length+1 then UTF-8; null (0) is rejected. */
  readCompactString(field = "string"): string {
    const length = this.readUnsignedVarint(field) - 1;
    if (length < 0) throw nullOrNegative(field, length);
    return this.utf8(length, field);
  }

  /** COMPACT_NULLABLE_STRING: unsigned varint length+1 (0 = null) then UTF-8. */
  readCompactNullableString(field = "string"): string | null {
    const length = this.readUnsignedVarint(field) - 1;
    if (length < 0) return null;
    return this.utf8(length, field);
  }

  /** `length` raw bytes copied out of the frame. */
  readRawBytes(length: number, field = "bytes"): Buffer {
    const o = this.offset;
    if (length < 0 || o + length > this.end) throw this.eof(length, field);
    this.offset = o + length;
    return Buffer.from(this.buf.subarray(o, o + length));
  }

  /** `length` raw bytes as a view into the frame (no copy): records and zeroCopy fields. */
  readRawView(length: number, field = "bytes"): Buffer {
    const o = this.offset;
    if (length < 0 || o + length > this.end) throw this.eof(length, field);
    this.offset = o + length;
    return this.buf.subarray(o, o + length);
  }

  /** BYTES / NULLABLE_BYTES / COMPACT_(NULLABLE_)BYTES length; -1 means null. */
  readBytesLength(compact: boolean, field = "bytes"): number {
    const length = compact ? this.readUnsignedVarint(field) - 1 : this.readInt32(field);
    if (length < -1) throw nullOrNegative(field, length);
    if (length > this.end - this.offset) throw this.eof(length, field);
    return length;
  }

  readBytes(compact: boolean, field = "bytes"): Buffer {
    const length = this.readBytesLength(compact, field);
    if (length < 0) throw nullOrNegative(field, length);
    return this.readRawBytes(length, field);
  }

  readNullableBytes(compact: boolean, field = "bytes"): Buffer | null {
    const length = this.readBytesLength(compact, field);
    if (length < 0) return null;
    return this.readRawBytes(length, field);
  }

  /** Non-null bytes as a view into the frame; used for `records` and `zeroCopy` fields. */
  readBytesView(compact: boolean, field = "bytes"): Buffer {
    const length = this.readBytesLength(compact, field);
    if (length < 0) throw nullOrNegative(field, length);
    return this.readRawView(length, field);
  }

  /** Bytes as a view into the frame; used for `records` and `zeroCopy` fields. */
  readNullableBytesView(compact: boolean, field = "bytes"): Buffer | null {
    const length = this.readBytesLength(compact, field);
    if (length < 0) return null;
    return this.readRawView(length, field);
  }

  /**
   * ARRAY / COMPACT_ARRAY element count; -1 means null. A count that could not fit in the bytes
   * remaining, given each element takes at least `elementBytesMin` bytes, is rejected here, before
   * the caller allocates anything for it.
   */
  readArrayLength(compact: boolean, elementBytesMin: number, field = "array"): number {
    const count = compact ? this.readUnsignedVarint(field) - 1 : this.readInt32(field);
    if (count < -1) throw nullOrNegative(field, count);
    if (count > 0 && count * elementBytesMin > this.end - this.offset) {
      throw new KrillError(
        "DECODE_ERROR",
        `${field}: array of ${count} elements cannot fit in the ${this.end - this.offset} bytes remaining`,
      );
    }
    return count;
  }

  /**
   * Starts reading the body of a known tagged field of `size` bytes; returns where it must end.
   * Paired with `endTaggedValue`, so a malformed tagged field cannot desynchronise the rest of
   * the struct.
   */
  beginTaggedValue(size: number, field: string): number {
    if (size > this.end - this.offset) throw this.eof(size, field);
    return this.offset + size;
  }

  endTaggedValue(expectedEnd: number, field: string): void {
    if (this.offset !== expectedEnd) {
      throw new KrillError(
        "DECODE_ERROR",
        `${field}: tagged field value ended at offset ${this.offset}, its size says ${expectedEnd}`,
      );
    }
  }

  /**
   * Reads a whole tagged-field section of a struct that knows no tags (in this version): every
   * field is kept as raw bytes. Returns undefined when the section is empty.
   */
  readUnknownTaggedFields(): RawTaggedField[] | undefined {
    const count = this.readUnsignedVarint("tagged field count");
    if (count === 0) return undefined;
    let list: RawTaggedField[] | undefined;
    for (let i = 0; i < count; i++) {
      const tag = this.readUnsignedVarint("tag");
      const size = this.readUnsignedVarint("tagged field size");
      list = this.readUnknownTaggedField(list, tag, size);
    }
    return list;
  }

  /** Appends an unknown tagged field (kept as raw bytes) to `list`, creating it if needed. */
  readUnknownTaggedField(
    list: RawTaggedField[] | undefined,
    tag: number,
    size: number,
    field = "tagged field",
  ): RawTaggedField[] {
    const data = this.readRawBytes(size, `${field} tag ${tag}`);
    const out = list ?? [];
    out.push({ tag, data });
    return out;
  }
}

function nullOrNegative(field: string, length: number): KrillError {
  return new KrillError(
    "DECODE_ERROR",
    length === -1 ? `${field}: null where the field is not nullable` : `${field}: invalid length ${length}`,
  );
}

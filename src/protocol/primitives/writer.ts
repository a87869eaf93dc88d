/**
 * Growable output buffer used by the generated encoders. Bytes go into one scratch Buffer that
 * grows geometrically; `writeRawChunk` appends a caller's Buffer by reference (no copy), which is
 * how a Fetch response carries stored log bytes to the socket untouched. The output is then either
 * a list of chunks for `socket.writev` style output (`toChunks`) or one Buffer (`finish`).
 *
 * Concurrency: a Writer is owned by one encode call and is not shared. Chunks handed to
 * `writeRawChunk` must not change until the output has been written out.
 */
import { KrillError } from "../../errors.js";
import type { RawTaggedField } from "./tagged.js";
import { UUID_BYTES, writeUuidBytes } from "./uuid.js";

/** Raw chunks at least this large are referenced instead of copied. */
export const RAW_CHUNK_COPY_BYTES_MAX = 512;

const STRING_LENGTH_MAX = 0x7fff;
const INITIAL_CAPACITY_BYTES = 256;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  /** Start in `buf` of the bytes not yet moved to `chunks`. */
  private segmentStart = 0;
  /** Completed output before `buf[segmentStart..]`, in order; empty until a raw chunk arrives. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor(initialCapacityBytes = INITIAL_CAPACITY_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialCapacityBytes));
  }

  /** Total bytes written so far, raw chunks included. */
  get length(): number {
    return this.chunkBytes + (this.pos - this.segmentStart);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const live = this.pos - this.segmentStart;
    let capacity = this.buf.length * 2;
    while (capacity < live + bytes) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    // Earlier segments already handed to `chunks` are views of the old buffer, which stays alive
    // through them; only the live segment moves.
    this.buf.copy(next, 0, this.segmentStart, this.pos);
    this.buf = next;
    this.pos = live;
    this.segmentStart = 0;
  }

  writeBool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  writeInt8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  writeInt16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  writeUint16(v: number): void {
    this.writeInt16(v);
  }

  writeInt32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  writeUint32(v: number): void {
    this.writeInt32(v);
  }

  writeInt64(v: bigint): void {
    this.ensure(8);
    // Out-of-range values throw (RangeError) rather than wrap silently.
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  writeFloat64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  writeUuid(v: string): void {
    this.ensure(UUID_BYTES);
    writeUuidBytes(v, this.buf, this.pos);
    this.pos += UUID_BYTES;
  }

  /** Unsigned LEB128 of an unsigned 32-bit value. */
  writeUnsignedVarint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    // One byte for 0..127; `& 0x7f` also turns away fractions, NaN and negatives.
    if ((v & 0x7f) === v) {
      b[p] = v;
      this.pos = p + 1;
      return;
    }
    if (!(v >= 0 && v <= 0xffffffff) || !Number.isInteger(v)) {
      throw new KrillError("ENCODE_ERROR", `unsigned varint ${v} is outside 0..2^32-1`);
    }
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Zig-zag signed 32-bit varint. */
  writeVarint(v: number): void {
    this.writeUnsignedVarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag signed 64-bit varint. */
  writeVarlong(v: bigint): void {
    this.ensure(10);
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    const b = this.buf;
    let p = this.pos;
    while (u >= 0x80n) {
      b[p++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    b[p++] = Number(u);
    this.pos = p;
  }

  private utf8Length(s: string, field: string): number {
    if (typeof s !== "string") {
      throw new KrillError(
        "ENCODE_ERROR",
        `${field}: expected a string, got ${s === null ? "null" : typeof s}`,
      );
    }
    const n = s.length;
    // Short ASCII strings (topic names, client ids) skip Buffer.byteLength.
    if (n <= 32) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return n;
    }
    const length = Buffer.byteLength(s, "utf8");
    if (length > STRING_LENGTH_MAX) {
      throw new KrillError(
        "ENCODE_ERROR",
        `${field}: string of ${length} bytes exceeds ${STRING_LENGTH_MAX}`,
      );
    }
    return length;
  }

  private writeUtf8(s: string, length: number): void {
    this.ensure(length);
    if (length === s.length) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < length; i++) b[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.write(s, this.pos, length, "utf8");
    }
  }

  writeString(s: string, field = "string"): void {
    const length = this.utf8Length(s, field);
    this.writeInt16(length);
    this.writeUtf8(s, length);
  }

  writeNullableString(s: string | null, field = "string"): void {
    if (s === null) this.writeInt16(-1);
    else this.writeString(s, field);
  }

  writeCompactString(s: string, field = "string"): void {
    const length = this.utf8Length(s, field);
    this.writeUnsignedVarint(length + 1);
    this.writeUtf8(s, length);
  }

  writeCompactNullableString(s: string | null, field = "string"): void {
    if (s === null) this.writeUnsignedVarint(0);
    else this.writeCompactString(s, field);
  }

  /** Copies `bytes` into the output. */
  writeRawBytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Appends `chunk` by reference: it is not copied, so it must stay unchanged until the output is
   * written out. Small chunks are copied, since a separate chunk costs more than the copy.
   */
  writeRawChunk(chunk: Buffer): void {
    if (chunk.length < RAW_CHUNK_COPY_BYTES_MAX) {
      this.writeRawBytes(chunk);
      return;
    }
    this.flushSegment();
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
  }

  private flushSegment(): void {
    if (this.pos > this.segmentStart) {
      const segment = this.buf.subarray(this.segmentStart, this.pos);
      this.chunks.push(segment);
      this.chunkBytes += segment.length;
      this.segmentStart = this.pos;
    }
  }

  writeBytes(bytes: Uint8Array, compact: boolean, field = "bytes"): void {
    if (!(bytes instanceof Uint8Array)) {
      throw new KrillError(
        "ENCODE_ERROR",
        `${field}: expected bytes, got ${bytes === null ? "null" : typeof bytes}`,
      );
    }
    if (compact) this.writeUnsignedVarint(bytes.length + 1);
    else this.writeInt32(bytes.length);
    this.writeRawBytes(bytes);
  }

  writeNullableBytes(bytes: Uint8Array | null, compact: boolean, field = "bytes"): void {
    if (bytes === null) {
      if (compact) this.writeUnsignedVarint(0);
      else this.writeInt32(-1);
    } else {
      this.writeBytes(bytes, compact, field);
    }
  }

  /** Nullable bytes whose content is appended by reference when large (records, zeroCopy). */
  writeNullableBytesChunk(bytes: Buffer | null, compact: boolean, field = "records"): void {
    if (bytes === null) {
      if (compact) this.writeUnsignedVarint(0);
      else this.writeInt32(-1);
      return;
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new KrillError("ENCODE_ERROR", `${field}: expected bytes, got ${typeof bytes}`);
    }
    if (compact) this.writeUnsignedVarint(bytes.length + 1);
    else this.writeInt32(bytes.length);
    this.writeRawChunk(bytes);
  }

  /** ARRAY / COMPACT_ARRAY length prefix; `null` writes the null array. */
  writeArrayLength(count: number | null, compact: boolean): void {
    if (count === null) {
      if (compact) this.writeUnsignedVarint(0);
      else this.writeInt32(-1);
    } else if (compact) {
      this.writeUnsignedVarint(count + 1);
    } else {
      this.writeInt32(count);
    }
  }

  /**
   * Writes the unknown tagged fields of `fields`, from index `from`, whose tag is below `tagLimit`;
   * returns the index of the first one not written. Called between known tags so the whole tagged
   * section comes out in ascending tag order, as Kafka's RawTaggedFieldWriter does.
   */
  writeRawTaggedFields(fields: readonly RawTaggedField[], from: number, tagLimit: number): number {
    let i = from;
    while (i < fields.length) {
      const field = fields[i]!;
      if (field.tag >= tagLimit) break;
      this.writeUnsignedVarint(field.tag);
      this.writeUnsignedVarint(field.data.length);
      this.writeRawBytes(field.data);
      i++;
    }
    return i;
  }

  /** Writes the tagged-field section of a struct that knows no tags: just the unknown ones. */
  writeUnknownTaggedFields(fields: readonly RawTaggedField[] | undefined): void {
    if (fields === undefined || fields.length === 0) {
      this.ensure(1);
      this.buf[this.pos++] = 0;
      return;
    }
    this.writeUnsignedVarint(fields.length);
    this.writeRawTaggedFields(fields, 0, Number.POSITIVE_INFINITY);
  }

  /** Writes a tagged field's tag, then `body` (already encoded) with its size. */
  writeTaggedBody(tag: number, body: Buffer): void {
    this.writeUnsignedVarint(tag);
    this.writeUnsignedVarint(body.length);
    this.writeRawBytes(body);
  }

  /** The output as chunks in order, for vectored socket writes. The Writer stays usable. */
  toChunks(): Buffer[] {
    this.flushSegment();
    return this.chunks.slice();
  }

  /** The output as one Buffer (a view when no raw chunk was referenced, else one copy). */
  finish(): Buffer {
    if (this.chunks.length === 0) return this.buf.subarray(this.segmentStart, this.pos);
    this.flushSegment();
    return Buffer.concat(this.chunks, this.chunkBytes);
  }
}

/** Throws the encode error for a null in a version where the field is not nullable. */
export function nonNull<T>(v: T | null, field: string): T {
  if (v === null || v === undefined) {
    throw new KrillError("ENCODE_ERROR", `${field}: null where the field is not nullable at this version`);
  }
  return v;
}

/**
 * The encode error for a field that is not `ignorable`, holds a non-default value, and does not
 * exist at the version being written (Kafka's UnsupportedVersionException in the same case).
 */
export function nonIgnorable(field: string, struct: string, version: number): KrillError {
  return new KrillError(
    "ENCODE_ERROR",
    `${struct}.${field}: a non-default value cannot be written at version ${version}, which lacks the field`,
  );
}

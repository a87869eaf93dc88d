/**
 * Zig-zag varints as records use them (protobuf style, Kafka's ByteUtils.readVarint/readVarlong).
 * A bounded cursor over one buffer: every read checks the bytes that remain and throws
 * KrillError("CORRUPT_RECORD"), because a record that does not parse is a corrupt record.
 */
import { KrillError } from "../../errors.js";

export class RecordCursor {
  constructor(
    readonly buf: Buffer,
    public position: number,
    public end: number,
  ) {}

  /** Points the cursor at `buf[position, end)`, so one cursor can walk many records. */
  reset(position: number, end: number): void {
    this.position = position;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  fail(message: string): never {
    throw new KrillError("CORRUPT_RECORD", `${message} (at byte ${this.position})`);
  }

  int8(): number {
    if (this.position >= this.end) this.fail("truncated record");
    return this.buf.readInt8(this.position++);
  }

  /** A zig-zag varint of at most 5 bytes that must fit an int32. */
  varint(): number {
    let raw = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.end) this.fail("truncated varint");
      const byte = this.buf[this.position++]!;
      raw += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (raw > 0xffffffff) this.fail("varint exceeds 32 bits");
        // Zig-zag: even raw values are non-negative, odd ones negative.
        return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      }
    }
    return this.fail("varint longer than 5 bytes");
  }

  /** A zig-zag varlong of at most 10 bytes. */
  varlong(): bigint {
    // Fast path: timestamp deltas nearly always fit 7 bytes (49 bits), which a double holds
    // exactly, so the BigInt loop below only runs for the rare long ones.
    let raw = 0;
    const start = this.position;
    for (let i = 0; i < 7 && this.position < this.end; i++) {
      const byte = this.buf[this.position++]!;
      raw += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return BigInt(raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2);
    }
    this.position = start;
    return this.varlongSlow();
  }

  private varlongSlow(): bigint {
    let raw = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.position >= this.end) this.fail("truncated varlong");
      const byte = this.buf[this.position++]!;
      raw |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        if (raw > 0xffffffffffffffffn) this.fail("varlong exceeds 64 bits");
        return (raw >> 1n) ^ -(raw & 1n);
      }
    }
    return this.fail("varlong longer than 10 bytes");
  }

  /** Steps over `length` bytes after checking they are there. */
  skip(length: number): void {
    if (length < 0 || length > this.remaining)
      this.fail(`length ${length} exceeds the ${this.remaining} bytes left`);
    this.position += length;
  }

  /** Steps over varint length + bytes (length -1 is null). */
  skipNullableBytes(): void {
    const length = this.varint();
    if (length < -1) this.fail(`invalid negative length ${length}`);
    if (length > 0) this.skip(length);
  }

  /** `length` bytes as a view into the buffer (no copy), after checking they are there. */
  bytes(length: number): Buffer {
    if (length < 0 || length > this.remaining)
      this.fail(`length ${length} exceeds the ${this.remaining} bytes left`);
    const out = this.buf.subarray(this.position, this.position + length);
    this.position += length;
    return out;
  }

  /** varint length + bytes; length -1 is null. */
  nullableBytes(): Buffer | null {
    const length = this.varint();
    if (length === -1) return null;
    if (length < -1) this.fail(`invalid negative length ${length}`);
    return this.bytes(length);
  }
}

/** Encoded size of `value` as a zig-zag varint. */
export function varintSize(value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  let size = 1;
  while (raw >= 0x80) {
    raw >>>= 7;
    size++;
  }
  return size;
}

/** Writes a zig-zag int32 varint at `position`; returns the position after it. */
export function writeVarint(buf: Buffer, position: number, value: number): number {
  let raw = ((value << 1) ^ (value >> 31)) >>> 0;
  while (raw >= 0x80) {
    buf[position++] = (raw & 0x7f) | 0x80;
    raw >>>= 7;
  }
  buf[position++] = raw;
  return position;
}

function zigzag64(value: bigint): bigint {
  return BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
}

export function varlongSize(value: bigint): number {
  let raw = zigzag64(value);
  let size = 1;
  while (raw >= 0x80n) {
    raw >>= 7n;
    size++;
  }
  return size;
}

export function writeVarlong(buf: Buffer, position: number, value: bigint): number {
  let raw = zigzag64(value);
  while (raw >= 0x80n) {
    buf[position++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  buf[position++] = Number(raw);
  return position;
}

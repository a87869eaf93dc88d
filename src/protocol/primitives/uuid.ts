/**
 * Kafka's Uuid in its string form: the 16 bytes (most significant long first) in URL-safe base64
 * without padding, 22 characters, exactly as `org.apache.kafka.common.Uuid#toString` prints it.
 * Keeping uuids as strings lets them be map keys and compared with `===` in handlers.
 */
import { KrillError } from "../../errors.js";

/** The all-zero uuid, Kafka's `Uuid.ZERO_UUID`, the default of every uuid field. */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

/** Kafka's `Uuid.METADATA_TOPIC_ID` (1), reserved for the metadata topic. */
export const METADATA_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";

export const UUID_BYTES = 16;
export const UUID_STRING_LENGTH = 22;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Character code -> 6-bit value, or -1 for characters outside the URL-safe alphabet.
const DECODE_TABLE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

function sextet(s: string, i: number): number {
  const c = s.charCodeAt(i);
  const v = c < 128 ? DECODE_TABLE[c]! : -1;
  if (v < 0) throw invalidUuid(s);
  return v;
}

function invalidUuid(s: string): KrillError {
  return new KrillError(
    "ENCODE_ERROR",
    `invalid uuid ${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}...` : s)}: expected 22 URL-safe base64 characters`,
  );
}

/**
 * Writes the 16 bytes of `s` into `buf` at `offset`. Rejects anything but 22 URL-safe base64
 * characters whose last character carries no bits beyond the 128 (so every accepted string has
 * exactly one byte form and converting back gives the same string).
 */
export function writeUuidBytes(s: string, buf: Buffer, offset: number): void {
  if (typeof s !== "string" || s.length !== UUID_STRING_LENGTH) throw invalidUuid(String(s));
  let o = offset;
  // 20 characters = 5 groups of 4 characters -> 15 bytes.
  for (let i = 0; i < 20; i += 4) {
    const n = (sextet(s, i) << 18) | (sextet(s, i + 1) << 12) | (sextet(s, i + 2) << 6) | sextet(s, i + 3);
    buf[o++] = n >>> 16;
    buf[o++] = (n >>> 8) & 0xff;
    buf[o++] = n & 0xff;
  }
  const a = sextet(s, 20);
  const b = sextet(s, 21);
  if ((b & 0x0f) !== 0) throw invalidUuid(s);
  buf[o] = (a << 2) | (b >>> 4);
}

export function uuidFromBytes(buf: Buffer, offset: number): string {
  return buf.toString("base64url", offset, offset + UUID_BYTES);
}

export function uuidToBuffer(s: string): Buffer {
  const buf = Buffer.allocUnsafe(UUID_BYTES);
  writeUuidBytes(s, buf, 0);
  return buf;
}

export function isValidUuid(s: string): boolean {
  try {
    uuidToBuffer(s);
    return true;
  } catch {
    return false;
  }
}

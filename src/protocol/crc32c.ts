/**
 * CRC-32C (Castagnoli), the checksum of magic-2 record batches. Uses @node-rs/crc32, a native,
 * SIMD/SSE4.2-accelerated implementation shipped as prebuilt binaries; falls back to a
 * table-driven pure-JS implementation (tested against the native one) if the native module
 * cannot load on this platform.
 */
import { createRequire } from "node:module";

type Crc32cFn = (input: Buffer, initial?: number) => number;

const TABLE = (() => {
  const table = new Uint32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  // Slicing-by-8 tables.
  for (let n = 0; n < 256; n++) {
    let c = table[n]!;
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[k * 256 + n] = c >>> 0;
    }
  }
  return table;
})();

/** Pure-JS CRC-32C (slicing-by-8). `initial` is a previous result to continue from. */
export function crc32cJs(input: Uint8Array, initial = 0): number {
  let crc = ~initial >>> 0;
  let i = 0;
  const len = input.length;
  const t = TABLE;
  while (len - i >= 8) {
    crc ^= input[i]! | (input[i + 1]! << 8) | (input[i + 2]! << 16) | (input[i + 3]! << 24);
    const hi = input[i + 4]! | (input[i + 5]! << 8) | (input[i + 6]! << 16) | (input[i + 7]! << 24);
    crc =
      t[7 * 256 + (crc & 0xff)]! ^
      t[6 * 256 + ((crc >>> 8) & 0xff)]! ^
      t[5 * 256 + ((crc >>> 16) & 0xff)]! ^
      t[4 * 256 + (crc >>> 24)]! ^
      t[3 * 256 + (hi & 0xff)]! ^
      t[2 * 256 + ((hi >>> 8) & 0xff)]! ^
      t[256 + ((hi >>> 16) & 0xff)]! ^
      t[hi >>> 24]!;
    i += 8;
  }
  while (i < len) crc = t[(crc ^ input[i++]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

function loadNative(): Crc32cFn | undefined {
  if (process.env.KRILL_CRC32C === "js") return undefined;
  try {
    const require = createRequire(import.meta.url);
    const mod = require("@node-rs/crc32") as { crc32c: (input: Buffer, initial?: number) => number };
    return (input, initial) => mod.crc32c(input, initial ?? 0) >>> 0;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation is in use, for logs and benchmarks. */
export const crc32cImplementation: "native" | "js" = native ? "native" : "js";

/** CRC-32C of `input`, continuing from `initial` (0 to start). */
export const crc32c: (input: Buffer, initial?: number) => number =
  native ?? ((input, initial) => crc32cJs(input, initial ?? 0));

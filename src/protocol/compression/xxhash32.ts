/**
 * xxHash32, used by the LZ4 frame format for its header, block and content checksums. Small
 * inputs only on the hot side (the 2-3 byte frame descriptor); block and content checksums are
 * verified when a frame carries them.
 */
const PRIME1 = 2654435761;
const PRIME2 = 2246822519;
const PRIME3 = 3266489917;
const PRIME4 = 668265263;
const PRIME5 = 374761393;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, PRIME2)) | 0;
  return Math.imul(rotl(acc, 13), PRIME1);
}

export function xxhash32(input: Uint8Array, seed = 0): number {
  const len = input.length;
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    const limit = len - 16;
    while (i <= limit) {
      v1 = round(v1, view.getInt32(i, true));
      v2 = round(v2, view.getInt32(i + 4, true));
      v3 = round(v3, view.getInt32(i + 8, true));
      v4 = round(v4, view.getInt32(i + 12, true));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + len) | 0;
  while (i + 4 <= len) {
    h = Math.imul(rotl((h + Math.imul(view.getInt32(i, true), PRIME3)) | 0, 17), PRIME4);
    i += 4;
  }
  while (i < len) {
    h = Math.imul(rotl((h + Math.imul(input[i]!, PRIME5)) | 0, 11), PRIME1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME3);
  h ^= h >>> 16;
  return h >>> 0;
}

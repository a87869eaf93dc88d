/**
 * xxHash32, used by the LZ4 frame format for its header, block and content checksums. Small
 * inputs only on the hot side (the 2-3 byte frame descriptor); block and content checksums are
 * verified when a frame carries them. `Xxhash32` computes the same digest over input given in
 * pieces, so a frame's content checksum is checked without holding its whole content.
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

/** xxHash32 over input given in pieces: `update` any number of times, then `digest`. */
export class Xxhash32 {
  readonly #seed: number;
  #v1: number;
  #v2: number;
  #v3: number;
  #v4: number;
  /** Bytes of an incomplete 16-byte stripe carried to the next update. */
  readonly #carry = Buffer.alloc(16);
  #carried = 0;
  #length = 0;

  constructor(seed = 0) {
    this.#seed = seed;
    this.#v1 = (seed + PRIME1 + PRIME2) | 0;
    this.#v2 = (seed + PRIME2) | 0;
    this.#v3 = seed | 0;
    this.#v4 = (seed - PRIME1) | 0;
  }

  update(input: Uint8Array): void {
    this.#length += input.length;
    let i = 0;
    if (this.#carried > 0) {
      const take = Math.min(16 - this.#carried, input.length);
      this.#carry.set(input.subarray(0, take), this.#carried);
      this.#carried += take;
      i = take;
      if (this.#carried < 16) return;
      this.#stripe(new DataView(this.#carry.buffer, this.#carry.byteOffset, 16), 0);
      this.#carried = 0;
    }
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    for (; i + 16 <= input.length; i += 16) this.#stripe(view, i);
    if (i < input.length) {
      this.#carry.set(input.subarray(i), 0);
      this.#carried = input.length - i;
    }
  }

  #stripe(view: DataView, at: number): void {
    this.#v1 = round(this.#v1, view.getInt32(at, true));
    this.#v2 = round(this.#v2, view.getInt32(at + 4, true));
    this.#v3 = round(this.#v3, view.getInt32(at + 8, true));
    this.#v4 = round(this.#v4, view.getInt32(at + 12, true));
  }

  digest(): number {
    let h =
      this.#length >= 16
        ? (rotl(this.#v1, 1) + rotl(this.#v2, 7) + rotl(this.#v3, 12) + rotl(this.#v4, 18)) | 0
        : (this.#seed + PRIME5) | 0;
    h = (h + this.#length) | 0;
    const tail = this.#carry;
    const view = new DataView(tail.buffer, tail.byteOffset, 16);
    let i = 0;
    for (; i + 4 <= this.#carried; i += 4) {
      h = Math.imul(rotl((h + Math.imul(view.getInt32(i, true), PRIME3)) | 0, 17), PRIME4);
    }
    for (; i < this.#carried; i++) h = Math.imul(rotl((h + Math.imul(tail[i]!, PRIME5)) | 0, 11), PRIME1);
    h ^= h >>> 15;
    h = Math.imul(h, PRIME2);
    h ^= h >>> 13;
    h = Math.imul(h, PRIME3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}

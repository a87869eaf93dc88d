/**
 * The one source of randomness of the broker. Whatever draws random values (topic ids, member
 * ids, fetch session ids, the broker's incarnation id, and next the quorum's election timeouts)
 * takes a `Random` in its constructor, so a simulation replays a run from one seed.
 *
 * `SYSTEM_RANDOM` draws bytes from the operating system's CSPRNG (ids that must not collide
 * across restarts or nodes) and floats from `Math.random`; `SeededRandom` is deterministic.
 */
import { randomBytes } from "node:crypto";

export interface Random {
  /** A uniform float in [0, 1). */
  nextFloat(): number;
  /** `length` uniform random bytes, in a new buffer. */
  bytes(length: number): Buffer;
}

export const SYSTEM_RANDOM: Random = {
  nextFloat: () => Math.random(),
  bytes: (length) => randomBytes(length),
};

/**
 * A deterministic generator (xoshiro128**, seeded through splitmix32 so that nearby seeds give
 * unrelated sequences). Not for secrets.
 */
export class SeededRandom implements Random {
  readonly seed: number;
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`assertion: a seed is a safe integer, not ${seed}`);
    this.seed = seed;
    let x = (seed ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
  }

  /** A uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.#s1 << 9) >>> 0;
    this.#s2 = (this.#s2 ^ this.#s0) >>> 0;
    this.#s3 = (this.#s3 ^ this.#s1) >>> 0;
    this.#s1 = (this.#s1 ^ this.#s2) >>> 0;
    this.#s0 = (this.#s0 ^ this.#s3) >>> 0;
    this.#s2 = (this.#s2 ^ t) >>> 0;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000;
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4) {
      const word = this.nextUint32();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A uniform integer in [0, bound). */
export function randomInt(random: Random, bound: number): number {
  return Math.floor(random.nextFloat() * bound);
}

/**
 * A random (version 4) UUID in java.util.UUID's text form, as Kafka's classic member ids use
 * (`clientId-<uuid>`).
 */
export function randomUuidText(random: Random): string {
  const b = random.bytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

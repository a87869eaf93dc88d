/**
 * Mutation fuzzing of every generated decoder, shared by the bounded test (fuzz.test.ts) and the
 * longer run (scripts/fuzz-codecs.ts). Valid frames come from the schema arbitraries; each is
 * mutated (byte flips, huge lengths and counts, runaway varints, truncation, splices) and decoded.
 * A decoder may accept or reject with KrillError DECODE_ERROR; anything else (another error, a
 * hang past the time limit) is a failure. Everything is driven by one seed, printed with failures
 * so a run can be replayed.
 */
import fc from "fast-check";
import { isKrillError } from "../../../src/errors.js";
import { Reader } from "../../../src/protocol/primitives/reader.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import { ArbitraryBuilder, type Codec, codecOf, messages, versionsOf } from "./schema-arbitraries.js";

export interface FuzzOptions {
  iterations: number;
  seed: number;
  timeLimitMs: number;
}

export interface FuzzFailure {
  target: string;
  seed: number;
  iteration: number;
  input: string;
  error: string;
}

export interface FuzzReport {
  seed: number;
  decodes: number;
  accepted: number;
  rejected: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

/** xorshift32: small, fast, and reproducible from the seed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function mutate(input: Buffer, next: () => number): Buffer {
  const buf = Buffer.from(input);
  const pos = (): number => (buf.length === 0 ? 0 : next() % buf.length);
  switch (next() % 7) {
    case 0: {
      // Flip a few random bytes.
      const n = 1 + (next() % 4);
      for (let i = 0; i < n && buf.length > 0; i++) buf[pos()] = next() & 0xff;
      return buf;
    }
    case 1: {
      // A huge int32 (count or length) somewhere.
      const p = pos();
      if (p + 4 <= buf.length) buf.writeInt32BE([0x7fffffff, -2, 0x10000000, -1][next() % 4]!, p);
      return buf;
    }
    case 2: {
      // A runaway or maximal unsigned varint (compact count, length, tag).
      const p = pos();
      const varint = Buffer.from([0xff, 0xff, 0xff, 0xff, next() % 2 === 0 ? 0x0f : 0x7f]);
      return Buffer.concat([buf.subarray(0, p), varint, buf.subarray(p)]);
    }
    case 3:
      // Truncate.
      return buf.subarray(0, pos());
    case 4: {
      // Duplicate a slice (repeated structures, shifted fields).
      const a = pos();
      const b = Math.min(buf.length, a + 1 + (next() % 16));
      return Buffer.concat([buf.subarray(0, b), buf.subarray(a, b), buf.subarray(b)]);
    }
    case 5: {
      // Delete a slice.
      const a = pos();
      return Buffer.concat([buf.subarray(0, a), buf.subarray(Math.min(buf.length, a + 1 + (next() % 8)))]);
    }
    default: {
      // Random bytes appended or replacing the tail.
      const extra = Buffer.alloc(1 + (next() % 12));
      for (let i = 0; i < extra.length; i++) extra[i] = next() & 0xff;
      return Buffer.concat([buf.subarray(0, pos()), extra]);
    }
  }
}

interface Target {
  name: string;
  codec: Codec;
  version: number;
  seeds: Buffer[];
}

function buildTargets(seed: number): Target[] {
  const targets: Target[] = [];
  for (const m of messages()) {
    const codec = codecOf(m);
    for (const version of versionsOf(m)) {
      const samples = fc.sample(new ArbitraryBuilder(m, version).message(), {
        numRuns: 2,
        seed: seed + version,
      });
      const seeds = samples.map((msg) => {
        const w = new Writer(64);
        codec.encode(w, msg, version);
        return w.finish();
      });
      targets.push({ name: `${m.name} v${version}`, codec, version, seeds });
    }
  }
  return targets;
}

/** Decodes `input`; returns undefined if it was accepted or rejected properly, else the error text. */
export function decodeChecked(codec: Codec, version: number, input: Buffer): { ok: boolean; error?: string } {
  try {
    codec.decode(new Reader(input), version);
    return { ok: true };
  } catch (err) {
    if (isKrillError(err, "DECODE_ERROR")) return { ok: false };
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

export function runCodecFuzz(options: FuzzOptions): FuzzReport {
  const started = performance.now();
  const next = prng(options.seed);
  const targets = buildTargets(options.seed);
  const report: FuzzReport = {
    seed: options.seed,
    decodes: 0,
    accepted: 0,
    rejected: 0,
    failures: [],
    elapsedMs: 0,
  };
  for (let i = 0; i < options.iterations; i++) {
    if (performance.now() - started > options.timeLimitMs) break;
    const target = targets[next() % targets.length]!;
    const seedFrame = target.seeds[next() % target.seeds.length]!;
    let input = mutate(seedFrame, next);
    if (next() % 3 === 0) input = mutate(input, next);
    const result = decodeChecked(target.codec, target.version, input);
    report.decodes++;
    if (result.error !== undefined) {
      report.failures.push({
        target: target.name,
        seed: options.seed,
        iteration: i,
        input: input.toString("hex"),
        error: result.error,
      });
    } else if (result.ok) {
      report.accepted++;
    } else {
      report.rejected++;
    }
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

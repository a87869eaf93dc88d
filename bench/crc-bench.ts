/**
 * CRC-32C throughput of the implementation Krill uses (src/protocol/crc32c.ts: @node-rs/crc32,
 * native) beside its pure-JS fallback, measured in the same run on 1 KiB, 64 KiB and 1 MiB
 * buffers. Extra candidates can be compared by naming modules that export `calculate(buf)` or
 * `crc32c(buf)`, resolved from a directory outside the repo:
 *
 *   tsx bench/crc-bench.ts [--quick] [--candidates /tmp/crc-candidates sse4_crc32,fast-crc32c]
 *
 * Prints GB/s (10^9 bytes per second) per implementation and size.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { crc32c, crc32cImplementation, crc32cJs } from "../src/protocol/crc32c.js";

type CrcFn = (buf: Buffer) => number;

const quick = process.argv.includes("--quick");
const SIZES = [1024, 64 * 1024, 1024 * 1024];
/** Bytes hashed per measurement: enough for timer resolution, bounded so a run takes seconds. */
const BYTES_PER_RUN = quick ? 64 << 20 : 512 << 20;
const RUNS = quick ? 3 : 5;

const implementations: [string, CrcFn][] = [
  [`krill crc32c (${crc32cImplementation}, @node-rs/crc32)`, (b) => crc32c(b)],
  ["krill crc32cJs (pure-JS fallback, slicing-by-8)", (b) => crc32cJs(b)],
];

const candidatesAt = process.argv.indexOf("--candidates");
if (candidatesAt > 0) {
  const dir = process.argv[candidatesAt + 1];
  const names = (process.argv[candidatesAt + 2] ?? "").split(",").filter(Boolean);
  if (dir === undefined)
    throw new Error("--candidates needs a directory and a comma-separated list of modules");
  const require = createRequire(join(dir, "package.json"));
  for (const name of names) {
    const mod = require(name) as { calculate?: CrcFn; crc32c?: CrcFn };
    const fn = mod.calculate ?? mod.crc32c;
    if (fn === undefined) throw new Error(`${name} exports neither calculate nor crc32c`);
    implementations.push([name, (b) => fn(b) >>> 0]);
  }
}

const check = Buffer.from("123456789");
for (const [name, fn] of implementations) {
  if (fn(check) !== 0xe3069283) throw new Error(`${name} does not compute CRC-32C`);
}

function measure(fn: CrcFn, buf: Buffer): number {
  const iterations = Math.max(1, Math.floor(BYTES_PER_RUN / buf.length));
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 50); i++) sink ^= fn(buf); // warm-up
  let best = 0;
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink ^= fn(buf);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    best = Math.max(best, (iterations * buf.length) / seconds / 1e9);
  }
  if (sink === 0.5) console.log("unreachable"); // keeps the loop from being optimized away
  return best;
}

const buffers = SIZES.map((size) => {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24;
  return buf;
});

const label = (size: number) => (size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`);
console.log(`CRC-32C throughput, GB/s (best of ${RUNS}), node ${process.version}`);
console.log(["implementation".padEnd(52), ...SIZES.map((s) => label(s).padStart(9))].join(""));
for (const [name, fn] of implementations) {
  const row = buffers.map((buf) => measure(fn, buf).toFixed(2).padStart(9));
  console.log([name.padEnd(52), ...row].join(""));
}

/**
 * CRC-32C throughput of the implementation Krill uses (src/protocol/crc32c.ts: @node-rs/crc32,
 * native) beside its pure-JS fallback, measured in the same run on 1 KiB, 64 KiB and 1 MiB
 * buffers. Extra candidates can be compared by naming modules that export `calculate(buf)` or
 * `crc32c(buf)`, resolved from a directory outside the repo:
 *
 *   tsx bench/crc-bench.ts [--quick] [--candidates /tmp/crc-candidates sse4_crc32,fast-crc32c]
 *
 * Prints GB/s (10^9 bytes per second) per implementation and size, and each implementation's
 * median rate relative to Krill's native one measured in the same rounds.
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

/**
 * Rates (GB/s) of every implementation on `buf`: the best round, and the median over rounds of
 * its rate relative to the first implementation in the same round. Rounds interleave the
 * implementations so load from other processes on a shared machine hits them alike.
 */
function measureAll(buf: Buffer): { best: number; relative: number }[] {
  const iterations = Math.max(1, Math.floor(BYTES_PER_RUN / buf.length / 4));
  let sink = 0;
  for (const [, fn] of implementations) for (let i = 0; i < Math.min(iterations, 50); i++) sink ^= fn(buf);
  const rounds: number[][] = [];
  for (let run = 0; run < RUNS * 4; run++) {
    rounds.push(
      implementations.map(([, fn]) => {
        const start = process.hrtime.bigint();
        for (let i = 0; i < iterations; i++) sink ^= fn(buf);
        return (iterations * buf.length) / (Number(process.hrtime.bigint() - start) / 1e9) / 1e9;
      }),
    );
  }
  if (sink === 0.5) console.log("unreachable"); // keeps the loops from being optimized away
  return implementations.map((_, k) => {
    const ratios = rounds.map((r) => r[k]! / r[0]!).sort((x, y) => x - y);
    return { best: Math.max(...rounds.map((r) => r[k]!)), relative: ratios[Math.floor(ratios.length / 2)]! };
  });
}

const buffers = SIZES.map((size) => {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24;
  return buf;
});

const label = (size: number) => (size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`);
const columns = buffers.map((buf) => measureAll(buf));
console.log(
  `CRC-32C throughput, GB/s (best of ${RUNS * 4} interleaved rounds; Nx = median relative to the first row), node ${process.version}`,
);
console.log(["implementation".padEnd(52), ...SIZES.map((s) => label(s).padStart(16))].join(""));
implementations.forEach(([name], k) => {
  const row = columns.map((column) =>
    `${column[k]!.best.toFixed(2)} ${column[k]!.relative.toFixed(2)}x`.padStart(16),
  );
  console.log([name.padEnd(52), ...row].join(""));
});

// The machine's own limits, measured in the same run as the brokers so the broker figures can be
// read against them: sequential write and read of a scratch file on the disk the brokers use
// (dd; the write ends with fdatasync, the read bypasses the page cache with O_DIRECT), and loopback
// TCP throughput between two processes (tcp-loopback.ts).
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";
import { lastLines } from "./parse.js";
import type { MachineLimits } from "./results.js";
import type { RunSizes } from "./workloads.js";

const DD_TIMEOUT_MS = 180_000;
const BLOCK_BYTES = 1 << 20;

/** dd's closing line: "536870912 bytes (537 MB, 512 MiB) copied, 1.23 s, 436 MB/s". */
export function parseDdBytesPerSec(stderr: string): number | null {
  const m = /^(\d+) bytes .* copied, ([0-9.]+) s,/m.exec(stderr);
  if (!m) return null;
  const seconds = Number(m[2]);
  return seconds > 0 ? Number(m[1]) / seconds : null;
}

export async function measureMachine(
  root: string,
  scratchDir: string,
  sizes: RunSizes,
): Promise<MachineLimits> {
  mkdirSync(scratchDir, { recursive: true });
  const file = join(scratchDir, "scratch.bin");
  const count = Math.max(1, Math.floor(sizes.diskScratchBytes / BLOCK_BYTES));
  const limits: MachineLimits = {
    diskWriteMbPerSec: null,
    diskReadMbPerSec: null,
    diskScratchBytes: count * BLOCK_BYTES,
    tcpLoopbackMbPerSec: null,
    errors: [],
    commands: [],
  };
  const mib = 1024 * 1024;
  try {
    const writeArgs = ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${count}`, "conv=fdatasync"];
    limits.commands.push(`dd ${writeArgs.join(" ")}`);
    const w = await run("dd", writeArgs, { timeoutMs: DD_TIMEOUT_MS });
    const wRate = parseDdBytesPerSec(w.stderr);
    if (w.code === 0 && wRate !== null) limits.diskWriteMbPerSec = wRate / mib;
    else limits.errors.push(`disk write: ${lastLines(w.stderr)}`);

    const readArgs = [`if=${file}`, "of=/dev/null", "bs=1M", "iflag=direct"];
    limits.commands.push(`dd ${readArgs.join(" ")}`);
    const r = await run("dd", readArgs, { timeoutMs: DD_TIMEOUT_MS });
    const rRate = parseDdBytesPerSec(r.stderr);
    if (r.code === 0 && rRate !== null) limits.diskReadMbPerSec = rRate / mib;
    else limits.errors.push(`disk read: ${lastLines(r.stderr)}`);
  } finally {
    rmSync(file, { force: true });
  }

  const tcpArgs = [join(root, "bench/src/tcp-loopback.ts"), String(sizes.tcpDurationS)];
  limits.commands.push(`tsx bench/src/tcp-loopback.ts ${sizes.tcpDurationS}`);
  const t = await run("tsx", tcpArgs, { timeoutMs: sizes.tcpDurationS * 1000 + 30_000 });
  const line = t.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (t.code === 0 && line) {
    const parsed = JSON.parse(line.slice(7)) as { mbPerSec: number };
    limits.tcpLoopbackMbPerSec = parsed.mbPerSec;
  } else {
    limits.errors.push(`loopback TCP: ${lastLines(t.stderr + t.stdout)}`);
  }
  return limits;
}

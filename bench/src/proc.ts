// Footprint of a broker process read from /proc (Linux only): resident memory from
// /proc/<pid>/status (VmRSS), CPU time from /proc/<pid>/stat (utime + stime, in clock ticks) and the
// process start time (field 22, clock ticks since boot), so start-up is measured from the moment the
// kernel created the process rather than from when a launcher script began.
import { readFileSync } from "node:fs";

/** USER_HZ: the unit of utime, stime and starttime. 100 on every Linux ABI Node supports. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** utime + stime of the process itself (not its waited-for children), in seconds. */
  cpuSeconds: number;
  /** utime alone (user mode), in seconds. */
  userSeconds: number;
  /** stime alone (kernel mode), in seconds. */
  systemSeconds: number;
  /** Time the process started, in seconds since boot (10 ms resolution). */
  startSecondsSinceBoot: number;
}

/**
 * Parses /proc/<pid>/stat. The second field is the command name in parentheses and may itself hold
 * spaces or parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error("malformed /proc/<pid>/stat: no ')' after the command name");
  // After ") " come fields 3 (state) onwards; utime is field 14, stime 15, starttime 22.
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number): number => {
    const raw = rest[n - 3];
    const value = raw === undefined ? Number.NaN : Number(raw);
    if (!Number.isFinite(value)) throw new Error(`malformed /proc/<pid>/stat: field ${n} is ${raw}`);
    return value;
  };
  return {
    cpuSeconds: (field(14) + field(15)) / CLOCK_TICKS_PER_SECOND,
    userSeconds: field(14) / CLOCK_TICKS_PER_SECOND,
    systemSeconds: field(15) / CLOCK_TICKS_PER_SECOND,
    startSecondsSinceBoot: field(22) / CLOCK_TICKS_PER_SECOND,
  };
}

/** Parses the VmRSS line of /proc/<pid>/status into bytes; null when absent (a zombie has none). */
export function parseVmRssBytes(statusText: string): number | null {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(statusText);
  return match ? Number(match[1]) * 1024 : null;
}

/** Seconds since boot from /proc/uptime (10 ms resolution), the clock starttime is measured on. */
export function uptimeSeconds(): number {
  const first = readFileSync("/proc/uptime", "utf8").split(" ")[0];
  return Number(first);
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

export function readRssBytes(pid: number): number | null {
  try {
    return parseVmRssBytes(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return null;
  }
}

export interface UsageWindow {
  cpuSeconds: number;
  rssBytesMax: number;
  rssBytesMean: number;
  samples: number;
}

/**
 * Samples a process's RSS at a fixed interval between start() and stop(), and its CPU time at
 * both ends. The interval is coarse on purpose: sampling must not cost the broker CPU on a
 * 2-core machine.
 */
export class UsageSampler {
  private timer: NodeJS.Timeout | null = null;
  private cpuAtStart = 0;
  private rssMax = 0;
  private rssSum = 0;
  private samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.cpuAtStart = readProcStat(this.pid)?.cpuSeconds ?? 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): UsageWindow {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const cpuAtEnd = readProcStat(this.pid)?.cpuSeconds ?? this.cpuAtStart;
    return {
      cpuSeconds: cpuAtEnd - this.cpuAtStart,
      rssBytesMax: this.rssMax,
      rssBytesMean: this.samples > 0 ? this.rssSum / this.samples : 0,
      samples: this.samples,
    };
  }

  private sample(): void {
    const rss = readRssBytes(this.pid);
    if (rss === null) return;
    this.rssMax = Math.max(this.rssMax, rss);
    this.rssSum += rss;
    this.samples++;
  }
}

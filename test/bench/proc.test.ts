import { describe, expect, it } from "vitest";
import {
  parseProcStat,
  parseVmRssBytes,
  readProcStat,
  readRssBytes,
  UsageSampler,
} from "../../bench/src/proc.js";

describe("/proc parsing", () => {
  it("counts fields from the last ')' so a command name with spaces and parentheses is harmless", () => {
    // Fields 3.. : state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const fields = [
      "S",
      "1",
      "2",
      "3",
      "0",
      "-1",
      "0",
      "10",
      "0",
      "0",
      "0",
      "250",
      "50",
      "0",
      "0",
      "20",
      "0",
      "1",
      "0",
      "12345",
    ];
    const stat = parseProcStat(`4242 (java (x) y) ${fields.join(" ")} 99 100`);
    expect(stat.cpuSeconds).toBe(3);
    expect(stat.userSeconds).toBe(2.5);
    expect(stat.systemSeconds).toBe(0.5);
    expect(stat.startSecondsSinceBoot).toBe(123.45);
  });

  it("rejects a truncated stat line", () => {
    expect(() => parseProcStat("4242 (node) S 1 2")).toThrow(/field 14/);
    expect(() => parseProcStat("no parenthesis")).toThrow(/command name/);
  });

  it("reads VmRSS in bytes, or null when the process has none", () => {
    expect(parseVmRssBytes("Name:\tnode\nVmRSS:\t  51200 kB\nThreads: 7\n")).toBe(51200 * 1024);
    expect(parseVmRssBytes("Name:\tzombie\nState:\tZ\n")).toBeNull();
  });

  it("reads this very process", () => {
    expect(readRssBytes(process.pid)).toBeGreaterThan(1 << 20);
    const stat = readProcStat(process.pid);
    expect(stat?.cpuSeconds).toBeGreaterThan(0);
    expect(readProcStat(2 ** 22 + 1)).toBeNull();
  });

  it("samples CPU time and peak RSS over a window", async () => {
    const sampler = new UsageSampler(process.pid, 10);
    sampler.start();
    // Burn 150 ms of CPU (not wall-clock: the machine may be busy).
    const cpuAtStart = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(cpuAtStart).user < 150_000) x += Math.sqrt(x + 1);
    await new Promise((r) => setTimeout(r, 30));
    const w = sampler.stop();
    expect(x).toBeGreaterThan(0);
    expect(w.cpuSeconds).toBeGreaterThanOrEqual(0.1);
    expect(w.samples).toBeGreaterThanOrEqual(2);
    expect(w.rssBytesMax).toBeGreaterThanOrEqual(w.rssBytesMean);
  });
});

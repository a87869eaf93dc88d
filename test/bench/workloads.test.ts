import { describe, expect, it } from "vitest";
import {
  consumerWorkloads,
  fullProducerWorkloads,
  latencyBase,
  quickProducerWorkloads,
} from "../../bench/src/workloads.js";

describe("benchmark workloads", () => {
  it("the full matrix is every combination of the issue's settings, once", () => {
    const all = fullProducerWorkloads();
    expect(all).toHaveLength(32);
    expect(new Set(all.map((w) => w.id)).size).toBe(32);
    expect(new Set(all.map((w) => w.acks))).toEqual(new Set(["1", "all"]));
    expect(new Set(all.map((w) => w.batchBytes))).toEqual(new Set([65536, 1048576]));
    expect(new Set(all.map((w) => w.compression))).toEqual(new Set(["none", "lz4"]));
    expect(new Set(all.map((w) => w.partitions))).toEqual(new Set([1, 8]));
    expect(new Set(all.map((w) => w.producers))).toEqual(new Set([1, 4]));
  });

  it("the quick list is part of the full matrix and holds the latency base workload", () => {
    const full = new Set(fullProducerWorkloads().map((w) => w.id));
    const quick = quickProducerWorkloads();
    for (const w of quick) expect(full.has(w.id)).toBe(true);
    expect(quick.map((w) => w.id)).toContain(latencyBase().id);
  });

  it("consumer workloads read topics that a producer workload wrote, groups only on 8 partitions", () => {
    for (const mode of ["quick", "full"] as const) {
      const producers = mode === "quick" ? quickProducerWorkloads() : fullProducerWorkloads();
      const consumers = consumerWorkloads(producers, mode);
      expect(consumers.length).toBeGreaterThanOrEqual(3);
      for (const c of consumers) {
        const source = producers.find((p) => p.id === c.sourceId);
        expect(source).toBeDefined();
        if (c.consumers > 1) expect(source!.partitions).toBeGreaterThanOrEqual(c.consumers);
      }
      expect(consumers.some((c) => c.consumers === 1)).toBe(true);
      expect(consumers.some((c) => c.consumers === 4)).toBe(true);
    }
  });
});

describe("run sizes", () => {
  it("are positive safe integers in both modes (2048 << 20 once overflowed to a negative scratch size)", async () => {
    const { FULL_SIZES, QUICK_SIZES } = await import("../../bench/src/workloads.js");
    for (const sizes of [QUICK_SIZES, FULL_SIZES]) {
      for (const [key, value] of Object.entries(sizes)) {
        if (typeof value !== "number") continue;
        expect(Number.isSafeInteger(value) && value > 0, `${sizes.mode}.${key} = ${value}`).toBe(true);
      }
    }
    expect(FULL_SIZES.diskScratchBytes).toBe(2 * 1024 ** 3);
  });
});

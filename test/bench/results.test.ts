import { describe, expect, it } from "vitest";
import { medianRun } from "../../bench/src/results.js";

const run = (mbPerSec: number | null, tag: string, error: string | null = null) => ({
  ok: error === null,
  error,
  mbPerSec,
  tag,
});

describe("medianRun", () => {
  it("reports the median repetition and keeps every run's MB/s in run order", () => {
    const r = medianRun([run(30, "a"), run(10, "b"), run(20, "c")]);
    expect(r.tag).toBe("c");
    expect(r.samplesMbPerSec).toEqual([30, 10, 20]);
  });

  it("takes the lower middle run of an even count, never the luckier one", () => {
    expect(medianRun([run(40, "a"), run(10, "b")]).tag).toBe("b");
    expect(medianRun([run(4, "a"), run(3, "b"), run(2, "c"), run(1, "d")]).tag).toBe("c");
  });

  it("reports a failed repetition instead of voting it away", () => {
    const r = medianRun([run(30, "a"), run(null, "b", "hit its time limit"), run(20, "c")]);
    expect(r.ok).toBe(false);
    expect(r.tag).toBe("b");
    expect(r.error).toBe("hit its time limit");
    expect(r.samplesMbPerSec).toEqual([30, 20]);
  });

  it("refuses an empty list", () => {
    expect(() => medianRun([])).toThrow(/no runs/);
  });
});

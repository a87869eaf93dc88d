import { afterEach, describe, expect, it, vi } from "vitest";
import { DelayedFetchPurgatory } from "../../../src/server/fetch/delayed-fetch.js";

describe("DelayedFetchPurgatory", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("wakes a waiter when appends bring enough bytes, not before", async () => {
    const p = new DelayedFetchPurgatory();
    let reason: string | undefined;
    const done = p.wait(["t-0", "t-1"], 100, 60_000).then((r) => {
      reason = r;
    });
    p.onAppend("t-0", 60);
    p.onAppend("other-0", 500);
    await Promise.resolve();
    expect(reason).toBeUndefined();
    p.onAppend("t-1", 40);
    await done;
    expect(reason).toBe("bytes");
    expect(p.waiting).toBe(0);
  });

  it("answers at the deadline and on partition events", async () => {
    vi.useFakeTimers();
    const p = new DelayedFetchPurgatory();
    const timed = p.wait(["t-0"], 1, 500);
    vi.advanceTimersByTime(499);
    expect(p.waiting).toBe(1);
    vi.advanceTimersByTime(1);
    expect(await timed).toBe("timeout");
    const evented = p.wait(["t-0"], 1, 500);
    p.onPartitionEvent("t-0");
    expect(await evented).toBe("event");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not wait when there is nothing to wait for, when full, or after shutdown", async () => {
    const p = new DelayedFetchPurgatory({ waitersMax: 1 });
    expect(await p.wait(["a"], 0, 1000)).toBe("bytes");
    expect(await p.wait(["a"], 5, 0)).toBe("timeout");
    const first = p.wait(["a"], 5, 60_000);
    expect(await p.wait(["a"], 5, 60_000)).toBe("overloaded");
    p.shutdown();
    expect(await first).toBe("shutdown");
    expect(await p.wait(["a"], 5, 60_000)).toBe("shutdown");
  });

  it("counts only stable bytes for a read_committed waiter", async () => {
    const p = new DelayedFetchPurgatory();
    let committed: string | undefined;
    let uncommitted: string | undefined;
    const rc = p.wait(["t-0"], 10, 60_000, true).then((r) => {
      committed = r;
    });
    const ru = p.wait(["t-0"], 10, 60_000, false).then((r) => {
      uncommitted = r;
    });
    // Bytes of an open transaction: readable uncommitted, not committed.
    p.onAppend("t-0", 50, 0);
    await ru;
    expect(uncommitted).toBe("bytes");
    expect(committed).toBeUndefined();
    // The marker moved the last stable offset.
    p.onAppend("t-0", 78, Number.POSITIVE_INFINITY);
    await rc;
    expect(committed).toBe("bytes");
  });
});

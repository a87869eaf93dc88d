import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { SeededRandom } from "../../../src/random.js";
import {
  FetchSessionCache,
  type PartitionFetch,
  type PartitionOutcome,
} from "../../../src/server/fetch/fetch-session.js";

function part(topic: string, partition: number, fetchOffset = 0): PartitionFetch {
  return {
    topicId: "AAAAAAAAAAAAAAAAAAAAAA",
    topic,
    partition,
    fetchOffset,
    maxBytes: 1024,
    currentLeaderEpoch: -1,
    lastFetchedEpoch: -1,
    logStartOffset: -1,
  };
}

function outcome(highWatermark: number, recordsBytes = 0): PartitionOutcome {
  return { errorCode: 0, highWatermark, lastStableOffset: highWatermark, logStartOffset: 0, recordsBytes };
}

function newCache(slotsMax = 10) {
  const clock = { now: 1000 };
  const cache = new FetchSessionCache({
    slotsMax,
    evictionMs: 120_000,
    clock: { nowMs: () => clock.now },
    random: new SeededRandom(1),
  });
  return { cache, clock };
}

const base = { usesTopicIds: false, privileged: false, forgotten: [] };

describe("FetchSessionCache", () => {
  it("serves sessionless full fetches without creating sessions", () => {
    const { cache } = newCache();
    const ctx = cache.newContext({ ...base, sessionId: 0, sessionEpoch: -1, partitions: [part("a", 0)] });
    expect(ctx.complete([outcome(5)])).toEqual({ sessionId: 0, included: [0] });
    expect(cache.size).toBe(0);
  });

  it("opens a session on epoch 0 and answers incremental fetches with changed partitions only", () => {
    const { cache } = newCache();
    const full = cache.newContext({
      ...base,
      sessionId: 0,
      sessionEpoch: 0,
      partitions: [part("a", 0), part("a", 1)],
    });
    const { sessionId, included } = full.complete([outcome(5), outcome(7)]);
    expect(sessionId).toBeGreaterThan(0);
    expect(included).toEqual([0, 1]);

    // Nothing changed: the incremental response is empty, but both partitions are still read.
    const inc1 = cache.newContext({ ...base, sessionId, sessionEpoch: 1, partitions: [] });
    expect(inc1.errorCode).toBe(0);
    expect(inc1.partitions.map((p) => p.partition)).toEqual([0, 1]);
    expect(inc1.complete([outcome(5), outcome(7)]).included).toEqual([]);

    // Partition 1 got data: it is included and moves to the end of the order.
    const inc2 = cache.newContext({ ...base, sessionId, sessionEpoch: 2, partitions: [part("a", 1, 7)] });
    expect(inc2.partitions.find((p) => p.partition === 1)?.fetchOffset).toBe(7);
    expect(inc2.complete([outcome(5), outcome(9, 100)]).included).toEqual([1]);

    const inc3 = cache.newContext({
      ...base,
      sessionId,
      sessionEpoch: 3,
      partitions: [],
      forgotten: [part("a", 0)],
    });
    expect(inc3.partitions.map((p) => p.partition)).toEqual([1]);
  });

  it("moves a partition that returned records behind the others", () => {
    const { cache } = newCache();
    const full = cache.newContext({
      ...base,
      sessionId: 0,
      sessionEpoch: 0,
      partitions: [part("a", 0), part("a", 1)],
    });
    const { sessionId } = full.complete([outcome(0), outcome(0)]);
    const inc = cache.newContext({ ...base, sessionId, sessionEpoch: 1, partitions: [] });
    inc.complete([outcome(3, 10), outcome(0)]);
    const next = cache.newContext({ ...base, sessionId, sessionEpoch: 2, partitions: [] });
    expect(next.partitions.map((p) => p.partition)).toEqual([1, 0]);
  });

  it("rejects unknown sessions, wrong epochs and topic-id switches", () => {
    const { cache } = newCache();
    expect(cache.newContext({ ...base, sessionId: 42, sessionEpoch: 1, partitions: [] }).errorCode).toBe(
      ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    );
    const { sessionId } = cache
      .newContext({ ...base, sessionId: 0, sessionEpoch: 0, partitions: [part("a", 0)] })
      .complete([outcome(0)]);
    expect(cache.newContext({ ...base, sessionId, sessionEpoch: 5, partitions: [] }).errorCode).toBe(
      ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    );
    expect(
      cache.newContext({ ...base, usesTopicIds: true, sessionId, sessionEpoch: 1, partitions: [] }).errorCode,
    ).toBe(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    // Epoch -1 closes the session.
    cache.newContext({ ...base, sessionId, sessionEpoch: -1, partitions: [] }).complete([]);
    expect(cache.size).toBe(0);
  });

  it("bounds the cache: evicts stale sessions, then smaller ones for larger, else serves without a session", () => {
    const { cache, clock } = newCache(2);
    const open = (n: number) =>
      cache
        .newContext({
          ...base,
          sessionId: 0,
          sessionEpoch: 0,
          partitions: Array.from({ length: n }, (_, i) => part("t", i)),
        })
        .complete(Array.from({ length: n }, () => outcome(0))).sessionId;
    const a = open(1);
    const b = open(2);
    expect(cache.size).toBe(2);
    expect(open(1)).toBe(0); // not stronger than the weakest: no session
    const c = open(3); // larger than `a`: evicts it
    expect(c).toBeGreaterThan(0);
    expect(cache.sessionPartitions(a)).toBeUndefined();
    expect(cache.sessionPartitions(b)).toBe(2);
    clock.now += 120_001;
    expect(open(1)).toBeGreaterThan(0); // stale sessions go first
    expect(cache.size).toBe(2);
    expect(cache.evictions).toBe(2);
  });
});

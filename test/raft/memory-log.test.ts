import { describe, expect, it } from "vitest";
import { truncateToEndOffset, validateOffsetAndEpoch } from "../../src/raft/log.js";
import { MemoryRaftLog } from "../../src/raft/memory-log.js";
import type { RaftRecord } from "../../src/raft/types.js";

const data = (n: number): RaftRecord[] =>
  Array.from({ length: n }, (_, i) => ({ type: "data", value: Buffer.from(`${i}`) }));

/** Epoch 1: offsets 0-2, epoch 2: 3-4, epoch 4: 5-8. */
function sampleLog(): MemoryRaftLog {
  const log = new MemoryRaftLog();
  log.appendAsLeader(data(3), 1, 0);
  log.appendAsLeader(data(2), 2, 0);
  log.appendAsLeader(data(4), 4, 0);
  return log;
}

describe("MemoryRaftLog", () => {
  it("finds where each epoch ends (the largest epoch at or below the one asked)", () => {
    const log = sampleLog();
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, offset: 3 });
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: 2, offset: 5 });
    expect(log.endOffsetForEpoch(4)).toEqual({ epoch: 4, offset: 9 });
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, offset: 0 });
  });

  it("validates a fetcher's position as Kafka's ReplicatedLog does", () => {
    const log = sampleLog();
    expect(validateOffsetAndEpoch(log, 0, 0)).toEqual({ kind: "valid" });
    expect(validateOffsetAndEpoch(log, 5, 2)).toEqual({ kind: "valid" });
    expect(validateOffsetAndEpoch(log, 7, 4)).toEqual({ kind: "valid" });
    // Epoch 3 never existed here: the fetcher must go back to where epoch 2 ended.
    expect(validateOffsetAndEpoch(log, 6, 3)).toEqual({
      kind: "diverging",
      endOffset: { epoch: 2, offset: 5 },
    });
    // Epoch 1 ended at 3 here, the fetcher has more of it.
    expect(validateOffsetAndEpoch(log, 4, 1)).toEqual({
      kind: "diverging",
      endOffset: { epoch: 1, offset: 3 },
    });
  });

  it("sends a fetcher below the log start to the snapshot", () => {
    const log = sampleLog();
    log.installSnapshot({ offset: 5, epoch: 2 }, Buffer.from("state"));
    expect(log.startOffset()).toBe(5);
    expect(log.read(5, 1 << 20)[0]?.baseOffset).toBe(5);
    expect(validateOffsetAndEpoch(log, 2, 1)).toEqual({
      kind: "snapshot",
      snapshotId: { offset: 5, epoch: 2 },
    });
    expect(validateOffsetAndEpoch(log, 7, 1)).toEqual({
      kind: "snapshot",
      snapshotId: { offset: 5, epoch: 2 },
    });
    expect(validateOffsetAndEpoch(log, 7, 4)).toEqual({ kind: "valid" });
  });

  it("truncates to the end of the leader's epoch", () => {
    const log = sampleLog();
    expect(truncateToEndOffset(log, { epoch: 2, offset: 4 })).toBe(4);
    expect(log.endOffset()).toBe(4);
    expect(log.lastFetchedEpoch()).toBe(2);
    expect(truncateToEndOffset(log, { epoch: 0, offset: 0 })).toBe(0);
    expect(log.endOffset()).toBe(0);
  });

  it("keeps only what was flushed across a crash, and nothing a lying disk acknowledged", () => {
    const log = new MemoryRaftLog();
    log.appendAsLeader(data(2), 1, 0);
    log.flush();
    log.appendAsLeader(data(3), 1, 0);
    expect(log.endOffset()).toBe(5);
    log.crash();
    expect(log.endOffset()).toBe(2);
    log.lyingDisk = true;
    log.appendAsLeader(data(3), 1, 0);
    log.flush();
    expect(log.flushedEndOffset()).toBe(5);
    log.crash();
    expect(log.endOffset()).toBe(2);
  });
});

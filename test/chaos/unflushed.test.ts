import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeSchedule } from "../../chaos/src/schedule.js";
import { durableSizes, loseUnflushed } from "../../chaos/src/unflushed.js";
import { DEFAULT_LOG_CONFIG } from "../../src/log/config.js";
import { FilePool } from "../../src/log/file-pool.js";
import { PartitionLog } from "../../src/log/partition-log.js";
import { ManualClock, simpleBatch, tempDir } from "../log/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function open(dir: string, hadCleanShutdown: boolean): PartitionLog {
  return PartitionLog.open({
    dir,
    topicPartition: { topic: "t", partition: 0 },
    config: DEFAULT_LOG_CONFIG,
    pool: new FilePool(16),
    clock: new ManualClock(),
    hadCleanShutdown,
  });
}

describe("losing a node's unflushed data (chaos rig)", () => {
  it("reads the journal: the last size recorded for each file wins", () => {
    const sizes = durableSizes("10\t/a.log\n\ngarbage\n20\t/b.log\n30\t/a.log\n-1\t/c.log\n");
    expect([...sizes]).toEqual([
      ["/a.log", 30],
      ["/b.log", 20],
    ]);
  });

  it("cuts a log back to what fsync made durable, and recovery keeps exactly the flushed batches", async () => {
    const root = tempDir();
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const journal = path.join(root, "fsync-journal");
    const previous = process.env.KRILL_TEST_FSYNC_JOURNAL;
    process.env.KRILL_TEST_FSYNC_JOURNAL = journal;
    cleanups.push(() => {
      if (previous === undefined) delete process.env.KRILL_TEST_FSYNC_JOURNAL;
      else process.env.KRILL_TEST_FSYNC_JOURNAL = previous;
    });
    const dir = path.join(root, "data", "t-0");
    const log = open(dir, true);
    const leader = { assignOffsets: true, leaderEpoch: 0 };
    for (let i = 0; i < 5; i++) log.append(simpleBatch(2, 100), leader);
    await log.flush();
    const flushedEnd = log.logEndOffset;
    for (let i = 0; i < 3; i++) log.append(simpleBatch(2, 100), leader);
    expect(log.logEndOffset).toBeGreaterThan(flushedEnd);
    // A crash: the process stops without closing, then the unflushed tail is lost.
    const segment = path.join(dir, "00000000000000000000.log");
    const before = fs.statSync(segment).size;
    const cut = loseUnflushed(path.join(root, "data"), journal);
    expect(cut).toHaveLength(1);
    expect(cut[0]).toMatchObject({ file: segment, from: before });
    expect(cut[0]!.to).toBeLessThan(before);
    const reopened = open(dir, false);
    expect(reopened.logEndOffset).toBe(flushedEnd);
    await reopened.close();
  });

  it("empties a segment that was never fsynced", () => {
    const root = tempDir();
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const file = path.join(root, "t-0", "00000000000000000000.log");
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, Buffer.alloc(100));
    fs.writeFileSync(path.join(root, "t-0", "00000000000000000000.index"), Buffer.alloc(100));
    expect(loseUnflushed(root, path.join(root, "no-journal"))).toEqual([{ file, from: 100, to: 0 }]);
    expect(fs.statSync(file).size).toBe(0);
  });

  it("is scheduled like a kill: each one is followed by the same node's restart", () => {
    const schedule = makeSchedule({ seed: 7, steps: 200, nodes: [1, 2, 3], faults: ["lose-unflushed"] });
    const losses = schedule.filter((s) => s.fault.kind === "lose-unflushed");
    expect(losses.length).toBeGreaterThan(5);
    for (const loss of losses) {
      const node = (loss.fault as { node: number }).node;
      const restart = schedule.find(
        (s) => s.step > loss.step && s.fault.kind === "restart" && s.fault.node === node,
      );
      expect(restart).toBeDefined();
    }
  });
});

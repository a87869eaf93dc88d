import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  readCheckpointLines,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
  writeOffsetCheckpointAsync,
} from "../../src/log/checkpoint.js";
import { LeaderEpochCache } from "../../src/log/leader-epoch-cache.js";
import { tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = tempDir("krill-ckpt-");
  dirs.push(d);
  return d;
}

describe("offset checkpoints", () => {
  it("round-trip in Kafka's text format", () => {
    const file = path.join(dir(), "recovery-point-offset-checkpoint");
    writeOffsetCheckpoint(
      file,
      new Map([
        ["a-0", { tp: { topic: "a", partition: 0 }, offset: 42 }],
        ["my-topic-3", { tp: { topic: "my-topic", partition: 3 }, offset: 7 }],
      ]),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("0\n2\na 0 42\nmy-topic 3 7\n");
    expect([...readOffsetCheckpoint(file)]).toEqual([
      ["a-0", 42],
      ["my-topic-3", 7],
    ]);
    expect(readOffsetCheckpoint(path.join(dir(), "missing")).size).toBe(0);
  });

  it("writes the same file off the event loop, replacing the old one and leaving no temporary file", async () => {
    const d = dir();
    const file = path.join(d, "replication-offset-checkpoint");
    writeOffsetCheckpoint(file, new Map([["a-0", { tp: { topic: "a", partition: 0 }, offset: 1 }]]));
    await writeOffsetCheckpointAsync(
      file,
      new Map([
        ["a-0", { tp: { topic: "a", partition: 0 }, offset: 42 }],
        ["my-topic-3", { tp: { topic: "my-topic", partition: 3 }, offset: 7 }],
      ]),
    );
    expect(fs.readFileSync(file, "utf8")).toBe("0\n2\na 0 42\nmy-topic 3 7\n");
    expect(fs.readdirSync(d)).toEqual(["replication-offset-checkpoint"]);
    await expect(
      writeOffsetCheckpointAsync(path.join(d, "missing-dir", "x"), new Map()),
    ).rejects.toMatchObject({ code: "LOG_IO" });
  });

  it("rejects malformed files with CORRUPT_SEGMENT", () => {
    const d = dir();
    const cases = ["1\n0\n", "0\n2\na 0 1\n", "0\n1\na zero 1\n", "0\nx\n", ""];
    for (const [i, text] of cases.entries()) {
      const file = path.join(d, `c${i}`);
      fs.writeFileSync(file, text);
      expect(() => readOffsetCheckpoint(file), JSON.stringify(text)).toThrow(
        expect.objectContaining({ code: "CORRUPT_SEGMENT" }),
      );
    }
    expect(readCheckpointLines(path.join(d, "nope"))).toBeUndefined();
  });
});

describe("LeaderEpochCache", () => {
  it("answers OffsetForLeaderEpoch as Kafka's LeaderEpochFileCache", () => {
    const file = path.join(dir(), "leader-epoch-checkpoint");
    const cache = new LeaderEpochCache(file);
    cache.assign(1, 0);
    cache.assign(3, 10);
    cache.assign(5, 20);
    // Assignments stay in memory until the owner flushes (off the append path).
    expect(fs.existsSync(file)).toBe(false);
    expect(cache.needsFlush).toBe(true);
    cache.flushIfDirty();
    expect(cache.needsFlush).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe("0\n3\n1 0\n3 10\n5 20\n");
    const leo = 30;
    expect(cache.endOffsetFor(5, leo)).toEqual({ epoch: 5, endOffset: 30 });
    expect(cache.endOffsetFor(4, leo)).toEqual({ epoch: 3, endOffset: 20 });
    expect(cache.endOffsetFor(3, leo)).toEqual({ epoch: 3, endOffset: 20 });
    expect(cache.endOffsetFor(0, leo)).toEqual({ epoch: 0, endOffset: 0 });
    expect(cache.endOffsetFor(6, leo)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.endOffsetFor(-1, leo)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.epochForOffset(15)).toBe(3);
    expect(cache.epochForOffset(25)).toBe(5);
  });

  it("writes assigned epochs with the fsync off the event loop, never over a newer truncation", async () => {
    const file = path.join(dir(), "leader-epoch-checkpoint");
    const cache = new LeaderEpochCache(file);
    const fsynced: string[] = [];
    const fsync = async (f: string) => {
      fsynced.push(path.basename(f));
    };
    expect(await cache.flushIfDirtyAsync(fsync)).toBe(false); // nothing assigned
    cache.assign(1, 0);
    cache.assign(2, 5);
    expect(await cache.flushIfDirtyAsync(fsync)).toBe(true);
    expect(fsynced).toEqual(["leader-epoch-checkpoint.flush.tmp"]);
    expect(fs.readFileSync(file, "utf8")).toBe("0\n2\n1 0\n2 5\n");
    // A truncation written while the asynchronous write waits for its fsync wins.
    cache.assign(3, 9);
    let release = () => {};
    const slow = (f: string) => {
      fsynced.push(path.basename(f));
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    const pending = cache.flushIfDirtyAsync(slow);
    cache.truncateFromEnd(5);
    release();
    expect(await pending).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe("0\n1\n1 0\n");
    expect(fs.existsSync(`${file}.flush.tmp`)).toBe(false);
    // A failed fsync leaves the epochs to the next flush.
    cache.assign(4, 6);
    await expect(cache.flushIfDirtyAsync(() => Promise.reject(new Error("EIO")))).rejects.toMatchObject({
      code: "LOG_IO",
    });
    expect(cache.needsFlush).toBe(true);
    expect(await cache.flushIfDirtyAsync(fsync)).toBe(true);
    expect(LeaderEpochCache.load(file).epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 4, startOffset: 6 },
    ]);
  });

  it("truncates from the end and the start, drops conflicting entries, and reloads", () => {
    const file = path.join(dir(), "leader-epoch-checkpoint");
    const cache = new LeaderEpochCache(file);
    cache.assign(1, 0);
    cache.assign(2, 10);
    cache.assign(3, 20);
    cache.truncateFromEnd(15);
    expect(cache.epochEntries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
    cache.truncateFromStart(12);
    expect(cache.epochEntries()).toEqual([{ epoch: 2, startOffset: 12 }]);
    // A new leader epoch whose start overlaps later entries replaces them.
    cache.assign(4, 30);
    cache.assign(5, 25);
    expect(cache.epochEntries()).toEqual([
      { epoch: 2, startOffset: 12 },
      { epoch: 5, startOffset: 25 },
    ]);
    // Truncations are written at once; the later assignments wait for a flush.
    expect(LeaderEpochCache.load(file).epochEntries()).toEqual([{ epoch: 2, startOffset: 12 }]);
    cache.flushIfDirty();
    expect(LeaderEpochCache.load(file).epochEntries()).toEqual(cache.epochEntries());
    fs.writeFileSync(file, "0\n2\n5 10\n3 20\n");
    expect(() => LeaderEpochCache.load(file)).toThrow(expect.objectContaining({ code: "CORRUPT_SEGMENT" }));
  });
});

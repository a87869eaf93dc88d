import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { logConfigFrom } from "../../src/log/config.js";
import { LogManager, type StartupReport } from "../../src/log/log-manager.js";
import { ManualClock, parseBatches, simpleBatch, tempDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = tempDir("krill-lm-");
  dirs.push(d);
  return d;
}

const leader = { assignOffsets: true, leaderEpoch: 1 };

describe("LogManager", () => {
  it("creates partition logs in Kafka's layout and restarts cleanly", async () => {
    const logDir = newDir();
    const lm = new LogManager({ logDirs: [logDir] });
    const first = lm.startup();
    expect(first.partitions).toBe(0);
    const a = lm.getOrCreateLog({ topic: "orders", partition: 0 });
    const b = lm.getOrCreateLog({ topic: "orders", partition: 1 });
    expect(lm.getOrCreateLog({ topic: "orders", partition: 0 })).toBe(a);
    a.append(simpleBatch(3), leader);
    b.append(simpleBatch(2), leader);
    b.append(simpleBatch(2), { assignOffsets: true, leaderEpoch: 4 });
    await lm.shutdown();

    expect(fs.existsSync(path.join(logDir, ".kafka_cleanshutdown"))).toBe(true);
    expect(
      fs.readFileSync(path.join(logDir, "recovery-point-offset-checkpoint"), "utf8").split("\n").sort(),
    ).toEqual(["", "0", "2", "orders 0 3", "orders 1 4"].sort());
    expect(fs.readFileSync(path.join(logDir, "orders-1", "leader-epoch-checkpoint"), "utf8")).toBe(
      "0\n2\n1 0\n4 2\n",
    );
    expect(fs.readdirSync(path.join(logDir, "orders-0")).sort()).toEqual([
      "00000000000000000000.index",
      "00000000000000000000.log",
      "00000000000000000000.timeindex",
      "leader-epoch-checkpoint",
    ]);

    const lm2 = new LogManager({ logDirs: [logDir] });
    const report = lm2.startup();
    expect(report).toMatchObject({ state: "clean", partitions: 2, recoveredSegments: 0 });
    expect(fs.existsSync(path.join(logDir, ".kafka_cleanshutdown"))).toBe(false);
    expect(lm2.getLog({ topic: "orders", partition: 0 })?.logEndOffset).toBe(3);
    const b2 = lm2.getLog({ topic: "orders", partition: 1 })!;
    expect(b2.logEndOffset).toBe(4);
    expect(b2.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 2 });
    await lm2.shutdown();
  });

  it("recovers after an unclean shutdown", async () => {
    const logDir = newDir();
    const lm = new LogManager({ logDirs: [logDir] });
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "t", partition: 0 });
    for (let i = 0; i < 5; i++) log.append(simpleBatch(2, 30), leader);
    // Crash: no shutdown, and a torn write at the end of the active segment.
    lm.pool.closeAll();
    fs.appendFileSync(path.join(logDir, "t-0", "00000000000000000000.log"), Buffer.alloc(33, 7));
    const lm2 = new LogManager({ logDirs: [logDir] });
    const report = lm2.startup();
    expect(report.state).toBe("unclean");
    expect(report.recoveredSegments).toBe(1);
    expect(report.truncatedBytes).toBe(33);
    expect(report.repaired).toHaveLength(1);
    const again = lm2.getLog({ topic: "t", partition: 0 })!;
    expect(again.logEndOffset).toBe(10);
    expect(parseBatches(again.read(0, 1 << 20).records)).toHaveLength(5);
    await lm2.shutdown();
  });

  it("after an unclean shutdown validates only the segments after the recovery point", async () => {
    const logDir = newDir();
    const config = logConfigFrom({ "segment.bytes": "500" });
    const lm = new LogManager({ logDirs: [logDir], defaultConfig: config });
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "rp", partition: 0 });
    for (let i = 0; i < 30; i++) log.append(simpleBatch(1, 60), leader);
    await log.flush();
    lm.writeCheckpoints();
    const segments = log.numberOfSegments;
    expect(segments).toBeGreaterThan(5);
    lm.pool.closeAll(); // crash
    const lm2 = new LogManager({ logDirs: [logDir], defaultConfig: config });
    const report = lm2.startup();
    expect(report.state).toBe("unclean");
    expect(report.segments).toBe(segments);
    expect(report.recoveredSegments).toBe(1);
    expect(lm2.getLog({ topic: "rp", partition: 0 })?.logEndOffset).toBe(30);
    await lm2.shutdown();
  });

  it("keeps the log start offset across restarts", async () => {
    const logDir = newDir();
    const lm = new LogManager({ logDirs: [logDir] });
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "t", partition: 0 });
    for (let i = 0; i < 5; i++) log.append(simpleBatch(2), leader);
    log.deleteRecordsBefore(7);
    await lm.shutdown();
    const lm2 = new LogManager({ logDirs: [logDir] });
    lm2.startup();
    expect(lm2.getLog({ topic: "t", partition: 0 })?.logStartOffset).toBe(7);
    await lm2.shutdown();
  });

  it("bounds open file descriptors across many partitions", async () => {
    const logDir = newDir();
    const lm = new LogManager({ logDirs: [logDir], maxOpenFiles: 16 });
    lm.startup();
    for (let p = 0; p < 200; p++) {
      const log = lm.getOrCreateLog({ topic: "many", partition: p });
      log.append(simpleBatch(1), leader);
      expect(lm.pool.openCount).toBeLessThanOrEqual(16);
    }
    for (let p = 0; p < 200; p++) {
      const log = lm.getLog({ topic: "many", partition: p })!;
      expect(parseBatches(log.read(0, 1000).records)).toHaveLength(1);
      log.append(simpleBatch(1), leader);
    }
    expect(lm.pool.openCount).toBeLessThanOrEqual(16);
    // Reads of every partition: descriptors stay within the pool's bound, every read gets its data.
    const reads = Array.from({ length: 200 }, (_, p) =>
      lm.getLog({ topic: "many", partition: p })!.read(0, 1 << 20),
    );
    expect(reads.every((r) => parseBatches(r.records).length === 2)).toBe(true);
    expect(lm.pool.openCount).toBeLessThanOrEqual(16);
    await lm.shutdown();
    expect(lm.pool.openCount).toBe(0);
  });

  it("runs retention with the injected clock and applies runtime config changes", async () => {
    const logDir = newDir();
    const clock = new ManualClock();
    const lm = new LogManager({
      logDirs: [logDir],
      clock,
      defaultConfig: logConfigFrom({ "segment.bytes": "400" }),
    });
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "r", partition: 0 });
    for (let i = 0; i < 12; i++) log.append(simpleBatch(1, 50, clock.now), leader);
    clock.advance(10_000);
    expect(lm.runRetention()).toBe(0); // default retention.ms is 7 days
    lm.setTopicConfig("r", logConfigFrom({ "segment.bytes": "400", "retention.ms": "5000" }));
    expect(lm.runRetention()).toBeGreaterThan(0);
    expect(log.numberOfSegments).toBe(1);
    await lm.shutdown();
  });

  it("deletes a partition's directory", async () => {
    const logDir = newDir();
    const lm = new LogManager({ logDirs: [logDir] });
    lm.startup();
    const log = lm.getOrCreateLog({ topic: "gone", partition: 0 });
    log.append(simpleBatch(1), leader);
    await lm.deleteLog({ topic: "gone", partition: 0 });
    expect(lm.getLog({ topic: "gone", partition: 0 })).toBeUndefined();
    expect(fs.readdirSync(logDir).filter((n) => n.startsWith("gone"))).toEqual([]);
    await lm.shutdown();
  });

  it("spreads partitions over several log dirs", async () => {
    const d1 = newDir();
    const d2 = newDir();
    const lm = new LogManager({ logDirs: [d1, d2] });
    lm.startup();
    for (let p = 0; p < 4; p++)
      lm.getOrCreateLog({ topic: "s", partition: p }).append(simpleBatch(1), leader);
    await lm.shutdown();
    expect(fs.readdirSync(d1).filter((n) => n.startsWith("s-"))).toHaveLength(2);
    expect(fs.readdirSync(d2).filter((n) => n.startsWith("s-"))).toHaveLength(2);
    const lm2 = new LogManager({ logDirs: [d1, d2] });
    expect(lm2.startup().partitions).toBe(4);
    await lm2.shutdown();
  });

  it("rejects invalid topic names before they reach the filesystem", () => {
    const lm = new LogManager({ logDirs: [newDir()] });
    lm.startup();
    expect(() => lm.getOrCreateLog({ topic: "../evil", partition: 0 })).toThrow(
      expect.objectContaining({ code: "STATE" }),
    );
  });
  it("leaves the metadata log, stray, future and non-partition folders alone", async () => {
    const logDir = newDir();
    const foreign = [
      "__cluster_metadata-0",
      "orders-0.abc-stray",
      "orders-1.abc-future",
      "bad topic-0",
      "x-y",
    ];
    for (const name of foreign) {
      fs.mkdirSync(path.join(logDir, name));
      fs.writeFileSync(path.join(logDir, name, "marker"), "keep");
    }
    fs.mkdirSync(path.join(logDir, "orders-0"));
    const lm = new LogManager({ logDirs: [logDir] });
    expect(lm.startup().partitions).toBe(1);
    expect(lm.allLogs().map((l) => l.topicPartition)).toEqual([{ topic: "orders", partition: 0 }]);
    expect(() => lm.getOrCreateLog({ topic: "__cluster_metadata", partition: 0 })).toThrow(
      expect.objectContaining({ code: "STATE" }),
    );
    await lm.shutdown();
    for (const name of foreign) expect(fs.readdirSync(path.join(logDir, name))).toEqual(["marker"]);
    const checkpoint = fs.readFileSync(path.join(logDir, "recovery-point-offset-checkpoint"), "utf8");
    expect(checkpoint).toBe("0\n1\norders 0 0\n");
  });
});

describe("LogManager startup state", () => {
  /** Starts a manager on `logDirs`, returning its report and the messages it logged. */
  function start(logDirs: string[]): { lm: LogManager; report: StartupReport; messages: string[] } {
    const messages: string[] = [];
    const events = {
      info: (_: object, m: string) => messages.push(m),
      warn: (_: object, m: string) => messages.push(m),
    };
    const lm = new LogManager({ logDirs, events });
    return { lm, report: lm.startup(), messages };
  }

  /** Leaves `logDir` as a crash would: a partition with data and no clean-shutdown marker. */
  function crashWithData(logDir: string): void {
    const { lm } = start([logDir]);
    lm.getOrCreateLog({ topic: "t", partition: 0 }).append(simpleBatch(2), leader);
    lm.pool.closeAll();
  }

  it("reports a first start in an empty folder as empty, not as an unclean shutdown", async () => {
    const logDir = newDir();
    const { lm, report, messages } = start([logDir]);
    expect(report).toMatchObject({ state: "empty", partitions: 0, recoveredSegments: 0, repaired: [] });
    expect(messages).toEqual(["no partition logs to load: fresh start"]);
    await lm.shutdown();
  });

  it("reports empty when only folders it does not own are there (the metadata log's first start)", async () => {
    const logDir = newDir();
    fs.mkdirSync(path.join(logDir, "__cluster_metadata-0"));
    fs.writeFileSync(path.join(logDir, "meta.properties"), "version=1\n");
    const { lm, report, messages } = start([logDir]);
    expect(report.state).toBe("empty");
    expect(messages).toEqual(["no partition logs to load: fresh start"]);
    await lm.shutdown();
  });

  it("reports empty after a crash or a clean shutdown of a broker that held no partition", async () => {
    const logDir = newDir();
    start([logDir]).lm.pool.closeAll(); // crash: no marker, no partitions
    expect(fs.existsSync(path.join(logDir, ".kafka_cleanshutdown"))).toBe(false);
    const afterCrash = start([logDir]);
    expect(afterCrash.report.state).toBe("empty");
    await afterCrash.lm.shutdown();
    expect(fs.existsSync(path.join(logDir, ".kafka_cleanshutdown"))).toBe(true);
    const afterClean = start([logDir]);
    expect(afterClean.report.state).toBe("empty");
    await afterClean.lm.shutdown();
  });

  it("reports clean after a clean shutdown", async () => {
    const logDir = newDir();
    const first = start([logDir]);
    first.lm.getOrCreateLog({ topic: "t", partition: 0 }).append(simpleBatch(2), leader);
    await first.lm.shutdown();
    const { lm, report, messages } = start([logDir]);
    expect(report).toMatchObject({ state: "clean", partitions: 1, recoveredSegments: 0 });
    expect(messages).toEqual(["loaded logs"]);
    await lm.shutdown();
  });

  it("reports unclean after a crash with partitions present", async () => {
    const logDir = newDir();
    crashWithData(logDir);
    const { lm, report, messages } = start([logDir]);
    expect(report).toMatchObject({ state: "unclean", partitions: 1, recoveredSegments: 1 });
    expect(messages).toEqual(["loaded logs after unclean shutdown"]);
    expect(lm.getLog({ topic: "t", partition: 0 })?.logEndOffset).toBe(2);
    await lm.shutdown();
  });

  it("across log dirs, a crashed dir makes the start unclean and an empty dir changes nothing", async () => {
    const crashed = newDir();
    crashWithData(crashed);
    const unclean = start([crashed, newDir()]);
    expect(unclean.report.state).toBe("unclean");
    await unclean.lm.shutdown();

    const cleanDir = newDir();
    const first = start([cleanDir]);
    first.lm.getOrCreateLog({ topic: "t", partition: 0 }).append(simpleBatch(2), leader);
    await first.lm.shutdown();
    const clean = start([newDir(), cleanDir]);
    expect(clean.report.state).toBe("clean");
    await clean.lm.shutdown();

    const crashedAgain = newDir();
    crashWithData(crashedAgain);
    const cleanAgain = newDir();
    const second = start([cleanAgain]);
    second.lm.getOrCreateLog({ topic: "u", partition: 0 }).append(simpleBatch(1), leader);
    await second.lm.shutdown();
    const mixed = start([cleanAgain, crashedAgain]);
    expect(mixed.report.state).toBe("unclean");
    await mixed.lm.shutdown();
  });
});

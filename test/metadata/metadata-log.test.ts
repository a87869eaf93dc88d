import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SYSTEM_CLOCK } from "../../src/clock.js";
import { isKrillError } from "../../src/errors.js";
import { MetadataImage } from "../../src/metadata/image.js";
import { LocalMetadataLog } from "../../src/metadata/local-metadata-log.js";
import { METADATA_DIR_NAME } from "../../src/metadata/metadata-log.js";
import { metadataRecordSerde } from "../../src/metadata/record-serde.js";
import type { MetadataRecord } from "../../src/metadata/records.js";
import { decodeLeaderChangeMessage } from "../../src/protocol/generated/leader-change-message.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { ControlRecordType, parseControlRecordKey } from "../../src/protocol/records/control-records.js";
import { buildRecordBatch, decodeRecordBatches } from "../../src/protocol/records/record-batch.js";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-mlog-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const TOPIC_ID = "AbCdEfGhIjKlMnOpQrStUg";
const sample: MetadataRecord[] = [
  { type: "FeatureLevel", data: { name: "metadata.version", featureLevel: 25 } },
  {
    type: "RegisterBroker",
    data: {
      brokerId: 1,
      incarnationId: "zZzZzZzZzZzZzZzZzZzZzQ",
      brokerEpoch: 1n,
      endPoints: [{ name: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: 0 }],
      features: [{ name: "metadata.version", minSupportedVersion: 7, maxSupportedVersion: 25 }],
      rack: null,
      fenced: false,
      inControlledShutdown: false,
      logDirs: [],
    },
  },
  { type: "Topic", data: { name: "t", topicId: TOPIC_ID } },
  {
    type: "Partition",
    data: {
      partitionId: 0,
      topicId: TOPIC_ID,
      replicas: [1],
      isr: [1],
      leader: 1,
      leaderEpoch: 0,
      partitionEpoch: 0,
      leaderRecoveryState: 0,
    },
  },
  { type: "Config", data: { resourceType: 2, resourceName: "t", name: "retention.ms", value: "5" } },
  { type: "PartitionChange", data: { partitionId: 0, topicId: TOPIC_ID, leader: 1 } },
  { type: "ProducerIds", data: { brokerId: 1, brokerEpoch: 1n, nextProducerId: 1000n } },
];

function replay(entries: readonly { offset: number; record: MetadataRecord }[]): MetadataImage {
  let image = MetadataImage.EMPTY;
  for (const e of entries) image = image.apply([e.record], e.offset);
  return image;
}

describe("metadata record serde", () => {
  it("round-trips every record type Krill writes", () => {
    for (const r of sample) expect(metadataRecordSerde.decode(metadataRecordSerde.encode(r))).toEqual(r);
  });

  it("rejects garbage without crashing (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          metadataRecordSerde.decode(Buffer.from(bytes));
        } catch (err) {
          expect(isKrillError(err)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** The batches of the metadata log's only segment. */
function segmentBatches(dir: string) {
  const bytes = readFileSync(path.join(dir, METADATA_DIR_NAME, "00000000000000000000.log"));
  return decodeRecordBatches(bytes, { decompressedBytesMax: 1 << 20 });
}

function controlType(batch: { isControl: boolean; records: { key: Buffer | null }[] }): number | undefined {
  return batch.isControl ? parseControlRecordKey(batch.records[0]!.key).type : undefined;
}

describe("LocalMetadataLog", () => {
  it("writes Kafka's layout: segments, a LeaderChange first, every batch with its leader epoch", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger, SYSTEM_CLOCK, 7);
    const loaded = await log.open();
    expect(loaded.epoch).toBe(1);
    expect(await log.propose(sample.slice(0, 3))).toBe(3);
    expect(await log.propose(sample.slice(3, 4))).toBe(4);
    await log.close();
    const files = readdirSync(path.join(dir, METADATA_DIR_NAME)).sort();
    expect(files).toEqual([
      "00000000000000000000.index",
      "00000000000000000000.log",
      "00000000000000000000.timeindex",
      "leader-epoch-checkpoint",
    ]);
    const batches = segmentBatches(dir);
    expect(
      batches.map((b) => [b.header.baseOffset, b.records.length, b.header.partitionLeaderEpoch]),
    ).toEqual([
      [0n, 1, 1],
      [1n, 3, 1],
      [4n, 1, 1],
    ]);
    expect(controlType(batches[0]!)).toBe(ControlRecordType.LEADER_CHANGE);
    const leaderChange = decodeLeaderChangeMessage(new Reader(batches[0]!.records[0]!.value!), 0);
    expect(leaderChange).toMatchObject({
      leaderId: 7,
      voters: [{ voterId: 7 }],
      grantingVoters: [{ voterId: 7 }],
    });
    expect(metadataRecordSerde.decode(batches[2]!.records[0]!.value!)).toEqual(sample[3]);
    // The next start is the next epoch.
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger, SYSTEM_CLOCK, 7);
    expect((await again.open()).epoch).toBe(2);
    await again.propose(sample.slice(4, 5));
    await again.close();
    expect(segmentBatches(dir).map((b) => [b.header.baseOffset, b.header.partitionLeaderEpoch])).toEqual([
      [0n, 1],
      [1n, 1],
      [4n, 1],
      [5n, 2],
      [6n, 2],
    ]);
  });

  it("replays what was appended, control batches skipped", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    expect((await log.open()).entries).toEqual([]);
    expect(await log.propose(sample.slice(0, 4))).toBe(4);
    expect(await log.propose(sample.slice(4))).toBe(7);
    await log.close();
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    expect(loaded.entries.map((e) => e.record)).toEqual(sample);
    expect(loaded.entries.map((e) => e.offset)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // 8 is this start's LeaderChange.
    expect(loaded.nextOffset).toBe(9);
    const image = replay(loaded.entries);
    expect(image.topicsByName.get("t")?.partitions[0]).toMatchObject({ leader: 1, partitionEpoch: 1 });
    expect(image.topicConfigs("t").get("retention.ms")).toBe("5");
    expect(image.nextProducerId).toBe(1000n);
    await again.close();
  });

  it("cuts a torn last batch and keeps the rest", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 4));
    await log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "00000000000000000000.log");
    const size = readFileSync(file).length;
    truncateSync(file, size - 3);
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    // A controller write is one batch: the torn one is dropped whole.
    expect(loaded.entries.map((e) => e.record)).toEqual(sample.slice(0, 2));
    // Appends continue after the repair: the new LeaderChange at 3, then the next batch at 4.
    expect(await again.propose([sample[2]!])).toBe(4);
    await again.close();
    const reread = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    expect((await reread.open()).entries.map((e) => e.offset)).toEqual([1, 2, 4]);
    await reread.close();
  });

  it("treats a bad CRC in the last batch as a torn write", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 3));
    await log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(file, bytes);
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    expect((await again.open()).entries.map((e) => e.record)).toEqual(sample.slice(0, 2));
    await again.close();
  });

  it("refuses corruption in the middle of the log", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 3));
    await log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "00000000000000000000.log");
    const bytes = readFileSync(file);
    const second = segmentBatches(dir)[0]!.sizeBytes;
    // A byte in the records of the second batch (the first data batch): its CRC no longer matches.
    bytes[second + 70] = bytes[second + 70]! ^ 0xff;
    writeFileSync(file, bytes);
    await expect(new LocalMetadataLog(dir, metadataRecordSerde, logger).open()).rejects.toSatisfy(
      (err: unknown) => isKrillError(err, "CORRUPT_SEGMENT"),
    );
  });

  it("writes Kafka snapshots (<end offset>-<epoch>.checkpoint, header and footer) and replays snapshot plus tail", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 5));
    const image = replay(sample.slice(0, 5).map((record, i) => ({ offset: i + 1, record })));
    expect(log.createSnapshot(image.toRecords(), 5)).toBe(true);
    expect(log.bytesSinceSnapshot).toBe(0);
    await log.propose(sample.slice(5));
    await log.close();
    const snapshotName = `${"6".padStart(20, "0")}-${"1".padStart(10, "0")}.checkpoint`;
    const files = readdirSync(path.join(dir, METADATA_DIR_NAME));
    expect(files).toContain(snapshotName);
    const snapshot = decodeRecordBatches(readFileSync(path.join(dir, METADATA_DIR_NAME, snapshotName)), {
      decompressedBytesMax: 1 << 20,
    });
    expect(controlType(snapshot[0]!)).toBe(ControlRecordType.SNAPSHOT_HEADER);
    expect(controlType(snapshot.at(-1)!)).toBe(ControlRecordType.SNAPSHOT_FOOTER);
    expect(snapshot.every((b) => b.header.partitionLeaderEpoch === 1)).toBe(true);
    // A partial snapshot from a crash is ignored and removed.
    appendFileSync(
      path.join(dir, METADATA_DIR_NAME, `${"9".padStart(20, "0")}-0000000001.checkpoint.part`),
      "junk",
    );
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    expect(loaded.snapshotOffset).toBe(5);
    const rebuilt = replay(loaded.entries);
    const direct = replay(sample.map((record, i) => ({ offset: i + 1, record })));
    expect(rebuilt.topicsByName).toEqual(direct.topicsByName);
    expect(rebuilt.configs).toEqual(direct.configs);
    expect(rebuilt.features).toEqual(direct.features);
    expect(rebuilt.nextProducerId).toBe(direct.nextProducerId);
    expect(rebuilt.offset).toBe(7);
    await again.close();
    expect(readdirSync(path.join(dir, METADATA_DIR_NAME)).some((f) => f.endsWith(".part"))).toBe(false);
  });

  it("migrates a directory in Krill's earlier layout (metadata.log, snapshot-<offset>.checkpoint)", async () => {
    const dir = tempDir();
    const mdir = path.join(dir, METADATA_DIR_NAME);
    mkdirSync(mdir, { recursive: true });
    const legacyBatch = (records: MetadataRecord[], baseOffset: number) =>
      buildRecordBatch({
        baseOffset: BigInt(baseOffset),
        records: records.map((r) => ({ timestamp: 0, key: null, value: metadataRecordSerde.encode(r) })),
      });
    // The image as of offset 4 as a legacy snapshot, then offsets 5 and 6 in metadata.log.
    const asOf4 = replay(sample.slice(0, 5).map((record, offset) => ({ offset, record })));
    writeFileSync(
      path.join(mdir, `snapshot-${"4".padStart(20, "0")}.checkpoint`),
      legacyBatch(asOf4.toRecords(), 0),
    );
    writeFileSync(
      path.join(mdir, "metadata.log"),
      Buffer.concat([legacyBatch(sample.slice(5, 6), 5), legacyBatch(sample.slice(6), 6)]),
    );
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await log.open();
    expect(loaded.snapshotOffset).toBe(4);
    expect(loaded.entries.filter((e) => e.offset > 4).map((e) => [e.offset, e.record])).toEqual([
      [5, sample[5]],
      [6, sample[6]],
    ]);
    const direct = replay(sample.map((record, offset) => ({ offset, record })));
    expect(replay(loaded.entries).topicsByName).toEqual(direct.topicsByName);
    expect(replay(loaded.entries).nextProducerId).toBe(direct.nextProducerId);
    // The next write continues the offsets (7 is this start's LeaderChange).
    expect(await log.propose([sample[0]!])).toBe(8);
    await log.close();
    const files = readdirSync(mdir);
    expect(files.filter((f) => f === "metadata.log" || f.startsWith("snapshot-"))).toEqual([]);
    expect(files).toContain(`${"5".padStart(20, "0")}-${"0".padStart(10, "0")}.checkpoint`);
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    expect((await again.open()).entries.at(-1)).toEqual({ offset: 8, record: sample[0] });
    await again.close();
  });
});

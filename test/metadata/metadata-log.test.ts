import {
  appendFileSync,
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
import { isKrillError } from "../../src/errors.js";
import { MetadataImage } from "../../src/metadata/image.js";
import { LocalMetadataLog } from "../../src/metadata/local-metadata-log.js";
import { METADATA_DIR_NAME } from "../../src/metadata/metadata-log.js";
import { metadataRecordSerde } from "../../src/metadata/record-serde.js";
import type { MetadataRecord } from "../../src/metadata/records.js";
import { decodeRecordBatches } from "../../src/protocol/records/record-batch.js";

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
      rack: null,
      fenced: false,
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

describe("LocalMetadataLog", () => {
  it("writes Kafka record batches with the metadata offsets", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 3));
    await log.propose(sample.slice(3, 4));
    log.close();
    const bytes = readFileSync(path.join(dir, METADATA_DIR_NAME, "metadata.log"));
    const batches = decodeRecordBatches(bytes, { decompressedBytesMax: 1 << 20 });
    expect(batches.map((b) => [b.header.baseOffset, b.records.length])).toEqual([
      [0n, 3],
      [3n, 1],
    ]);
    expect(metadataRecordSerde.decode(batches[1]!.records[0]!.value!)).toEqual(sample[3]);
  });

  it("replays what was appended", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    expect((await log.open()).entries).toEqual([]);
    expect(await log.propose(sample.slice(0, 4))).toBe(3);
    expect(await log.propose(sample.slice(4))).toBe(6);
    log.close();
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    expect(loaded.entries.map((e) => e.record)).toEqual(sample);
    expect(loaded.entries.map((e) => e.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(loaded.nextOffset).toBe(7);
    const image = replay(loaded.entries);
    expect(image.topicsByName.get("t")?.partitions[0]).toMatchObject({ leader: 1, partitionEpoch: 1 });
    expect(image.topicConfigs("t").get("retention.ms")).toBe("5");
    expect(image.nextProducerId).toBe(1000n);
    again.close();
  });

  it("cuts a torn last batch and keeps the rest", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 4));
    log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "metadata.log");
    const size = readFileSync(file).length;
    truncateSync(file, size - 3);
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    // A controller write is one batch: the torn one is dropped whole.
    expect(loaded.entries.map((e) => e.record)).toEqual(sample.slice(0, 2));
    expect(readFileSync(file).length).toBeLessThan(size - 3);
    // Appends continue at the right offset after the repair.
    expect(await again.propose([sample[2]!])).toBe(2);
    again.close();
    const reread = await new LocalMetadataLog(dir, metadataRecordSerde, logger).open();
    expect(reread.entries.map((e) => e.offset)).toEqual([0, 1, 2]);
  });

  it("treats a bad CRC in the last batch as a torn write", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 3));
    log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "metadata.log");
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(file, bytes);
    const loaded = await new LocalMetadataLog(dir, metadataRecordSerde, logger).open();
    expect(loaded.entries.map((e) => e.record)).toEqual(sample.slice(0, 2));
  });

  it("refuses corruption in the middle of the log", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 2));
    await log.propose(sample.slice(2, 3));
    log.close();
    const file = path.join(dir, METADATA_DIR_NAME, "metadata.log");
    const bytes = readFileSync(file);
    // Byte 70 lies in the first batch's records: its CRC no longer matches.
    bytes[70] = bytes[70]! ^ 0xff;
    writeFileSync(file, bytes);
    await expect(new LocalMetadataLog(dir, metadataRecordSerde, logger).open()).rejects.toSatisfy(
      (err: unknown) => isKrillError(err, "CORRUPT_SEGMENT"),
    );
  });

  it("snapshots, resets the log, and replays snapshot plus tail", async () => {
    const dir = tempDir();
    const log = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    await log.open();
    await log.propose(sample.slice(0, 5));
    const image = replay(sample.slice(0, 5).map((record, offset) => ({ offset, record })));
    expect(log.createSnapshot(image.toRecords(), 4)).toBe(true);
    expect(log.bytesSinceSnapshot).toBe(0);
    await log.propose(sample.slice(5));
    log.close();
    const files = readdirSync(path.join(dir, METADATA_DIR_NAME)).sort();
    expect(files).toEqual(["metadata.log", `snapshot-${"4".padStart(20, "0")}.checkpoint`]);
    // A leftover temporary snapshot from a crash is ignored and removed.
    appendFileSync(path.join(dir, METADATA_DIR_NAME, "snapshot-00000000000000000009.checkpoint.tmp"), "junk");
    const again = new LocalMetadataLog(dir, metadataRecordSerde, logger);
    const loaded = await again.open();
    expect(loaded.snapshotOffset).toBe(4);
    expect(loaded.nextOffset).toBe(7);
    const rebuilt = replay(loaded.entries);
    const direct = replay(sample.map((record, offset) => ({ offset, record })));
    expect(rebuilt.topicsByName).toEqual(direct.topicsByName);
    expect(rebuilt.configs).toEqual(direct.configs);
    expect(rebuilt.features).toEqual(direct.features);
    expect(rebuilt.nextProducerId).toBe(direct.nextProducerId);
    expect(rebuilt.offset).toBe(6);
    again.close();
  });
});

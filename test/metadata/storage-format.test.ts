import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { LocalMetadataLog } from "../../src/metadata/local-metadata-log.js";
import { METADATA_DIR_NAME } from "../../src/metadata/metadata-log.js";
import { metadataRecordSerde } from "../../src/metadata/record-serde.js";
import {
  BOOTSTRAP_SNAPSHOT,
  directoryIdOf,
  type FormatOptions,
  formatMetadataOnFirstStart,
  formatStorage,
  metadataVersionLevel,
  parseInitialControllers,
  writeMetaProperties,
} from "../../src/metadata/storage-format.js";
import { decodeKRaftVersionRecord } from "../../src/protocol/generated/kraft-version-record.js";
import { decodeVotersRecord } from "../../src/protocol/generated/voters-record.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { ControlRecordType, parseControlRecordKey } from "../../src/protocol/records/control-records.js";
import { decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { SeededRandom } from "../../src/random.js";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-format-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const CLUSTER = "W9AfU9ZKb6evapU4kcw1AQ";

function config(dir: string, extra: Record<string, string> = {}): BrokerConfig {
  return BrokerConfig.create({
    "node.id": "3",
    "process.roles": "broker,controller",
    listeners: "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
    "controller.listener.names": "CONTROLLER",
    "log.dirs": path.join(dir, "data"),
    "metadata.log.dir": path.join(dir, "meta"),
    ...extra,
  });
}

function options(dir: string, overrides: Partial<FormatOptions> = {}): FormatOptions {
  return {
    config: config(dir),
    clusterId: CLUSTER,
    standalone: false,
    initialControllers: undefined,
    noInitialControllers: false,
    releaseVersion: undefined,
    ignoreFormatted: false,
    random: new SeededRandom(15),
    now: new Date(0),
    ...overrides,
  };
}

/** Control record types and data record values of a snapshot file. */
function snapshotContent(file: string) {
  const batches = decodeRecordBatches(readFileSync(file), { decompressedBytesMax: 1 << 20 });
  const control = batches
    .filter((b) => b.isControl)
    .flatMap((b) => b.records.map((r) => ({ type: parseControlRecordKey(r.key).type, value: r.value! })));
  const data = batches
    .filter((b) => !b.isControl)
    .flatMap((b) => b.records.map((r) => metadataRecordSerde.decode(r.value!)));
  return { control, data, epochs: batches.map((b) => b.header.partitionLeaderEpoch) };
}

describe("krill format", () => {
  it("--standalone writes meta.properties everywhere and Kafka 4.4's bootstrap snapshot in the metadata directory", () => {
    const dir = tempDir();
    const lines = formatStorage(options(dir, { standalone: true, releaseVersion: "3.7" }));
    expect(lines).toEqual([
      `Formatting data directory ${path.join(dir, "data")} with metadata.version 3.7-IV4.`,
      `Formatting dynamic metadata voter directory ${path.join(dir, "meta")} with metadata.version 3.7-IV4.`,
    ]);
    for (const d of ["data", "meta"]) {
      const text = readFileSync(path.join(dir, d, "meta.properties"), "utf8");
      expect(text).toContain(`cluster.id=${CLUSTER}`);
      expect(text).toContain("node.id=3");
      expect(text).toContain("version=1");
      expect(directoryIdOf(path.join(dir, d))).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    expect(existsSync(path.join(dir, "data", METADATA_DIR_NAME))).toBe(false);
    const snapshot = snapshotContent(path.join(dir, "meta", METADATA_DIR_NAME, BOOTSTRAP_SNAPSHOT));
    expect(snapshot.control.map((c) => c.type)).toEqual([
      ControlRecordType.SNAPSHOT_HEADER,
      ControlRecordType.KRAFT_VERSION,
      ControlRecordType.KRAFT_VOTERS,
      ControlRecordType.SNAPSHOT_FOOTER,
    ]);
    expect(decodeKRaftVersionRecord(new Reader(snapshot.control[1]!.value), 0).kRaftVersion).toBe(1);
    const voters = decodeVotersRecord(new Reader(snapshot.control[2]!.value), 0);
    expect(voters.voters).toMatchObject([
      {
        voterId: 3,
        // The voter is this node's metadata directory.
        voterDirectoryId: directoryIdOf(path.join(dir, "meta")),
        endpoints: [{ name: "CONTROLLER", host: "127.0.0.1", port: 9093 }],
        kRaftVersionFeature: { minSupportedVersion: 0, maxSupportedVersion: 1 },
      },
    ]);
    expect(snapshot.data).toEqual([
      { type: "FeatureLevel", data: { name: "metadata.version", featureLevel: 19 } },
    ]);
    expect(snapshot.epochs.every((e) => e === 0)).toBe(true);
  });

  it("refuses formatted directories unless --ignore-formatted, and needs a quorum choice as Kafka does", () => {
    const dir = tempDir();
    expect(() => formatStorage(options(dir))).toThrow(
      "Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.",
    );
    expect(() => formatStorage(options(dir, { standalone: true, noInitialControllers: true }))).toThrow(
      "Only one of",
    );
    formatStorage(options(dir, { noInitialControllers: true }));
    expect(() => formatStorage(options(dir, { noInitialControllers: true }))).toThrow(
      `Log directory ${path.join(dir, "data")} is already formatted. Use --ignore-formatted to ignore this directory and format the others.`,
    );
    expect(formatStorage(options(dir, { noInitialControllers: true, ignoreFormatted: true }))).toEqual([
      "All of the log directories are already formatted.",
    ]);
    // Static voters: no KRaftVersion or Voters records, the metadata.version still bootstrapped.
    const snapshot = snapshotContent(path.join(dir, "meta", METADATA_DIR_NAME, BOOTSTRAP_SNAPSHOT));
    expect(snapshot.control.map((c) => c.type)).toEqual([
      ControlRecordType.SNAPSHOT_HEADER,
      ControlRecordType.SNAPSHOT_FOOTER,
    ]);
    expect(() => formatStorage(options(tempDir(), { clusterId: "not-a-uuid", standalone: true }))).toThrow(
      "does not appear to be a valid UUID",
    );
  });

  it("--initial-controllers takes this node's directory id from the list", () => {
    const dir = tempDir();
    formatStorage(
      options(dir, {
        initialControllers: "3@127.0.0.1:9093:AAAAAAAAAAAAAAAAAAAAAw,4@127.0.0.1:9094:AAAAAAAAAAAAAAAAAAAABA",
      }),
    );
    expect(directoryIdOf(path.join(dir, "meta"))).toBe("AAAAAAAAAAAAAAAAAAAAAw");
    const snapshot = snapshotContent(path.join(dir, "meta", METADATA_DIR_NAME, BOOTSTRAP_SNAPSHOT));
    const voters = decodeVotersRecord(new Reader(snapshot.control[2]!.value), 0).voters;
    expect(voters.map((v) => [v.voterId, v.voterDirectoryId, v.endpoints[0]?.port])).toEqual([
      [3, "AAAAAAAAAAAAAAAAAAAAAw", 9093],
      [4, "AAAAAAAAAAAAAAAAAAAABA", 9094],
    ]);
    expect(() => parseInitialControllers("3@host:1")).toThrow("id@host:port:directoryId");
  });

  it("maps release versions as Kafka's MetadataVersion does", () => {
    expect(metadataVersionLevel("3.3-IV3")).toBe(7);
    expect(metadataVersionLevel("3.7")).toBe(19);
    expect(metadataVersionLevel("4.0")).toBe(25);
    expect(() => metadataVersionLevel("2.8")).toThrow("Unknown release version '2.8'");
  });

  it("a first start formats as --standalone; the formatted metadata.version and voters carry into later snapshots", async () => {
    const dir = tempDir();
    const cfg = config(dir);
    writeMetaProperties(
      path.join(dir, "meta"),
      { clusterId: CLUSTER, nodeId: 3, directoryId: "AAAAAAAAAAAAAAAAAAAAAw" },
      new Date(0),
    );
    expect(formatMetadataOnFirstStart(cfg, 0)).toBe(true);
    // Never twice: the metadata log exists from then on.
    expect(formatMetadataOnFirstStart(cfg, 0)).toBe(false);
    const log = new LocalMetadataLog(path.join(dir, "meta"), metadataRecordSerde, logger);
    const loaded = await log.open();
    expect(loaded.snapshotOffset).toBe(-1);
    expect(loaded.entries.map((e) => e.record.type)).toEqual(["FeatureLevel"]);
    await log.propose([{ type: "Topic", data: { name: "t", topicId: "AbCdEfGhIjKlMnOpQrStUg" } }]);
    expect(
      log.createSnapshot([{ type: "Topic", data: { name: "t", topicId: "AbCdEfGhIjKlMnOpQrStUg" } }], 1),
    ).toBe(true);
    await log.close();
    const files = readdirSync(path.join(dir, "meta", METADATA_DIR_NAME));
    expect(files).not.toContain(BOOTSTRAP_SNAPSHOT);
    const later = snapshotContent(
      path.join(dir, "meta", METADATA_DIR_NAME, "00000000000000000002-0000000001.checkpoint"),
    );
    expect(later.control.map((c) => c.type)).toEqual([
      ControlRecordType.SNAPSHOT_HEADER,
      ControlRecordType.KRAFT_VERSION,
      ControlRecordType.KRAFT_VOTERS,
      ControlRecordType.SNAPSHOT_FOOTER,
    ]);
    expect(decodeVotersRecord(new Reader(later.control[2]!.value), 0).voters[0]?.voterDirectoryId).toBe(
      "AAAAAAAAAAAAAAAAAAAAAw",
    );
  });
});

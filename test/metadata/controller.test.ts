import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { DEFAULT_LOG_CONFIG, logConfigFrom } from "../../src/log/config.js";
import { type MetadataController, topicNameError } from "../../src/metadata/controller.js";
import { type LocalMetadata, openLocalMetadata } from "../../src/metadata/local-metadata.js";
import type { LocalMetadataLog } from "../../src/metadata/local-metadata-log.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { registerAndUnfence } from "./cluster-helpers.js";

const logger = pino({ level: "silent" });
let dir: string;
let log: LocalMetadataLog;
/** The newest metadata stack `open` built. */
let meta: LocalMetadata;
let controller: MetadataController;

/** A controller over the log in `dir`; its publisher (the committed image) is `meta.publisher`. */
async function open(overrides: Record<string, string> = {}): Promise<MetadataController> {
  const config = BrokerConfig.create({ "log.dirs": dir, ...overrides });
  meta = await openLocalMetadata({ dir, logger, nodeId: 1, config: () => config });
  log = meta.log;
  return meta.controller;
}

/** The image published by the newest `open`. */
const image = () => meta.publisher.image;

const topic = (name: string, numPartitions = -1, replicationFactor = -1) => ({
  name,
  numPartitions,
  replicationFactor,
  assignments: [],
  configs: [],
});

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "krill-ctl-"));
  controller = await open({ "num.partitions": "3" });
  await registerAndUnfence(controller, 1, () => image().offset);
});

afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("MetadataController", () => {
  it("creates topics with defaults and survives a restart", async () => {
    const [r] = await controller.createTopics([topic("a")], false);
    expect(r).toMatchObject({ errorCode: 0, numPartitions: 3, replicationFactor: 1 });
    expect(r!.topicId).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    await log.close();
    await open();
    const t = image().topicsByName.get("a")!;
    expect(t.topicId).toBe(r!.topicId);
    expect(t.partitions.map((p) => p.leader)).toEqual([1, 1, 1]);
    expect(image().topicsById.get(t.topicId)).toBe(t);
  });

  it("reports Kafka's errors per topic", async () => {
    await controller.createTopics([topic("exists")], false);
    const results = await controller.createTopics(
      [
        topic("exists"),
        topic("bad/name"),
        topic("dup"),
        topic("dup"),
        topic("zero", 0),
        topic("rf", 1, 2),
        topic("rf0", 1, 0),
        { ...topic("cfg"), configs: [{ name: "cleanup.policy", value: "shred" }] },
        { ...topic("both", 2), assignments: [{ partitionIndex: 0, brokerIds: [1] }] },
        { ...topic("gap"), assignments: [{ partitionIndex: 1, brokerIds: [1] }] },
        { ...topic("ghost"), assignments: [{ partitionIndex: 0, brokerIds: [7] }] },
        {
          ...topic("manual"),
          assignments: [
            { partitionIndex: 0, brokerIds: [1] },
            { partitionIndex: 1, brokerIds: [1] },
          ],
        },
      ],
      false,
    );
    expect(results.map((r) => [r.name, r.errorCode])).toEqual([
      ["exists", ErrorCode.TOPIC_ALREADY_EXISTS],
      ["bad/name", ErrorCode.INVALID_TOPIC_EXCEPTION],
      ["dup", ErrorCode.INVALID_REQUEST],
      ["dup", ErrorCode.INVALID_REQUEST],
      ["zero", ErrorCode.INVALID_PARTITIONS],
      ["rf", ErrorCode.INVALID_REPLICATION_FACTOR],
      ["rf0", ErrorCode.INVALID_REPLICATION_FACTOR],
      ["cfg", ErrorCode.INVALID_CONFIG],
      ["both", ErrorCode.INVALID_REQUEST],
      ["gap", ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ["ghost", ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ["manual", ErrorCode.NONE],
    ]);
    expect(image().topicsByName.get("manual")!.partitions).toHaveLength(2);
  });

  it("refuses names that collide on '.' versus '_' and follows Kafka's name rules", async () => {
    await controller.createTopics([topic("a.b")], false);
    const [r] = await controller.createTopics([topic("a_b")], false);
    expect(r!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    expect(topicNameError("x".repeat(249))).toBeUndefined();
    expect(topicNameError("x".repeat(250))).toBeDefined();
    expect(topicNameError("..")).toBeDefined();
    expect(topicNameError("")).toBeDefined();
  });

  it("validate-only writes nothing", async () => {
    const before = log.endOffset;
    const [r] = await controller.createTopics([topic("dry")], true);
    expect(r!.errorCode).toBe(0);
    expect(image().topicsByName.has("dry")).toBe(false);
    expect(log.endOffset).toBe(before);
  });

  it("refuses a request adding more than 10,000 partitions whole, with Kafka's POLICY_VIOLATION", async () => {
    const results = await controller.createTopics([topic("small", 1), topic("huge", 100_000)], false);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r).toMatchObject({
        errorCode: ErrorCode.POLICY_VIOLATION,
        errorMessage: "Excessively large number of partitions per request.",
      });
    }
    // Kafka sums every topic of the request, -1 counting as num.partitions (1 here).
    const split = await controller.createTopics(
      [topic("half", 5_000), topic("other-half", 5_000), topic("default", -1)],
      true,
    );
    expect(split.map((r) => r.errorCode)).toEqual(Array(3).fill(ErrorCode.POLICY_VIOLATION));
    expect(image().topicsByName.size).toBe(0);
    await controller.createTopics([topic("grow", 1)], false);
    const grow = await controller.createPartitions(
      [
        { name: "grow", count: 10_002, assignments: null },
        { name: "missing", count: 5, assignments: null },
      ],
      false,
    );
    expect(grow).toEqual([
      {
        name: "grow",
        errorCode: ErrorCode.POLICY_VIOLATION,
        errorMessage: "Excessively large number of additional partitions per request.",
      },
      {
        name: "missing",
        errorCode: ErrorCode.POLICY_VIOLATION,
        errorMessage: "Excessively large number of additional partitions per request.",
      },
    ]);
  });

  it("bounds partitions in total across requests", async () => {
    for (let i = 0; i < 10; i++) {
      const [r] = await controller.createTopics([topic(`big${i}`, 10_000)], false);
      expect(r!.errorCode).toBe(0);
    }
    const [over] = await controller.createTopics([topic("one-more", 1)], true);
    expect(over).toMatchObject({ errorCode: ErrorCode.INVALID_PARTITIONS });
    expect(over!.errorMessage).toContain("100000");
  }, 60_000);

  it("deletes by name and id, and reports unknown ones", async () => {
    const [a] = await controller.createTopics([topic("a"), topic("b")], false);
    const results = await controller.deleteTopics([
      { name: null, topicId: a!.topicId },
      { name: "b", topicId: null },
      { name: "nope", topicId: null },
      { name: null, topicId: "AbCdEfGhIjKlMnOpQrStUg" },
    ]);
    expect(results.map((r) => r.errorCode)).toEqual([
      0,
      0,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      ErrorCode.UNKNOWN_TOPIC_ID,
    ]);
    expect(image().topicsByName.size).toBe(0);
  });

  it("honours delete.topic.enable=false", async () => {
    await log.close();
    controller = await open({ "delete.topic.enable": "false" });
    await controller.createTopics([topic("kept")], false);
    const [r] = await controller.deleteTopics([{ name: "kept", topicId: null }]);
    expect(r!.errorCode).toBe(ErrorCode.TOPIC_DELETION_DISABLED);
  });

  it("adds partitions and refuses to shrink", async () => {
    await controller.createTopics([topic("g", 1)], false);
    const results = await controller.createPartitions(
      [
        { name: "g", count: 3, assignments: null },
        { name: "missing", count: 3, assignments: null },
      ],
      false,
    );
    expect(results.map((r) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(image().topicsByName.get("g")!.partitions).toHaveLength(3);
    const again = await controller.createPartitions([{ name: "g", count: 2, assignments: null }], false);
    expect(again[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const wrong = await controller.createPartitions([{ name: "g", count: 5, assignments: [[1]] }], false);
    expect(wrong[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
  });

  it("alters topic configs: replace, incremental set/delete/append/subtract, validation", async () => {
    await controller.createTopics(
      [{ ...topic("c"), configs: [{ name: "retention.ms", value: "10" }] }],
      false,
    );
    expect(
      await controller.alterTopicConfigs("c", [{ name: "segment.ms", value: "60000" }], false, false),
    ).toEqual({
      errorCode: 0,
      errorMessage: null,
    });
    expect([...image().topicConfigs("c")]).toEqual([["segment.ms", "60000"]]);
    await controller.alterTopicConfigs(
      "c",
      [
        { name: "cleanup.policy", value: "compact", op: 0 },
        { name: "segment.ms", value: null, op: 1 },
      ],
      true,
      false,
    );
    expect([...image().topicConfigs("c")]).toEqual([["cleanup.policy", "compact"]]);
    await controller.alterTopicConfigs(
      "c",
      [{ name: "cleanup.policy", value: "delete", op: 2 }],
      true,
      false,
    );
    expect(image().topicConfigs("c").get("cleanup.policy")).toBe("compact,delete");
    await controller.alterTopicConfigs(
      "c",
      [{ name: "cleanup.policy", value: "compact", op: 3 }],
      true,
      false,
    );
    expect(image().topicConfigs("c").get("cleanup.policy")).toBe("delete");
    // As Kafka's controller: APPEND to an unset list starts from its default ("delete"), and
    // SUBTRACT may leave it empty (Kafka 4.x: neither delete nor compact), which the log accepts.
    await controller.alterTopicConfigs("c", [{ name: "cleanup.policy", value: null, op: 1 }], true, false);
    await controller.alterTopicConfigs(
      "c",
      [{ name: "cleanup.policy", value: "compact", op: 2 }],
      true,
      false,
    );
    expect(image().topicConfigs("c").get("cleanup.policy")).toBe("delete,compact");
    await controller.alterTopicConfigs(
      "c",
      [{ name: "cleanup.policy", value: "delete,compact", op: 3 }],
      true,
      false,
    );
    expect(image().topicConfigs("c").get("cleanup.policy")).toBe("");
    expect(logConfigFrom({ "cleanup.policy": "" }, DEFAULT_LOG_CONFIG).cleanupPolicy).toBe("");
    const bad = await controller.alterTopicConfigs(
      "c",
      [{ name: "retention.ms", value: "x", op: 0 }],
      true,
      false,
    );
    expect(bad.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const append = await controller.alterTopicConfigs(
      "c",
      [{ name: "retention.ms", value: "1", op: 2 }],
      true,
      false,
    );
    expect(append.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const unknown = await controller.alterTopicConfigs("nope", [], true, false);
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it("stores dynamic broker configs, refusing read-only keys and bad values, and keeps them across restarts", async () => {
    expect(
      await controller.alterBrokerConfigs("1", [{ name: "message.max.bytes", value: "2000" }], false, false),
    ).toEqual({
      errorCode: 0,
      errorMessage: null,
    });
    await controller.alterBrokerConfigs("", [{ name: "log.retention.ms", value: "10", op: 0 }], true, false);
    const readOnly = await controller.alterBrokerConfigs(
      "1",
      [{ name: "listeners", value: "PLAINTEXT://:1" }],
      false,
      false,
    );
    expect(readOnly.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const bad = await controller.alterBrokerConfigs(
      "1",
      [{ name: "message.max.bytes", value: "-5" }],
      false,
      false,
    );
    expect(bad.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(bad.errorMessage).toContain("message.max.bytes");
    const unknownBroker = await controller.alterBrokerConfigs("7", [], false, false);
    expect(unknownBroker.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    await log.close();
    await open();
    expect([...image().brokerConfigs("1")]).toEqual([["message.max.bytes", "2000"]]);
    expect([...image().brokerConfigs("")]).toEqual([["log.retention.ms", "10"]]);
    const base = BrokerConfig.create({ "log.dirs": dir, "message.max.bytes": "3000" });
    const live = base.withDynamic({
      clusterDefault: image().brokerConfigs(""),
      perBroker: image().brokerConfigs("1"),
    });
    expect(live.int("message.max.bytes")).toBe(2000);
    expect(live.logRetentionMs).toBe(10);
    expect(live.sourceOf("message.max.bytes")).toBe(2);
    expect(live.sourceOf("log.retention.ms")).toBe(3);
    expect(live.layers("message.max.bytes").map((l) => [l.value, l.source])).toEqual([
      ["2000", 2],
      ["3000", 4],
      ["1048588", 5],
    ]);
  });

  it("stores Kafka's per-broker Kerberos/login-refresh tuning keys as Kafka does (librdkafka 0081), validated and otherwise ignored", async () => {
    const set = (resource: string, name: string, value: string) =>
      controller.alterBrokerConfigs(resource, [{ name, value }], false, false);
    // Legacy AlterConfigs replaces the resource's whole set, so both go in one request.
    const both = await controller.alterBrokerConfigs(
      "1",
      [
        { name: "sasl.kerberos.min.time.before.relogin", value: "58000" },
        { name: "sasl.login.refresh.window.factor", value: "0.9" },
      ],
      false,
      false,
    );
    expect(both.errorCode).toBe(0);
    const notLong = await set("1", "sasl.kerberos.min.time.before.relogin", "soon");
    expect(notLong.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect((await set("1", "sasl.login.refresh.window.factor", "0.1")).errorCode).toBe(
      ErrorCode.INVALID_CONFIG,
    );
    const clusterWide = await set("", "sasl.kerberos.min.time.before.relogin", "58000");
    expect(clusterWide.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(clusterWide.errorMessage).toContain("broker id must be specified");
    // Other keys Kafka knows but Krill does not use stay refused.
    expect((await set("1", "sasl.enabled.mechanisms", "GSSAPI")).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect([...image().brokerConfigs("1")]).toEqual([
      ["sasl.kerberos.min.time.before.relogin", "58000"],
      ["sasl.login.refresh.window.factor", "0.9"],
    ]);
    const rejected: string[] = [];
    BrokerConfig.create({ "log.dirs": dir }).withDynamic(
      { clusterDefault: new Map(), perBroker: image().brokerConfigs("1") },
      (name) => rejected.push(name),
    );
    expect(rejected).toEqual([]);
  });

  it("edits broker list configs with APPEND/SUBTRACT and stores Kafka's thread counts with their rule (librdkafka 0081)", async () => {
    const inc = (resource: string, name: string, value: string | null, op: 0 | 1 | 2 | 3) =>
      controller.alterBrokerConfigs(resource, [{ name, value, op }], true, false);
    expect((await inc("1", "background.threads", "9", 0)).errorCode).toBe(0);
    expect((await inc("1", "log.cleanup.policy", "compact", 2)).errorCode).toBe(0);
    expect(image().brokerConfigs("1").get("log.cleanup.policy")).toBe("delete,compact");
    expect((await inc("1", "log.cleanup.policy", "compact", 3)).errorCode).toBe(0);
    expect(image().brokerConfigs("1").get("log.cleanup.policy")).toBe("delete");
    const notList = await inc("1", "message.max.bytes", "1", 2);
    expect(notList.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(notList.errorMessage).toBe("Config value append is not allowed for config key: message.max.bytes");
    // Kafka's DynamicThreadPool rule: within half and double the current count (9 now).
    const tooMany = await inc("1", "background.threads", "19", 0);
    expect(tooMany.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(tooMany.errorMessage).toContain("should not be greater than double the current value 9");
    expect((await inc("1", "background.threads", "0", 0)).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect((await inc("", "num.io.threads", "16", 0)).errorCode).toBe(0);
    expect((await inc("1", "background.threads", null, 1)).errorCode).toBe(0);
    expect([...image().brokerConfigs("1")]).toEqual([["log.cleanup.policy", "delete"]]);
    const rejected: string[] = [];
    BrokerConfig.create({ "log.dirs": dir }).withDynamic(
      { clusterDefault: image().brokerConfigs(""), perBroker: image().brokerConfigs("1") },
      (name) => rejected.push(name),
    );
    expect(rejected).toEqual([]);
  });

  it("hands out disjoint producer id blocks that survive a restart", async () => {
    const a = await controller.allocateProducerIds(1, 1n);
    const b = await controller.allocateProducerIds(1, 1n);
    expect(b.firstProducerId).toBe(a.firstProducerId + BigInt(a.count));
    await log.close();
    const reopened = await open();
    const c = await reopened.allocateProducerIds(1, 1n);
    expect(c.firstProducerId).toBe(b.firstProducerId + BigInt(b.count));
  });

  it("snapshots when the log passes the size bound and restarts from the snapshot", async () => {
    await log.close();
    controller = await open({ "metadata.log.max.record.bytes.between.snapshots": "2000" });
    for (let i = 0; i < 20; i++) await controller.createTopics([topic(`t${i}`, 2)], false);
    expect(log.bytesSinceSnapshot).toBeLessThan(2000 + 500);
    const expected = image();
    await log.close();
    await open();
    expect(image().topicsByName).toEqual(expected.topicsByName);
    expect(image().offset).toBe(expected.offset);
  });
});

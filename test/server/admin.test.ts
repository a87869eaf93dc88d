import { type Admin, ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";

describe("admin APIs through kafkajs", () => {
  let broker: BrokerHandle;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBroker({ "num.partitions": 2 });
    admin = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    }).admin();
    await admin.connect();
  });

  /** The Kafka error type kafkajs reports for one failed topic creation. */
  async function creationError(
    topic: Parameters<Admin["createTopics"]>[0]["topics"][number],
  ): Promise<string> {
    try {
      await admin.createTopics({ topics: [topic] });
    } catch (err) {
      return (err as { errors?: { type?: string }[] }).errors?.[0]?.type ?? String(err);
    }
    return "created";
  }

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it("creates topics, reports them in metadata, and refuses duplicates and bad names", async () => {
    expect(await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 3 }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: "defaults" }] })).toBe(true);
    const { topics } = await admin.fetchTopicMetadata({ topics: ["orders", "defaults"] });
    const orders = topics.find((t) => t.name === "orders")!;
    expect(orders.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    expect(orders.partitions[0]).toMatchObject({ leader: 1, replicas: [1], isr: [1] });
    expect(topics.find((t) => t.name === "defaults")!.partitions).toHaveLength(2);
    // kafkajs reports an existing topic as `false` rather than an error.
    expect(await admin.createTopics({ topics: [{ topic: "orders" }] })).toBe(false);
    expect(await creationError({ topic: "bad name!" })).toBe("INVALID_TOPIC_EXCEPTION");
    expect(await creationError({ topic: "rf", replicationFactor: 3 })).toBe("INVALID_REPLICATION_FACTOR");
    expect(await creationError({ topic: "zero", numPartitions: 0 })).toBe("INVALID_PARTITIONS");
    expect(
      await creationError({ topic: "cfg", configEntries: [{ name: "retention.ms", value: "soon" }] }),
    ).toBe("INVALID_CONFIG");
    expect(await creationError({ topic: "cfg", configEntries: [{ name: "no.such.key", value: "1" }] })).toBe(
      "INVALID_CONFIG",
    );
    expect((await admin.listTopics()).sort()).toEqual(["defaults", "orders"]);
  });

  it("validate-only creates nothing", async () => {
    // kafkajs looks the topic up after a validate-only create and fails not finding it.
    await admin.createTopics({ topics: [{ topic: "dry-run" }], validateOnly: true }).catch(() => undefined);
    expect(await admin.listTopics()).not.toContain("dry-run");
  });

  it("adds partitions", async () => {
    await admin.createTopics({ topics: [{ topic: "grow", numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 4 }] });
    const { topics } = await admin.fetchTopicMetadata({ topics: ["grow"] });
    expect(topics[0]!.partitions).toHaveLength(4);
    await expect(
      admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 2 }] }),
    ).rejects.toThrow();
    await expect(
      admin.createPartitions({ topicPartitions: [{ topic: "nope", count: 2 }] }),
    ).rejects.toThrow();
  });

  it("describes and alters topic configs with sources and synonyms", async () => {
    await admin.createTopics({
      topics: [{ topic: "configured", configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
    });
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: "configured" }],
      includeSynonyms: true,
    });
    const entries = described.resources[0]!.configEntries;
    const policy = entries.find((e) => e.configName === "cleanup.policy")!;
    expect(policy.configValue).toBe("compact");
    expect(policy.isDefault).toBe(false);
    const retention = entries.find((e) => e.configName === "retention.ms")!;
    expect(retention.configValue).toBe(String(7 * 24 * 3_600_000));
    // As Kafka: no broker synonym before log.retention.ms, which has no value (ConfigHelper's dropWhile).
    expect(retention.configSynonyms).toEqual([]);
    expect(policy.configSynonyms.map((s) => s.configName)).toEqual(["cleanup.policy", "log.cleanup.policy"]);

    await admin.alterConfigs({
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: "configured",
          configEntries: [{ name: "retention.ms", value: "1000" }],
        },
      ],
      validateOnly: false,
    });
    const after = await admin.describeConfigs({
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: "configured",
          configNames: ["retention.ms", "cleanup.policy"],
        },
      ],
      includeSynonyms: false,
    });
    const values = Object.fromEntries(
      after.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    );
    // AlterConfigs replaces the whole set: cleanup.policy returns to its default.
    expect(values).toEqual({ "retention.ms": "1000", "cleanup.policy": "delete" });
    await expect(
      admin.alterConfigs({
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: "configured",
            configEntries: [{ name: "no.such", value: "1" }],
          },
        ],
        validateOnly: false,
      }),
    ).rejects.toThrow();
  });

  it("describes broker configs", async () => {
    const described = await admin.describeConfigs({
      resources: [
        { type: ConfigResourceTypes.BROKER, name: "1", configNames: ["num.partitions", "message.max.bytes"] },
      ],
      includeSynonyms: false,
    });
    const values = Object.fromEntries(
      described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    );
    expect(values).toEqual({ "num.partitions": "2", "message.max.bytes": "1048588" });
  });

  it("alters dynamic broker configs, which topics then inherit", async () => {
    await admin.createTopics({ topics: [{ topic: "inherits" }] });
    await admin.alterConfigs({
      resources: [
        {
          type: ConfigResourceTypes.BROKER,
          name: "1",
          configEntries: [{ name: "log.retention.ms", value: "5000" }],
        },
      ],
      validateOnly: false,
    });
    const brokerView = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: "1", configNames: ["log.retention.ms"] }],
      includeSynonyms: true,
    });
    const entry = brokerView.resources[0]!.configEntries[0]!;
    expect(entry).toMatchObject({ configName: "log.retention.ms", configValue: "5000", configSource: 2 });
    const topicView = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: "inherits", configNames: ["retention.ms"] }],
      includeSynonyms: true,
    });
    const retention = topicView.resources[0]!.configEntries[0]!;
    expect(retention).toMatchObject({ configValue: "5000", configSource: 2 });
    expect(retention.configSynonyms[0]).toMatchObject({
      configName: "log.retention.ms",
      configValue: "5000",
    });
    // num.partitions cannot change at run time; bad values name the key.
    await expect(
      admin.alterConfigs({
        resources: [
          {
            type: ConfigResourceTypes.BROKER,
            name: "1",
            configEntries: [{ name: "num.partitions", value: "9" }],
          },
        ],
        validateOnly: false,
      }),
    ).rejects.toMatchObject({ type: "INVALID_REQUEST" });
    await expect(
      admin.alterConfigs({
        resources: [
          {
            type: ConfigResourceTypes.BROKER,
            name: "1",
            configEntries: [{ name: "log.retention.ms", value: "x" }],
          },
        ],
        validateOnly: false,
      }),
    ).rejects.toMatchObject({ type: "INVALID_CONFIG" });
    // AlterConfigs replaces the resource's set: an empty set removes the override.
    await admin.alterConfigs({
      resources: [{ type: ConfigResourceTypes.BROKER, name: "1", configEntries: [] }],
      validateOnly: false,
    });
    const reset = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: "inherits", configNames: ["retention.ms"] }],
      includeSynonyms: false,
    });
    expect(reset.resources[0]!.configEntries[0]!.configValue).toBe(String(7 * 24 * 3_600_000));
  });

  it("describes the cluster", async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toEqual([{ nodeId: 1, host: broker.host, port: broker.port }]);
    expect(cluster.controller).toBe(1);
    expect(cluster.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("deletes topics", async () => {
    await admin.createTopics({ topics: [{ topic: "doomed" }] });
    await admin.deleteTopics({ topics: ["doomed"] });
    expect(await admin.listTopics()).not.toContain("doomed");
    await expect(admin.deleteTopics({ topics: ["doomed"] })).rejects.toThrow();
  });
});

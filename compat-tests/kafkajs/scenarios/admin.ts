// kafkajs admin: create (3 partitions, a config), list, metadata, create partitions, describe and
// alter configs, describe cluster, list/describe groups, delete.
import { ConfigResourceTypes, check, kafka, scenario, uniqueName, waitFor } from "../lib.js";

scenario(async () => {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const topic = uniqueName("admin");
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 3, configEntries: [{ name: "retention.ms", value: "3600000" }] }],
      waitForLeaders: true,
    });
    check(created, "createTopics returned false for a new topic");
    const again = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    check(!again, "createTopics of an existing topic returned true");
    check((await admin.listTopics()).includes(topic), "listTopics is missing the new topic");

    const cluster = await admin.describeCluster();
    check(cluster.brokers.length === 1, `describeCluster brokers ${JSON.stringify(cluster.brokers)}`);
    check(cluster.brokers[0]?.host === "127.0.0.1", `broker host ${cluster.brokers[0]?.host}`);
    check(cluster.controller === cluster.brokers[0]?.nodeId, `controller ${cluster.controller}`);

    let meta = await admin.fetchTopicMetadata({ topics: [topic] });
    check(meta.topics[0]?.partitions.length === 3, `partitions ${meta.topics[0]?.partitions.length}`);

    await admin.createPartitions({ topicPartitions: [{ topic, count: 5 }] });
    check(
      await waitFor(async () => {
        meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return meta.topics[0]?.partitions.length === 5;
      }, 10_000),
      `partitions after createPartitions: ${meta.topics[0]?.partitions.length}`,
    );

    const resource = { type: ConfigResourceTypes.TOPIC, name: topic };
    let configs = await admin.describeConfigs({
      resources: [{ ...resource, configNames: ["retention.ms"] }],
      includeSynonyms: false,
    });
    const retention = configs.resources[0]?.configEntries.find((e) => e.configName === "retention.ms");
    check(retention?.configValue === "3600000", `retention.ms ${retention?.configValue}`);

    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ ...resource, configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
    });
    configs = await admin.describeConfigs({
      resources: [{ ...resource, configNames: ["cleanup.policy"] }],
      includeSynonyms: false,
    });
    const policy = configs.resources[0]?.configEntries.find((e) => e.configName === "cleanup.policy");
    check(policy?.configValue === "compact", `cleanup.policy after alterConfigs ${policy?.configValue}`);

    const offsets = await admin.fetchTopicOffsets(topic);
    check(
      offsets.length === 5 && offsets.every((o) => o.high === "0" && o.low === "0"),
      `offsets ${JSON.stringify(offsets)}`,
    );

    await admin.listGroups();
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    check(
      await waitFor(async () => !(await admin.listTopics()).includes(topic), 10_000),
      "topic still listed after delete",
    );
  } finally {
    await admin.disconnect();
  }
});

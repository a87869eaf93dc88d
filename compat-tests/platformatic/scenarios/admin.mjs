// @platformatic/kafka Admin: create (with a config), list, metadata, create partitions, describe
// configs, list offsets, list groups, delete.
import { Admin, ConfigResourceTypes } from "@platformatic/kafka";
import { bootstrapBrokers, check, scenario, sleep, uniqueName } from "../lib.mjs";

scenario(async () => {
  const admin = new Admin({ clientId: "krill-compat-plt", bootstrapBrokers: bootstrapBrokers() });
  try {
    const topic = uniqueName("admin");
    const created = await admin.createTopics({
      topics: [topic],
      partitions: 3,
      replicas: 1,
      configs: [{ name: "retention.ms", value: "3600000" }],
    });
    check(
      created[0]?.name === topic && created[0]?.partitions === 3,
      `createTopics returned ${JSON.stringify(created)}`,
    );
    check((await admin.listTopics()).includes(topic), "listTopics misses the topic");

    let metadata = await admin.metadata({ topics: [topic] });
    check(metadata.brokers.size === 1, `brokers ${metadata.brokers.size}`);
    check(
      metadata.topics.get(topic)?.partitionsCount === 3,
      `partitions ${metadata.topics.get(topic)?.partitionsCount}`,
    );

    await admin.createPartitions({ topics: [{ name: topic, count: 5 }] });
    const deadline = Date.now() + 10_000;
    do {
      metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      if (metadata.topics.get(topic)?.partitionsCount === 5) break;
      await sleep(200);
    } while (Date.now() < deadline);
    check(metadata.topics.get(topic)?.partitionsCount === 5, "partitions after createPartitions");

    const [description] = await admin.describeConfigs({
      resources: [
        { resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ["retention.ms"] },
      ],
    });
    const retention = description?.configs.find((c) => c.name === "retention.ms");
    check(retention?.value === "3600000", `retention.ms ${retention?.value}`);

    const offsets = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: [0, 1, 2, 3, 4].map((partitionIndex) => ({ partitionIndex, timestamp: -1n })),
        },
      ],
    });
    const partitions = offsets[0]?.partitions ?? [];
    check(
      partitions.length === 5 && partitions.every((p) => p.offset === 0n),
      `listOffsets ${partitions.length}`,
    );

    await admin.listGroups();
    await admin.deleteTopics({ topics: [topic] });
    const gone = Date.now() + 10_000;
    while ((await admin.listTopics()).includes(topic) && Date.now() < gone) await sleep(200);
    check(!(await admin.listTopics()).includes(topic), "topic still listed after delete");
  } finally {
    await admin.close();
  }
});

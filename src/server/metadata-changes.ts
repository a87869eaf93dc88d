/**
 * Info lines for what changed in the cluster's metadata, as Kafka logs them at info (its
 * controller's "Created topic", "Replayed ConfigRecord", the broker's leader/ISR changes): one
 * publisher listener sees every committed batch, so admin actions leave a trace whichever API,
 * tool or auto-creation made them.
 *
 * Lines: "created topic" (name, id, partitions, replication factor), "created partition" (a
 * partition added to a topic that existed before the batch), "deleted topic", "config changed" /
 * "config removed" (topic or broker, key and value; values of secret-looking keys are redacted),
 * "leader changed" (with the previous leader and the new leader epoch), "ISR changed",
 * "broker registered".
 */
import type { Logger } from "pino";
import type { MetadataImage } from "../metadata/image.js";
import { CONFIG_RESOURCE_TYPE, type MetadataRecord } from "../metadata/records.js";

/** Keys whose values never reach a log (Kafka's PASSWORD-typed keys and SASL/JAAS settings). */
const SECRET_KEY = /password|secret|jaas|credential|token/i;

function resourceTypeName(type: number): string {
  if (type === CONFIG_RESOURCE_TYPE.TOPIC) return "topic";
  if (type === CONFIG_RESOURCE_TYPE.BROKER) return "broker";
  return String(type);
}

export function logMetadataChanges(
  logger: Pick<Logger, "info">,
  next: MetadataImage,
  previous: MetadataImage,
  records: readonly MetadataRecord[],
): void {
  const createdTopics = new Set<string>();
  for (const record of records) {
    switch (record.type) {
      case "Topic": {
        createdTopics.add(record.data.topicId);
        const topic = next.topicsById.get(record.data.topicId);
        logger.info(
          {
            topic: record.data.name,
            topicId: record.data.topicId,
            partitions: topic?.partitions.length ?? 0,
            replicationFactor: topic?.partitions[0]?.replicas.length ?? 0,
          },
          "created topic",
        );
        break;
      }
      case "Partition": {
        if (createdTopics.has(record.data.topicId)) break;
        const topic = next.topicsById.get(record.data.topicId);
        logger.info(
          {
            topic: topic?.name ?? record.data.topicId,
            partition: record.data.partitionId,
            leader: record.data.leader,
            replicas: record.data.replicas,
          },
          "created partition",
        );
        break;
      }
      case "RemoveTopic": {
        const topic = previous.topicsById.get(record.data.topicId);
        logger.info(
          { topic: topic?.name, topicId: record.data.topicId, partitions: topic?.partitions.length ?? 0 },
          "deleted topic",
        );
        break;
      }
      case "Config": {
        const { resourceType, resourceName, name, value } = record.data;
        const fields = { resourceType: resourceTypeName(resourceType), resource: resourceName, key: name };
        if (value === null) logger.info(fields, "config removed");
        else
          logger.info({ ...fields, value: SECRET_KEY.test(name) ? "(redacted)" : value }, "config changed");
        break;
      }
      case "PartitionChange": {
        const topic = next.topicsById.get(record.data.topicId);
        const now = topic?.partitions[record.data.partitionId];
        const before = previous.topicsById.get(record.data.topicId)?.partitions[record.data.partitionId];
        if (topic === undefined || now === undefined) break;
        const where = { topic: topic.name, partition: now.partitionId };
        if (before === undefined || before.leader !== now.leader) {
          logger.info(
            { ...where, leader: now.leader, previousLeader: before?.leader, leaderEpoch: now.leaderEpoch },
            "leader changed",
          );
        }
        if (before === undefined || before.isr.join(",") !== now.isr.join(",")) {
          logger.info({ ...where, isr: now.isr, previousIsr: before?.isr }, "ISR changed");
        }
        break;
      }
      case "RegisterBroker":
        logger.info(
          {
            brokerId: record.data.brokerId,
            brokerEpoch: record.data.brokerEpoch.toString(),
            fenced: record.data.fenced,
            endpoints: record.data.endPoints.map((e) => `${e.name}://${e.host}:${e.port}`),
          },
          "broker registered",
        );
        break;
      default:
        break;
    }
  }
}

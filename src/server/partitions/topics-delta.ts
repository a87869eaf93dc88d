/**
 * What one published metadata batch changed for the partitions of this node (Kafka's
 * TopicsDelta, reduced to what the data path reacts to), worked out from the batch's records and
 * the images before and after it.
 */
import type { MetadataImage, PartitionImage, TopicImage } from "../../metadata/image.js";
import { CONFIG_RESOURCE_TYPE, type MetadataRecord } from "../../metadata/records.js";

export interface PartitionDelta {
  readonly topic: TopicImage;
  readonly partition: PartitionImage;
  /** The partition before the batch; undefined when the batch created it. */
  readonly previous: PartitionImage | undefined;
}

export interface TopicsDelta {
  /** Topics the batch deleted, as they were before it. */
  readonly deleted: readonly TopicImage[];
  /** Partitions the batch created or changed, in record order, as they are after it. */
  readonly changed: readonly PartitionDelta[];
  /** Names of topics whose config overrides changed (and which still exist). */
  readonly reconfigured: ReadonlySet<string>;
  /** A broker-level config changed: every topic's effective settings may have. */
  readonly brokerConfigChanged: boolean;
}

export function topicsDelta(
  next: MetadataImage,
  previous: MetadataImage,
  records: readonly MetadataRecord[],
): TopicsDelta {
  const deleted: TopicImage[] = [];
  const changed = new Map<string, PartitionDelta>();
  const reconfigured = new Set<string>();
  let brokerConfigChanged = false;
  for (const record of records) {
    switch (record.type) {
      case "RemoveTopic": {
        const topic = previous.topicsById.get(record.data.topicId);
        if (topic !== undefined) deleted.push(topic);
        break;
      }
      case "Partition":
      case "PartitionChange": {
        const topic = next.topicsById.get(record.data.topicId);
        const partition = topic?.partitions[record.data.partitionId];
        if (topic === undefined || partition === undefined) break;
        const key = `${topic.topicId}:${partition.partitionId}`;
        changed.delete(key);
        changed.set(key, {
          topic,
          partition,
          previous: previous.topicsById.get(topic.topicId)?.partitions[partition.partitionId],
        });
        break;
      }
      case "Config":
        if (record.data.resourceType === CONFIG_RESOURCE_TYPE.TOPIC) {
          if (next.topicsByName.has(record.data.resourceName)) reconfigured.add(record.data.resourceName);
        } else if (record.data.resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
          brokerConfigChanged = true;
        }
        break;
    }
  }
  return { deleted, changed: [...changed.values()], reconfigured, brokerConfigChanged };
}

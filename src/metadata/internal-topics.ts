/**
 * Kafka's internal topics and how they are created on first use (Kafka's AutoTopicCreationManager):
 * partition count and replication from broker config, compacted, with the segment size Kafka uses
 * for them. Group and transaction coordinators call `ensureInternalTopic`; Metadata auto-creation
 * goes through it too, so the topic is the same whoever creates it first.
 */
import type { BrokerConfig } from "../config/broker-config.js";
import type { CreateTopicRequest, CreateTopicResult } from "./controller.js";
import type { ControllerChannel } from "./controller-channel.js";
import type { MetadataImage } from "./image.js";

export const CONSUMER_OFFSETS_TOPIC = "__consumer_offsets";
export const TRANSACTION_STATE_TOPIC = "__transaction_state";

/** Kafka's offsets.topic.segment.bytes and transaction.state.log.segment.bytes defaults. */
const INTERNAL_SEGMENT_BYTES = "104857600";

export function isInternalTopic(name: string): boolean {
  return name === CONSUMER_OFFSETS_TOPIC || name === TRANSACTION_STATE_TOPIC;
}

/**
 * The CreateTopics entry for an internal topic, or undefined for an ordinary name. The
 * replication factor is `offsets.topic.replication.factor` / `transaction.state.log.replication.factor`
 * as set, not capped by the live brokers: as in Kafka 4.4 (AutoTopicCreationManager), creation
 * fails with INVALID_REPLICATION_FACTOR until enough brokers are registered, and the coordinator
 * stays unavailable meanwhile.
 */
export function internalTopicRequest(name: string, config: BrokerConfig): CreateTopicRequest | undefined {
  const rf = (key: string) => config.int(key);
  if (name === CONSUMER_OFFSETS_TOPIC) {
    return {
      name,
      numPartitions: config.int("offsets.topic.num.partitions"),
      replicationFactor: rf("offsets.topic.replication.factor"),
      assignments: [],
      configs: [
        { name: "cleanup.policy", value: "compact" },
        { name: "compression.type", value: "producer" },
        { name: "segment.bytes", value: INTERNAL_SEGMENT_BYTES },
      ],
    };
  }
  if (name === TRANSACTION_STATE_TOPIC) {
    return {
      name,
      numPartitions: config.int("transaction.state.log.num.partitions"),
      replicationFactor: rf("transaction.state.log.replication.factor"),
      assignments: [],
      configs: [
        { name: "cleanup.policy", value: "compact" },
        { name: "compression.type", value: "uncompressed" },
        { name: "segment.bytes", value: INTERNAL_SEGMENT_BYTES },
      ],
    };
  }
  return undefined;
}

/** Creates the internal topic unless it exists; resolves once its partition logs exist. */
export async function ensureInternalTopic(
  name: string,
  controller: ControllerChannel,
  image: MetadataImage,
  config: BrokerConfig,
): Promise<CreateTopicResult | undefined> {
  if (image.topicsByName.has(name)) return undefined;
  const request = internalTopicRequest(name, config);
  if (request === undefined) throw new Error(`assertion: ${name} is not an internal topic`);
  const [result] = await controller.createTopics([request], false);
  return result;
}

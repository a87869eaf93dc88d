/**
 * DescribeTopicPartitions (key 75), version 0 (KIP-966), which `kafka-topics --describe` and the
 * Java admin's describeTopics use from Kafka 3.8 on instead of Metadata.
 *
 * Topics are taken in name order (Java's String order, which is JavaScript's), every topic when
 * the request names none, from the cursor's topic on; at most
 * min(response_partition_limit, max.request.partition.size.limit) partitions (at least 1) are
 * described, and next_cursor names the first partition left out (Kafka's
 * KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse). A named topic that does not
 * exist is UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for an illegal name); with no
 * names, only existing topics are listed. A cursor naming a topic the list lacks, or a negative
 * partition, is INVALID_REQUEST for every named topic, as Kafka's error response gives it.
 * Krill keeps no eligible leader replicas (ELR, KIP-966), so both ELR lists are empty; Krill has
 * no ACLs, so every topic operation is authorized.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { topicNameError } from "../../metadata/controller.js";
import type { MetadataImage, TopicImage } from "../../metadata/image.js";
import { isInternalTopic } from "../../metadata/internal-topics.js";
import { DESCRIBE_TOPIC_PARTITIONS_API } from "../../protocol/generated/apis.js";
import type {
  DescribeTopicPartitionsResponse,
  DescribeTopicPartitionsResponseTopic as ResponseTopic,
} from "../../protocol/generated/describe-topic-partitions-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { authorizedOperations, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED } from "./003-metadata.js";

const NO_LEADER_ID = -1;

/** The partitions of `topic` from `start`, at most `max`; the first one left out, or -1. */
function describePartitions(
  image: MetadataImage,
  topic: TopicImage,
  start: number,
  max: number,
): { partitions: ResponseTopic["partitions"]; next: number } {
  const end = Math.min(topic.partitions.length, start + max);
  const partitions: ResponseTopic["partitions"] = [];
  for (let i = start; i < end; i++) {
    const p = topic.partitions[i]!;
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.partitionId,
      leaderId: image.brokers.has(p.leader) ? p.leader : NO_LEADER_ID,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: p.replicas.filter((r) => !image.brokers.has(r)),
    });
  }
  return { partitions, next: end < topic.partitions.length ? end : -1 };
}

export const handler = defineHandler({
  api: DESCRIBE_TOPIC_PARTITIONS_API,
  minVersion: 0,
  maxVersion: 0,
  ordering: "concurrent",
  handle(ctx, request): DescribeTopicPartitionsResponse {
    const image = ctx.broker.image();
    const cursor = request.cursor;
    const cursorTopic = cursor?.topicName ?? "";
    const allTopics = request.topics.length === 0;
    const names = new Set<string>();
    for (const name of allTopics ? image.topicsByName.keys() : request.topics.map((t) => t.name)) {
      if (name >= cursorTopic) names.add(name);
    }
    if (cursor !== null && ((!allTopics && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          errorCode: ErrorCode.INVALID_REQUEST,
          name: t.name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        })),
        nextCursor: null,
      };
    }
    let remaining = Math.max(
      Math.min(ctx.broker.config.int("max.request.partition.size.limit"), request.responsePartitionLimit),
      1,
    );
    const response: DescribeTopicPartitionsResponse = { throttleTimeMs: 0, topics: [], nextCursor: null };
    // Topics the client may not describe: left out, or (named) TOPIC_AUTHORIZATION_FAILED after
    // the others, whether they exist or not.
    const describable = filterAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, names);
    const unauthorized = [...names].filter((n) => !describable.has(n)).sort();
    for (const name of [...describable].sort()) {
      if (remaining === 0) {
        // Every partition of the topics before fitted: the next page starts at this topic.
        response.nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const topic = image.topicsByName.get(name);
      if (topic === undefined) {
        if (!allTopics) {
          response.topics.push({
            errorCode:
              topicNameError(name) === undefined
                ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                : ErrorCode.INVALID_TOPIC_EXCEPTION,
            name,
            topicId: ZERO_UUID,
            isInternal: isInternalTopic(name),
            partitions: [],
            // Kafka sets every listed topic's operations, found or not.
            topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, name),
          });
        }
        continue;
      }
      const start = name === cursorTopic && cursor !== null ? cursor.partitionIndex : 0;
      const { partitions, next } = describePartitions(image, topic, start, remaining);
      response.topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.topicId,
        isInternal: isInternalTopic(name),
        partitions,
        topicAuthorizedOperations: authorizedOperations(ctx, ResourceType.TOPIC, name),
      });
      if (next !== -1) {
        response.nextCursor = { topicName: name, partitionIndex: next };
        break;
      }
      remaining -= partitions.length;
    }
    if (!allTopics) {
      for (const name of unauthorized) {
        response.topics.push({
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          name,
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        });
      }
    }
    return response;
  },
});

/**
 * CreateTopics (key 19), versions 2-7 (Kafka 4 dropped 0-1, KIP-896).
 *
 * Each topic is validated on its own and the valid ones are committed together: bad names get
 * INVALID_TOPIC_EXCEPTION, an existing name TOPIC_ALREADY_EXISTS, a name given twice
 * INVALID_REQUEST, non-positive counts INVALID_PARTITIONS / INVALID_REPLICATION_FACTOR (-1 means the
 * broker default), more replicas than brokers INVALID_REPLICATION_FACTOR, a bad manual assignment
 * INVALID_REPLICA_ASSIGNMENT, an unknown or invalid config INVALID_CONFIG. validate_only checks
 * everything and writes nothing. v5+ answers with the topic's partition count, replication factor
 * and effective configs (value, source, read-only, sensitive); v7 adds the topic id.
 */
import { describeTopicConfig, TOPIC_CONFIG_DEFS } from "../../config/topic-config.js";
import { CREATE_TOPICS_API } from "../../protocol/generated/apis.js";
import type { CreateTopicsResponseCreatableTopicConfigs } from "../../protocol/generated/create-topics-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: CREATE_TOPICS_API,
  minVersion: 2,
  maxVersion: 7,
  ordering: "concurrent",
  async handle(ctx, request) {
    const broker = ctx.broker;
    const results = await broker.controller.createTopics(
      request.topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments,
        configs: t.configs,
      })),
      request.validateOnly,
    );
    return {
      throttleTimeMs: 0,
      topics: results.map((r) => {
        const ok = r.errorCode === ErrorCode.NONE;
        let configs: CreateTopicsResponseCreatableTopicConfigs[] | null = null;
        if (ok && ctx.apiVersion >= 5) {
          const topic = request.topics.find((t) => t.name === r.name)!;
          const overrides = new Map(topic.configs.map((c) => [c.name, c.value ?? ""]));
          configs = TOPIC_CONFIG_DEFS.map((d) => {
            const view = describeTopicConfig(d, broker.config, overrides);
            return {
              name: view.name,
              value: view.value,
              readOnly: view.readOnly,
              configSource: view.source,
              isSensitive: view.sensitive,
            };
          });
        }
        return {
          name: r.name,
          topicId: r.topicId,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          topicConfigErrorCode: ErrorCode.NONE,
          numPartitions: ok ? r.numPartitions : -1,
          replicationFactor: ok ? r.replicationFactor : -1,
          configs,
        };
      }),
    };
  },
});

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
 * `__cluster_metadata` is never created (INVALID_REQUEST, as Kafka's ControllerApis).
 * controller_mutation_rate: each topic takes its partition count (THROTTLING_QUOTA_EXCEEDED from
 * v6, a throttled response below; src/server/quotas/controller-mutation.ts).
 *
 * On a broker listener the write goes through the controller channel (forwarded to the active
 * controller when it is elsewhere, within timeout_ms); on a controller listener it runs on this
 * node's controller when active, else every topic is answered NOT_CONTROLLER (controller-apis.ts).
 */

import { describeTopicConfig, TOPIC_CONFIG_DEFS } from "../../config/topic-config.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import type { CreateTopicResult } from "../../metadata/controller.js";
import { METADATA_TOPIC } from "../../metadata/metadata-log.js";
import { CREATE_TOPICS_API } from "../../protocol/generated/apis.js";
import type { CreateTopicsResponseCreatableTopicConfigs } from "../../protocol/generated/create-topics-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { authorizeCluster, filterAuthorized } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import {
  controllerMutationQuota,
  THROTTLING_QUOTA_EXCEEDED,
  THROTTLING_QUOTA_EXCEEDED_MESSAGE,
} from "../quotas/controller-mutation.js";
import { defineHandler } from "../registry.js";

function failed(name: string, errorCode: number, errorMessage: string): CreateTopicResult {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1 };
}

export const handler = defineHandler({
  api: CREATE_TOPICS_API,
  minVersion: 2,
  maxVersion: 7,
  ordering: "concurrent",
  async handle(ctx, request) {
    const broker = ctx.broker;
    // Kafka's ControllerApis.createTopics: CREATE on the cluster, else on each topic; configs are
    // returned only for topics the client may DESCRIBE_CONFIGS.
    const names = request.topics.map((t) => t.name).filter((n) => n !== METADATA_TOPIC);
    const authorized = authorizeCluster(ctx, AclOperation.CREATE, { logIfDenied: false })
      ? new Set(names)
      : filterAuthorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, names);
    const configsVisible = filterAuthorized(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, names, {
      logIfDenied: false,
    });
    const allowedTopics = request.topics.filter((t) => t.name !== METADATA_TOPIC && authorized.has(t.name));
    // controller_mutation_rate, strict from v6: a topic takes its partition count in tokens.
    const takeTokens = controllerMutationQuota(ctx, 6);
    const throttled: CreateTopicResult[] = [];
    const creatable = allowedTopics.filter((t) => {
      const partitions =
        t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? broker.config.int("num.partitions")
            : t.numPartitions;
      if (takeTokens(Math.max(0, partitions))) return true;
      throttled.push(failed(t.name, THROTTLING_QUOTA_EXCEEDED, THROTTLING_QUOTA_EXCEEDED_MESSAGE));
      return false;
    });
    const results = await runOnController(
      ctx,
      (controller) =>
        controller.createTopics(
          creatable.map((t) => ({
            name: t.name,
            numPartitions: t.numPartitions,
            replicationFactor: t.replicationFactor,
            assignments: t.assignments,
            configs: t.configs,
          })),
          request.validateOnly,
          { timeoutMs: request.timeoutMs },
        ),
      (message) => creatable.map((t) => failed(t.name, ErrorCode.NOT_CONTROLLER, message)),
    );
    results.push(...throttled);
    for (const name of new Set(names)) {
      if (!authorized.has(name))
        results.push(failed(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed."));
    }
    if (request.topics.some((t) => t.name === METADATA_TOPIC)) {
      results.push(
        failed(
          METADATA_TOPIC,
          ErrorCode.INVALID_REQUEST,
          `Creation of internal topic ${METADATA_TOPIC} is prohibited.`,
        ),
      );
    }
    return {
      throttleTimeMs: 0,
      topics: results.map((r) => {
        const ok = r.errorCode === ErrorCode.NONE;
        let configs: CreateTopicsResponseCreatableTopicConfigs[] | null = null;
        const configsDenied = ok && !configsVisible.has(r.name);
        if (ok && ctx.apiVersion >= 5 && !configsDenied) {
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
          topicConfigErrorCode: configsDenied ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.NONE,
          numPartitions: ok ? r.numPartitions : -1,
          replicationFactor: ok ? r.replicationFactor : -1,
          configs,
        };
      }),
    };
  },
});

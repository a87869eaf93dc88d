/**
 * DescribeConfigs (key 32), versions 1-4 (Kafka 4 dropped v0, KIP-896).
 *
 * TOPIC resources: every topic config with its effective value and source (topic override,
 * static broker key, or default), synonyms in Kafka's precedence order when asked (v1+), the type
 * (v3+) and our documentation when asked (v3+). BROKER resources: this node's id gives every broker
 * key with its source (dynamic for this broker, dynamic cluster default, static, default) and
 * the layers that set it as synonyms (sensitive values null, read-only for keys that cannot change
 * at run time); the empty name lists the cluster-wide dynamic defaults; another id is
 * INVALID_REQUEST. configuration_keys limits the answer; unknown keys are left out, as in Kafka.
 * Other resource types (broker loggers, client metrics, groups) are INVALID_REQUEST.
 */

import type { BrokerConfig } from "../../config/broker-config.js";
import { CONFIG_TYPE_CODES, formatConfigValue } from "../../config/config-def.js";
import {
  CONFIG_SOURCE,
  type ConfigEntryView,
  describeTopicConfig,
  TOPIC_CONFIG_DEFS,
} from "../../config/topic-config.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { CONFIG_RESOURCE_TYPE } from "../../metadata/records.js";
import { DESCRIBE_CONFIGS_API } from "../../protocol/generated/apis.js";
import type {
  DescribeConfigsResponseDescribeConfigsResourceResult,
  DescribeConfigsResponseDescribeConfigsResult,
} from "../../protocol/generated/describe-configs-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize, authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export function brokerConfigViews(config: BrokerConfig): ConfigEntryView[] {
  return config.entries().map(({ def, value }) => {
    const hide = (text: string | null) => (def.sensitive ? null : text);
    return {
      name: def.name,
      value: hide(formatConfigValue(value)),
      source: config.sourceOf(def.name),
      readOnly: def.updateMode === "read-only",
      sensitive: def.sensitive === true,
      type: def.type,
      doc: def.doc,
      synonyms: config.layers(def.name).map((l) => ({ ...l, value: hide(l.value) })),
    };
  });
}

/** The cluster-wide dynamic defaults (BROKER resource ""), as Kafka lists them. */
function clusterDefaultViews(config: BrokerConfig, defaults: ReadonlyMap<string, string>): ConfigEntryView[] {
  return brokerConfigViews(config)
    .filter((v) => defaults.has(v.name))
    .map((v) => ({
      ...v,
      value: v.sensitive ? null : (defaults.get(v.name) ?? null),
      source: CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG,
      synonyms: v.synonyms.filter((l) => l.source === CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG),
    }));
}

function toWire(
  view: ConfigEntryView,
  includeSynonyms: boolean,
  includeDocumentation: boolean,
): DescribeConfigsResponseDescribeConfigsResourceResult {
  return {
    name: view.name,
    value: view.value,
    readOnly: view.readOnly,
    configSource: view.source,
    isSensitive: view.sensitive,
    synonyms: includeSynonyms ? view.synonyms.map((s) => ({ ...s })) : [],
    configType: CONFIG_TYPE_CODES[view.type],
    documentation: includeDocumentation ? view.doc : null,
  };
}

export const handler = defineHandler({
  api: DESCRIBE_CONFIGS_API,
  minVersion: 1,
  maxVersion: 4,
  ordering: "concurrent",
  handle(ctx, request) {
    const broker = ctx.broker;
    const image = broker.image();
    const results: DescribeConfigsResponseDescribeConfigsResult[] = request.resources.map((resource) => {
      const result = (errorCode: number, errorMessage: string | null, views: ConfigEntryView[]) => {
        const wanted = resource.configurationKeys === null ? null : new Set(resource.configurationKeys);
        return {
          errorCode,
          errorMessage,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          configs: views
            .filter((v) => wanted === null || wanted.has(v.name))
            .map((v) => toWire(v, request.includeSynonyms, request.includeDocumentation)),
        };
      };
      // Kafka's ConfigHelper: DESCRIBE_CONFIGS on the topic, or on the cluster for broker configs.
      if (resource.resourceType === CONFIG_RESOURCE_TYPE.TOPIC) {
        if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, resource.resourceName)) {
          return result(ErrorCode.TOPIC_AUTHORIZATION_FAILED, null, []);
        }
        if (!image.topicsByName.has(resource.resourceName)) {
          return result(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `Topic ${resource.resourceName} does not exist.`,
            [],
          );
        }
        const overrides = image.topicConfigs(resource.resourceName);
        return result(
          ErrorCode.NONE,
          null,
          TOPIC_CONFIG_DEFS.map((d) => describeTopicConfig(d, broker.config, overrides)),
        );
      }
      if (resource.resourceType === CONFIG_RESOURCE_TYPE.BROKER) {
        if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS)) {
          return result(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null, []);
        }
        if (resource.resourceName === "") {
          return result(ErrorCode.NONE, null, clusterDefaultViews(broker.config, image.brokerConfigs("")));
        }
        if (resource.resourceName !== String(broker.nodeId)) {
          return result(
            ErrorCode.INVALID_REQUEST,
            `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${resource.resourceName}`,
            [],
          );
        }
        return result(ErrorCode.NONE, null, brokerConfigViews(broker.config));
      }
      return result(
        ErrorCode.INVALID_REQUEST,
        `Krill does not describe configs of resource type ${resource.resourceType}`,
        [],
      );
    });
    return { throttleTimeMs: 0, results };
  },
});

import { describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { parseConfigValue } from "../../src/config/config-def.js";
import {
  CONFIG_SOURCE,
  describeTopicConfig,
  effectiveTopicConfig,
  TOPIC_CONFIG_DEFS,
  topicConfigDef,
  validateTopicConfig,
} from "../../src/config/topic-config.js";

describe("topic config", () => {
  it("every default passes its validator and every synonym is a broker key", () => {
    const broker = BrokerConfig.create({});
    for (const d of TOPIC_CONFIG_DEFS) {
      expect(() => parseConfigValue(d, d.defaultValue, "default")).not.toThrow();
      for (const s of d.synonyms) expect(() => broker.get(s.name)).not.toThrow();
    }
  });

  it("falls back from topic override to broker key to default", () => {
    const broker = BrokerConfig.create({ "log.retention.minutes": "10", "message.max.bytes": "2000" });
    const none = effectiveTopicConfig(broker, new Map());
    expect(none.retentionMs).toBe(600_000);
    expect(none.maxMessageBytes).toBe(2000);
    expect(none.segmentBytes).toBe(1073741824);
    expect(none.segmentMs).toBe(168 * 3_600_000);
    const own = effectiveTopicConfig(broker, new Map([["retention.ms", "5000"]]));
    expect(own.retentionMs).toBe(5000);
  });

  it("reports sources and synonyms in Kafka's order", () => {
    const broker = BrokerConfig.create({ "log.retention.minutes": "10" });
    const d = topicConfigDef("retention.ms")!;
    const fromBroker = describeTopicConfig(d, broker, new Map());
    expect(fromBroker.value).toBe("600000");
    // Kafka (ConfigHelper.configSynonyms) drops every synonym before the first entry of the primary
    // broker key, log.retention.ms: with only log.retention.minutes set there is none, and the
    // source is the default (checked against Kafka 4.4 by compat-tests/krill-cli/configs.sh).
    expect(fromBroker.source).toBe(CONFIG_SOURCE.DEFAULT_CONFIG);
    expect(fromBroker.synonyms).toEqual([]);
    // Layer by layer (dynamic default before static before default), from log.retention.ms on.
    const layered = BrokerConfig.create({ "log.retention.ms": "5000", "log.retention.minutes": "10" });
    const withPrimary = describeTopicConfig(d, layered, new Map());
    expect(withPrimary).toMatchObject({ value: "5000", source: CONFIG_SOURCE.STATIC_BROKER_CONFIG });
    expect(withPrimary.synonyms).toEqual([
      { name: "log.retention.ms", value: "5000", source: CONFIG_SOURCE.STATIC_BROKER_CONFIG },
      { name: "log.retention.minutes", value: "10", source: CONFIG_SOURCE.STATIC_BROKER_CONFIG },
      { name: "log.retention.hours", value: "168", source: CONFIG_SOURCE.DEFAULT_CONFIG },
    ]);
    const own = describeTopicConfig(d, broker, new Map([["retention.ms", "1"]]));
    expect(own.source).toBe(CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG);
    expect(own.synonyms[0]).toEqual({
      name: "retention.ms",
      value: "1",
      source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG,
    });
    const plain = describeTopicConfig(topicConfigDef("cleanup.policy")!, BrokerConfig.create({}), new Map());
    expect(plain).toMatchObject({ value: "delete", source: CONFIG_SOURCE.DEFAULT_CONFIG });
  });

  it("validates overrides with messages naming the key", () => {
    expect(validateTopicConfig("retention.ms", "1000")).toBeUndefined();
    expect(validateTopicConfig("retention.ms", "soon")).toContain("retention.ms");
    expect(validateTopicConfig("cleanup.policy", "compact,delete")).toBeUndefined();
    expect(validateTopicConfig("cleanup.policy", "archive")).toContain("[compact, delete]");
    expect(validateTopicConfig("segment.bytes", "100")).toContain("[1048576,...]");
    expect(validateTopicConfig("no.such.key", "1")).toContain("Unknown topic config");
  });
});

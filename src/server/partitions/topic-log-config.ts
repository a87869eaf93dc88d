/** A topic's effective log settings (broker defaults under its overrides), for the log manager. */
import type { BrokerConfig } from "../../config/broker-config.js";
import { describeTopicConfig, TOPIC_CONFIG_DEFS } from "../../config/topic-config.js";
import { DEFAULT_LOG_CONFIG, isLogConfigName, type LogConfig, logConfigFrom } from "../../log/config.js";

export function topicLogConfig(config: BrokerConfig, overrides: ReadonlyMap<string, string>): LogConfig {
  const values: Record<string, string> = {};
  for (const d of TOPIC_CONFIG_DEFS) {
    if (!isLogConfigName(d.name)) continue;
    const value = describeTopicConfig(d, config, overrides).value;
    if (value !== null) values[d.name] = value;
  }
  for (const [name, value] of overrides) if (isLogConfigName(name)) values[name] = value;
  return logConfigFrom(values, DEFAULT_LOG_CONFIG);
}

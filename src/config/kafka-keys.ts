/**
 * Which keys Apache Kafka's broker knows. The keys come from Kafka's own ConfigDef
 * (kafka-known-keys.ts, generated); besides them Kafka accepts two families it reads by prefix:
 * per-listener overrides (`listener.name.<listener>.<key>`, including the per-mechanism SASL
 * settings `listener.name.<listener>.<mechanism>.sasl.jaas.config`) and config provider settings
 * (`config.providers.<name>.class`, `config.providers.<name>.param.<param>`).
 *
 * A key neither Kafka nor Krill knows is logged as a warning, as Kafka logs it (vendor keys such
 * as `confluent.*` are common in real files), or refused in strict mode (`krill.config.strict`).
 */
import { KAFKA_BROKER_CONFIG_KEYS, KAFKA_CONFIG_KEYS_VERSION } from "./kafka-known-keys.js";

export { KAFKA_CONFIG_KEYS_VERSION };

const LISTENER_PREFIX = /^listener\.name\.[^.]+\.(.+)$/;

export function isKafkaBrokerKey(key: string): boolean {
  if (KAFKA_BROKER_CONFIG_KEYS.has(key)) return true;
  if (key.startsWith("config.providers.")) return true;
  const listener = LISTENER_PREFIX.exec(key);
  if (listener !== null) {
    const rest = listener[1]!;
    return KAFKA_BROKER_CONFIG_KEYS.has(rest) || /^[^.]+\.sasl\./.test(rest);
  }
  return false;
}

/**
 * Broker keys from `KAFKA_*` environment variables, as Apache Kafka's container image reads them
 * (`kafka.docker.KafkaDockerWrapper.getServerConfigsFromEnv` and `docker/resources/common-scripts/
 * configure`), so a compose file or `docker run -e` written for `apache/kafka` configures Krill too:
 *
 * - the name loses its `KAFKA_` prefix and is lower-cased, then `_` becomes `.`, `___` becomes `-`
 *   and `__` becomes `_` (`KAFKA_LOG_RETENTION_MS` is `log.retention.ms`, `KAFKA_ABC___DEF` is
 *   `abc-def`, `KAFKA_ABC__DEF` is `abc_def`);
 * - the variables of Kafka's launch scripts (`KAFKA_HEAP_OPTS`, `KAFKA_OPTS`, ...) are not keys;
 * - `CLUSTER_ID`, the variable Kafka's image formats its storage with, is `cluster.id` (as is
 *   `KAFKA_CLUSTER_ID` by the rule above): empty log directories are formatted with it;
 * - when `KAFKA_ADVERTISED_LISTENERS` is set and `KAFKA_LISTENERS` is not, the listeners are the
 *   advertised ones with every host replaced by 0.0.0.0 (listen on every interface, on the
 *   advertised ports), unless the node is a controller only.
 *
 * `krill start --env-config` applies them over the configuration file and under `--override`
 * (Kafka's image appends them to its server.properties, so they win over the file). The container
 * image's entrypoint passes it.
 */

import { KrillError } from "../errors.js";

/** Kafka's launch-script variables, which its image does not turn into broker keys. */
const NOT_BROKER_KEYS: ReadonlySet<string> = new Set([
  "KAFKA_VERSION",
  "KAFKA_HEAP_OPTS",
  "KAFKA_LOG4J_OPTS",
  "KAFKA_OPTS",
  "KAFKA_JMX_OPTS",
  "KAFKA_JVM_PERFORMANCE_OPTS",
  "KAFKA_GC_LOG_OPTS",
  "KAFKA_LOG4J_ROOT_LOGLEVEL",
  "KAFKA_LOG4J_LOGGERS",
  "KAFKA_TOOLS_LOG4J_LOGLEVEL",
  "KAFKA_JMX_HOSTNAME",
]);

const PREFIX = "KAFKA_";

/** The broker key a `KAFKA_*` variable names, exactly as Kafka's image derives it. */
export function brokerKeyOfEnvName(name: string): string {
  return name
    .slice(PREFIX.length)
    .toLowerCase()
    .replaceAll("_", ".")
    .replaceAll("...", "-")
    .replaceAll("..", "_");
}

/** Broker keys and values from the environment (empty variables are skipped, as Kafka's image does for its derived listeners). */
export function brokerConfigFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  const config = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || NOT_BROKER_KEYS.has(name) || value === undefined) continue;
    config.set(brokerKeyOfEnvName(name), value);
  }
  // Kafka's image formats its storage with CLUSTER_ID (KafkaDockerWrapper.formatStorageCmd); here
  // it is cluster.id, which formats empty log directories and must match formatted ones.
  // KAFKA_CLUSTER_ID names the same key by the rule above; given both, they must agree.
  const clusterId = env.CLUSTER_ID;
  if (clusterId !== undefined && clusterId !== "") {
    const other = config.get("cluster.id");
    if (other !== undefined && other !== clusterId) {
      throw new KrillError(
        "CONFIG_INVALID",
        `CLUSTER_ID (${clusterId}) and KAFKA_CLUSTER_ID (${other}) name different clusters; set one of them`,
      );
    }
    config.set("cluster.id", clusterId);
  }
  const advertised = env.KAFKA_ADVERTISED_LISTENERS;
  const controllerOnly = env.KAFKA_PROCESS_ROLES?.trim() === "controller";
  if (env.KAFKA_LISTENERS === undefined && !controllerOnly && advertised !== undefined && advertised !== "") {
    // The image's `sed -e 's|://[^:]*:|://0.0.0.0:|g'`.
    config.set("listeners", advertised.replace(/:\/\/[^:]*:/g, "://0.0.0.0:"));
  }
  return config;
}

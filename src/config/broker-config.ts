/**
 * Over 1,000 lines on purpose: most of it is the one table of Kafka's broker keys (name, type,
 * default, validator, documentation), which reads best in one place beside its parser.
 *
 * Broker configuration: Kafka's property names, types, defaults and validation rules, with
 * documentation in our own words. `BrokerConfig.create` takes the raw key/value pairs (from
 * server.properties plus --override) and either returns a fully validated, immutable config or
 * throws CONFIG_INVALID naming the key and the accepted values. Keys Kafka itself defines that
 * Krill does not use (kafka-keys.ts, generated from Kafka's ConfigDef) are accepted and reported
 * once, so an existing server.properties keeps working; keys nobody defines are warnings, or
 * refused with `krill.config.strict`; security keys Krill cannot enforce are refused.
 */
import os from "node:os";
import { KrillError } from "../errors.js";
import { type AuthorizerSettings, authorizerSettings } from "./authorizer-settings.js";
import {
  atLeast,
  between,
  type ConfigDef,
  type ConfigType,
  type ConfigValue,
  formatConfigValue,
  INT32_MAX,
  LONG_MAX_TEXT,
  listOf,
  nonEmptyString,
  oneOf,
  parseConfigValue,
  type UpdateMode,
  type Validator,
} from "./config-def.js";
import { type RawEntry, resolveConfigVariables } from "./config-providers.js";
import { isKafkaBrokerKey, KAFKA_CONFIG_KEYS_VERSION } from "./kafka-keys.js";
import { KAFKA_BROKER_CONFIG_KEYS } from "./kafka-known-keys.js";
import { type ListenerSpec, parseListeners, parseProtocolMap } from "./listeners.js";
import { PropertiesFile } from "./properties.js";
import { listenerSaslSettings, type SaslListenerSettings } from "./sasl-settings.js";
import { isEnforcedSecurityKey, unenforcedSecurityKey } from "./security-keys.js";
import { type ListenerTlsSettings, listenerTlsSettings } from "./tls-settings.js";

/** Kafka's built-in server-side assignors: the short name and the class name both select one. */
export const CONSUMER_ASSIGNOR_NAMES: ReadonlyMap<string, string> = new Map([
  ["uniform", "uniform"],
  ["range", "range"],
  ["org.apache.kafka.coordinator.group.assignor.UniformAssignor", "uniform"],
  ["org.apache.kafka.coordinator.group.assignor.RangeAssignor", "range"],
]);

/**
 * group.consumer.assignors: Kafka instantiates each class and refuses duplicates; Krill has only
 * the built-in assignors, so anything else stops start-up instead of being ignored.
 */
function consumerAssignorsValidator(): Validator {
  return {
    check: (v) => {
      if (v === null) return true;
      if (!Array.isArray(v) || v.length === 0) return false;
      const names = v.map((item) => CONSUMER_ASSIGNOR_NAMES.get(item));
      return names.every((n) => n !== undefined) && new Set(names).size === names.length;
    },
    accepted: `a non-empty list without duplicates of [${[...CONSUMER_ASSIGNOR_NAMES.keys()].join(", ")}]`,
  };
}

function def(
  name: string,
  type: ConfigType,
  defaultValue: string | null,
  doc: string,
  opts: { validator?: Validator; updateMode?: UpdateMode; sensitive?: boolean } = {},
): ConfigDef {
  return { name, type, defaultValue, doc, updateMode: opts.updateMode ?? "read-only", ...opts };
}

export const COMPRESSION_TYPES = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"] as const;
export const TIMESTAMP_TYPES = ["CreateTime", "LogAppendTime"] as const;
export const CLEANUP_POLICIES = ["compact", "delete"] as const;

/** Every broker key Krill reads, in documentation order. */
export const BROKER_CONFIG_DEFS: readonly ConfigDef[] = [
  // Identity and roles.
  def(
    "node.id",
    "INT",
    "1",
    "Id of this node in the cluster. Krill defaults to 1 so a single node starts without configuration; Kafka requires it.",
    { validator: atLeast(0) },
  ),
  def("broker.id", "INT", "-1", "Older name of node.id; when set it must equal node.id.", {
    validator: atLeast(-1),
  }),
  def(
    "process.roles",
    "LIST",
    "broker,controller",
    "Roles this node plays: broker, controller, or both. Without controller.quorum.voters a node is a combined single-node quorum whatever this says; in a quorum, a node without the controller role follows the metadata log as an observer and runs no controller.",
    { validator: listOf(["broker", "controller"], false) },
  ),
  def(
    "cluster.id",
    "STRING",
    null,
    "Krill: cluster id to format empty log directories with (22-character base64 UUID). When unset a new id is generated on first start; an existing meta.properties always wins and a different value here stops start-up.",
  ),
  def(
    "broker.rack",
    "STRING",
    null,
    "Rack of this broker, reported to clients in Metadata and DescribeCluster.",
  ),
  // Listeners.
  def(
    "listeners",
    "STRING",
    "PLAINTEXT://:9092",
    "Comma-separated listeners NAME://host:port the broker binds. An empty host binds every interface; port 0 picks a free port.",
    { validator: nonEmptyString() },
  ),
  def(
    "advertised.listeners",
    "STRING",
    null,
    "Listeners published to clients when they differ from `listeners` (same NAME, other host/port). Defaults to the bound listeners.",
  ),
  def(
    "listener.security.protocol.map",
    "STRING",
    "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT",
    "Maps listener names to security protocols as NAME:PROTOCOL pairs. Krill serves PLAINTEXT listeners.",
  ),
  def(
    "inter.broker.listener.name",
    "STRING",
    null,
    "Listener used between brokers: replica fetchers connect to the leader's listener of this name (default: the first it registered).",
  ),
  def(
    "controller.listener.names",
    "STRING",
    null,
    "Listeners of the controller quorum (KRaft RPCs between voters, and admin writes to the active controller); they are not client listeners, and serve only the APIs whose spec lists the controller.",
  ),
  def(
    "controller.quorum.voters",
    "LIST",
    "",
    "Static controller quorum: every voter as id@host:port (its controller listener). When set the node runs the KRaft quorum (docs/raft.md); when empty the node is its own single-voter quorum.",
  ),
  def(
    "controller.quorum.election.timeout.ms",
    "INT",
    "1000",
    "A voter that has no leader stands for election after a random time in [T, 2T).",
    { validator: atLeast(1) },
  ),
  def(
    "controller.quorum.fetch.timeout.ms",
    "INT",
    "2000",
    "A follower that hears nothing from its leader for this long starts an election; a leader not fetched from by a majority for 1.5 times this resigns.",
    { validator: atLeast(1) },
  ),
  def(
    "controller.quorum.election.backoff.max.ms",
    "INT",
    "1000",
    "Largest backoff between a lost election and the next one (binary exponential).",
    { validator: atLeast(1) },
  ),
  def(
    "controller.quorum.request.timeout.ms",
    "INT",
    "2000",
    "How long a quorum request waits for its answer.",
    { validator: atLeast(1) },
  ),
  def(
    "controller.quorum.retry.backoff.ms",
    "INT",
    "20",
    "Wait before a quorum request is retried after a failure.",
    { validator: atLeast(0) },
  ),
  def(
    "controller.quorum.append.linger.ms",
    "INT",
    "25",
    "How long the quorum leader gathers proposals into one batch.",
    { validator: atLeast(0) },
  ),
  def(
    "controller.quorum.bootstrap.servers",
    "LIST",
    "",
    "Controller endpoints (host:port) of a dynamic quorum (KIP-853). One server on a controller (Kafka's sample single node) runs the single-node quorum; more, or on a broker-only node, stop start-up: Krill runs static voters (controller.quorum.voters).",
  ),
  // Storage.
  def(
    "log.dirs",
    "STRING",
    null,
    "Comma-separated directories holding partition data. Overrides log.dir when set.",
  ),
  def(
    "log.dir",
    "STRING",
    "/tmp/kraft-combined-logs",
    "Directory holding partition data when log.dirs is unset.",
  ),
  def(
    "metadata.log.dir",
    "STRING",
    null,
    "Directory of the cluster metadata log; defaults to the first log directory.",
  ),
  def(
    "metadata.log.max.record.bytes.between.snapshots",
    "LONG",
    "20971520",
    "Metadata log bytes appended after the last snapshot before a new snapshot is written.",
    { validator: atLeast(1) },
  ),
  def(
    "metadata.log.max.snapshot.interval.ms",
    "LONG",
    "3600000",
    "Longest time between metadata snapshots while the metadata log grows; 0 disables time-based snapshots.",
    { validator: atLeast(0) },
  ),
  // Topic defaults.
  def(
    "num.partitions",
    "INT",
    "1",
    "Partition count for topics created without one (auto-created or num_partitions = -1).",
    { validator: atLeast(1) },
  ),
  def("default.replication.factor", "INT", "1", "Replication factor for topics created without one.", {
    validator: atLeast(1),
  }),
  def(
    "auto.create.topics.enable",
    "BOOLEAN",
    "true",
    "Create a topic when a client asks Metadata for it and allows auto-creation.",
  ),
  def("delete.topic.enable", "BOOLEAN", "true", "Whether DeleteTopics is allowed."),
  def(
    "log.retention.hours",
    "INT",
    "168",
    "Hours a segment is kept; lowest priority of the three retention-time keys.",
    { validator: atLeast(-1) },
  ),
  def("log.retention.minutes", "INT", null, "Minutes a segment is kept; overrides log.retention.hours.", {
    validator: atLeast(-1),
  }),
  def(
    "log.retention.ms",
    "LONG",
    null,
    "Milliseconds a segment is kept; overrides the minutes and hours keys. -1 keeps forever.",
    { validator: atLeast(-1), updateMode: "cluster-wide" },
  ),
  def(
    "log.retention.bytes",
    "LONG",
    "-1",
    "Largest size of a partition before old segments are deleted; -1 means no limit.",
    { updateMode: "cluster-wide" },
  ),
  def("log.segment.bytes", "INT", "1073741824", "Largest size of one segment file.", {
    validator: atLeast(1048576),
    updateMode: "cluster-wide",
  }),
  def(
    "log.roll.hours",
    "INT",
    "168",
    "Hours after which a new segment is rolled; lower priority than log.roll.ms.",
    { validator: atLeast(1) },
  ),
  def("log.roll.ms", "LONG", null, "Milliseconds after which a new segment is rolled.", {
    validator: atLeast(1),
    updateMode: "cluster-wide",
  }),
  def("log.roll.jitter.hours", "INT", "0", "Random jitter subtracted from the roll time, in hours.", {
    validator: atLeast(0),
  }),
  def("log.roll.jitter.ms", "LONG", null, "Random jitter subtracted from the roll time, in milliseconds.", {
    validator: atLeast(0),
    updateMode: "cluster-wide",
  }),
  def("log.index.interval.bytes", "INT", "4096", "Bytes appended between two offset index entries.", {
    validator: atLeast(0),
    updateMode: "cluster-wide",
  }),
  def("log.index.size.max.bytes", "INT", "10485760", "Largest size of an offset or time index file.", {
    validator: atLeast(4),
    updateMode: "cluster-wide",
  }),
  def("log.retention.check.interval.ms", "LONG", "300000", "How often retention is enforced.", {
    validator: atLeast(1),
  }),
  def(
    "log.flush.interval.messages",
    "LONG",
    LONG_MAX_TEXT,
    "Messages appended to a partition before it is fsynced.",
    { validator: atLeast(1), updateMode: "cluster-wide" },
  ),
  def(
    "log.flush.interval.ms",
    "LONG",
    null,
    "Longest time appended data waits before fsync; unset uses log.flush.scheduler.interval.ms.",
    { updateMode: "cluster-wide" },
  ),
  def(
    "log.flush.scheduler.interval.ms",
    "LONG",
    LONG_MAX_TEXT,
    "How often partitions are checked for a due flush.",
  ),
  def(
    "log.cleanup.policy",
    "LIST",
    "delete",
    "Default retention policy of segments beyond the retention window.",
    { validator: listOf(CLEANUP_POLICIES, true), updateMode: "cluster-wide" },
  ),
  def(
    "log.cleaner.delete.retention.ms",
    "LONG",
    "86400000",
    "How long delete tombstones are kept in compacted topics.",
    { validator: atLeast(0), updateMode: "cluster-wide" },
  ),
  def("log.cleaner.min.compaction.lag.ms", "LONG", "0", "Shortest time a record stays uncompacted.", {
    validator: atLeast(0),
    updateMode: "cluster-wide",
  }),
  def(
    "log.cleaner.max.compaction.lag.ms",
    "LONG",
    LONG_MAX_TEXT,
    "Longest time a record stays uncompacted.",
    { validator: atLeast(1), updateMode: "cluster-wide" },
  ),
  def(
    "log.cleaner.min.cleanable.ratio",
    "DOUBLE",
    "0.5",
    "Dirty ratio above which a compacted log is cleaned.",
    { validator: between(0, 1), updateMode: "cluster-wide" },
  ),
  def("log.segment.delete.delay.ms", "LONG", "60000", "Delay before a deleted segment's files are removed.", {
    validator: atLeast(0),
    updateMode: "cluster-wide",
  }),
  def("log.preallocate", "BOOLEAN", "false", "Preallocate segment files.", { updateMode: "cluster-wide" }),
  def(
    "log.message.timestamp.type",
    "STRING",
    "CreateTime",
    "Timestamp stored in batches: the producer's CreateTime or the broker's LogAppendTime.",
    { validator: oneOf(TIMESTAMP_TYPES), updateMode: "cluster-wide" },
  ),
  def(
    "log.message.timestamp.before.max.ms",
    "LONG",
    LONG_MAX_TEXT,
    "How far in the past a CreateTime timestamp may be before the batch is rejected.",
    { validator: atLeast(0), updateMode: "cluster-wide" },
  ),
  def(
    "log.message.timestamp.after.max.ms",
    "LONG",
    "3600000",
    "How far in the future a CreateTime timestamp may be before the batch is rejected.",
    { validator: atLeast(0), updateMode: "cluster-wide" },
  ),
  def(
    "compression.type",
    "STRING",
    "producer",
    "Compression of stored batches; producer keeps what the producer sent.",
    { validator: oneOf(COMPRESSION_TYPES), updateMode: "cluster-wide" },
  ),
  def("compression.gzip.level", "INT", "-1", "gzip level when the broker compresses (-1 = codec default).", {
    validator: {
      check: (v) => v === -1 || (typeof v === "number" && v >= 1 && v <= 9),
      accepted: "[1,...,9] or -1",
    },
    updateMode: "cluster-wide",
  }),
  def("compression.lz4.level", "INT", "9", "lz4 level when the broker compresses.", {
    validator: between(1, 17),
    updateMode: "cluster-wide",
  }),
  def("compression.zstd.level", "INT", "3", "zstd level when the broker compresses.", {
    validator: between(-131072, 22),
    updateMode: "cluster-wide",
  }),
  def("message.max.bytes", "INT", "1048588", "Largest record batch accepted, after compression.", {
    validator: atLeast(0),
    updateMode: "cluster-wide",
  }),
  def("min.insync.replicas", "INT", "1", "Replicas that must acknowledge an acks=all produce.", {
    validator: atLeast(1),
    updateMode: "cluster-wide",
  }),
  def("unclean.leader.election.enable", "BOOLEAN", "false", "Allow out-of-sync replicas to become leader.", {
    updateMode: "cluster-wide",
  }),
  // Broker liveness and leader placement (the controller's side of replication).
  def(
    "broker.session.timeout.ms",
    "INT",
    "9000",
    "A broker the controller has not heard a heartbeat from for this long is fenced: its leaderships and ISR memberships move to live brokers.",
    { validator: atLeast(1) },
  ),
  def("broker.heartbeat.interval.ms", "INT", "2000", "How often a broker heartbeats to the controller.", {
    validator: atLeast(1),
  }),
  def(
    "auto.leader.rebalance.enable",
    "BOOLEAN",
    "true",
    "Move leadership back to each partition's preferred (first) replica when it is in sync, checked every leader.imbalance.check.interval.seconds.",
  ),
  def(
    "leader.imbalance.check.interval.seconds",
    "LONG",
    "300",
    "How often the controller runs preferred (auto.leader.rebalance.enable) and unclean leader elections.",
    { validator: atLeast(1) },
  ),
  def("fetch.max.bytes", "INT", "57671680", "Largest Fetch response the broker builds.", {
    validator: atLeast(1024),
  }),
  def(
    "max.request.partition.size.limit",
    "INT",
    "2000",
    "Most partitions one DescribeTopicPartitions response describes; the rest follow from its cursor.",
    { validator: atLeast(1) },
  ),
  // Replication (broker side: docs/replication.md).
  def(
    "replica.lag.time.max.ms",
    "LONG",
    "30000",
    "A follower that has not caught up with the leader's log end for this long leaves the ISR.",
    { validator: atLeast(1) },
  ),
  def(
    "replica.high.watermark.checkpoint.interval.ms",
    "LONG",
    "5000",
    "How often each log dir's replication-offset-checkpoint (the partitions' high watermarks) is written.",
    { validator: atLeast(1) },
  ),
  def("num.replica.fetchers", "INT", "1", "Replica fetchers per source broker.", {
    validator: atLeast(1),
  }),
  def("replica.fetch.max.bytes", "INT", "1048576", "Bytes a replica fetch asks for per partition.", {
    validator: atLeast(0),
  }),
  def("replica.fetch.min.bytes", "INT", "1", "Bytes a replica fetch waits for.", { validator: atLeast(1) }),
  def("replica.fetch.response.max.bytes", "INT", "10485760", "Bytes a replica fetch asks for in all.", {
    validator: atLeast(0),
  }),
  def("replica.fetch.wait.max.ms", "INT", "500", "Longest wait of a replica fetch for data.", {
    validator: atLeast(0),
  }),
  def("replica.fetch.backoff.ms", "INT", "1000", "Wait after a replica fetch failed.", {
    validator: atLeast(0),
  }),
  def(
    "replica.socket.timeout.ms",
    "INT",
    "30000",
    "Deadline of a replica fetch request, beyond its own wait.",
    { validator: atLeast(1) },
  ),
  // Client quotas (src/server/quotas/, docs/security.md#quotas).
  def("quota.window.num", "INT", "11", "Windows a client's byte rate and request time are measured over.", {
    validator: atLeast(1),
  }),
  def("quota.window.size.seconds", "INT", "1", "Length of one client-quota window.", {
    validator: atLeast(1),
  }),
  def(
    "controller.quota.window.num",
    "INT",
    "11",
    "Windows of the controller_mutation_rate token bucket (its burst is windows * size * rate).",
    { validator: atLeast(1) },
  ),
  def("controller.quota.window.size.seconds", "INT", "1", "Length of one controller-mutation window.", {
    validator: atLeast(1),
  }),
  // Network.
  def(
    "socket.request.max.bytes",
    "INT",
    "104857600",
    "Largest request frame; a larger size prefix closes the connection before its body is read.",
    { validator: atLeast(1) },
  ),
  def(
    "connections.max.idle.ms",
    "LONG",
    "600000",
    "Idle connections are closed after this long; -1 never closes them.",
    { validator: atLeast(-1) },
  ),
  def(
    "max.connections",
    "INT",
    String(INT32_MAX),
    "Most client connections accepted at once across listeners; further connections are closed at once.",
    { validator: atLeast(0), updateMode: "cluster-wide" },
  ),
  def(
    "queued.max.requests",
    "INT",
    "500",
    "Requests per connection in flight before the broker stops reading from it.",
    { validator: atLeast(1) },
  ),
  def(
    "krill.queued.max.response.bytes",
    "INT",
    "16777216",
    "Bytes of responses built and not yet taken by a client per connection before the broker stops reading from it and holds back its next requests.",
    { validator: atLeast(1024) },
  ),
  def(
    "krill.queued.max.response.bytes.total",
    "INT",
    "268435456",
    "The same over all connections; at the bound every connection stops reading until clients take their responses.",
    { validator: atLeast(1024) },
  ),
  // Groups, offsets, transactions.
  def(
    "offsets.topic.num.partitions",
    "INT",
    "50",
    "Partitions of __consumer_offsets, fixed when it is created.",
    { validator: atLeast(1) },
  ),
  def(
    "offsets.topic.replication.factor",
    "SHORT",
    "1",
    "Replication of __consumer_offsets. Krill defaults to 1 (single node); Kafka defaults to 3.",
    { validator: atLeast(1) },
  ),
  def("offsets.retention.minutes", "INT", "10080", "How long committed offsets of an empty group are kept.", {
    validator: atLeast(1),
  }),
  def("offsets.retention.check.interval.ms", "LONG", "600000", "How often expired offsets are removed.", {
    validator: atLeast(1),
  }),
  def(
    "group.initial.rebalance.delay.ms",
    "INT",
    "3000",
    "Wait for more members before the first rebalance of an empty classic group.",
  ),
  def("group.min.session.timeout.ms", "INT", "6000", "Smallest session timeout a member may ask for."),
  def("group.max.session.timeout.ms", "INT", "1800000", "Largest session timeout a member may ask for."),
  def("group.max.size", "INT", String(INT32_MAX), "Most members in one classic group.", {
    validator: atLeast(1),
  }),
  def(
    "group.max.offsets",
    "INT",
    "100000",
    "Krill: most partitions one group holds committed offsets for (Kafka has no such bound); commits for further partitions get GROUP_MAX_SIZE_REACHED.",
    { validator: atLeast(1) },
  ),
  def(
    "group.coordinator.rebalance.protocols",
    "LIST",
    "classic,consumer",
    "Group protocols the coordinator accepts. Without consumer, ConsumerGroupHeartbeat and ConsumerGroupDescribe answer UNSUPPORTED_VERSION; classic cannot be disabled. Krill implements neither streams nor share groups, so listing them has no effect.",
    { validator: listOf(["classic", "consumer", "streams", "share"], false) },
  ),
  def(
    "group.consumer.session.timeout.ms",
    "INT",
    "45000",
    "Session timeout of consumer-protocol (KIP-848) members: a member without a heartbeat for this long is removed.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.min.session.timeout.ms",
    "INT",
    "45000",
    "Smallest allowed group.consumer.session.timeout.ms.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.max.session.timeout.ms",
    "INT",
    "60000",
    "Largest allowed group.consumer.session.timeout.ms.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.heartbeat.interval.ms",
    "INT",
    "5000",
    "Heartbeat interval given to consumer-protocol members; must be less than group.consumer.session.timeout.ms.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.min.heartbeat.interval.ms",
    "INT",
    "5000",
    "Smallest allowed group.consumer.heartbeat.interval.ms.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.max.heartbeat.interval.ms",
    "INT",
    "15000",
    "Largest allowed group.consumer.heartbeat.interval.ms.",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.max.size",
    "INT",
    String(INT32_MAX),
    "Most members in one consumer-protocol group (group.max.size is for classic groups).",
    { validator: atLeast(1) },
  ),
  def(
    "group.consumer.assignors",
    "LIST",
    "uniform,range",
    "Server-side assignors of consumer-protocol groups, by name or by Kafka's class name; the first is used when members ask for none. Krill has Kafka's two built-in assignors and no custom ones.",
    { validator: consumerAssignorsValidator() },
  ),
  def(
    "offset.metadata.max.bytes",
    "INT",
    "4096",
    "Largest metadata string stored with a committed offset; longer ones get OFFSET_METADATA_TOO_LARGE.",
  ),
  def("transaction.max.timeout.ms", "INT", "900000", "Largest transaction timeout a producer may ask for.", {
    validator: atLeast(1),
  }),
  def(
    "transactional.id.expiration.ms",
    "INT",
    "604800000",
    "Idle time after which a transactional id is forgotten.",
    { validator: atLeast(1) },
  ),
  def("transaction.state.log.num.partitions", "INT", "50", "Partitions of __transaction_state.", {
    validator: atLeast(1),
  }),
  def(
    "transaction.state.log.replication.factor",
    "SHORT",
    "1",
    "Replication of __transaction_state. Krill defaults to 1; Kafka to 3.",
    { validator: atLeast(1) },
  ),
  def(
    "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    "INT",
    "10000",
    "How often the transaction coordinator aborts transactions that ran past their timeout.",
    { validator: atLeast(1) },
  ),
  def(
    "producer.id.expiration.ms",
    "INT",
    "86400000",
    "Idle time after which a producer id's state is dropped.",
    { validator: atLeast(1), updateMode: "cluster-wide" },
  ),
  // Observability.
  def(
    "metrics.port",
    "INT",
    "0",
    "Krill: port of the HTTP endpoint serving Prometheus /metrics and the /health and /ready probes; 0 disables it.",
    {
      validator: between(0, 65535),
    },
  ),
  def("metrics.host", "STRING", "127.0.0.1", "Krill: address the metrics endpoint binds."),
  def(
    "krill.config.strict",
    "BOOLEAN",
    "false",
    "Krill: refuse keys neither Kafka nor Krill defines (a typo) instead of logging a warning; `krill start --strict` sets it.",
  ),
  def(
    "krill.log.format",
    "STRING",
    "auto",
    "Krill: log line format: `json` (one JSON object per line), `pretty` (one readable line each) or `auto` (pretty when stdout is a terminal, else json). The level is KRILL_LOG_LEVEL.",
    { validator: oneOf(["auto", "json", "pretty"]) },
  ),
];

const DEFS_BY_NAME = new Map(BROKER_CONFIG_DEFS.map((d) => [d.name, d]));

export type { ListenerSpec } from "./listeners.js";
export { parseListeners, SECURITY_PROTOCOLS } from "./listeners.js";

export function brokerConfigDef(name: string): ConfigDef | undefined {
  return DEFS_BY_NAME.get(name);
}

export interface BrokerConfigEntry {
  readonly def: ConfigDef;
  readonly value: ConfigValue;
  /** True when set in server.properties, by an override or dynamically; false for the default. */
  readonly explicit: boolean;
}

/** DescribeConfigs' ConfigSource codes for broker keys. */
export const BROKER_CONFIG_SOURCE = {
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

/** One layer's value of a broker key, most specific first (Kafka's synonym list). */
export interface BrokerConfigLayer {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

/**
 * Kafka dynamic broker keys that configure nothing Krill has, stored as Kafka stores them so that
 * tools and clients setting them succeed (librdkafka's 0081_admin sets some), validated by their
 * Kafka type and rules, and otherwise ignored:
 * - the per-broker keys of DynamicListenerConfig.ReconfigurableConfigs that tune only SASL
 *   mechanisms Krill never runs (GSSAPI's Kerberos login, OAUTHBEARER's token refresh). Krill
 *   refuses those mechanisms at start-up (fail closed), so these values cannot weaken or change
 *   anything; set in server.properties they stay refused with the other unused security keys;
 * - DynamicThreadPool's thread counts (Krill has no such pools: one event loop), with Kafka's
 *   rule that a new count is at least 1 and within half and double the current one.
 */
const INERT_DYNAMIC_KEYS: ReadonlyMap<string, ConfigDef> = new Map(
  (
    [
      ["sasl.kerberos.service.name", "STRING", undefined, "per-broker"],
      ["sasl.kerberos.kinit.cmd", "STRING", undefined, "per-broker"],
      ["sasl.kerberos.ticket.renew.window.factor", "DOUBLE", undefined, "per-broker"],
      ["sasl.kerberos.ticket.renew.jitter", "DOUBLE", undefined, "per-broker"],
      ["sasl.kerberos.min.time.before.relogin", "LONG", undefined, "per-broker"],
      ["sasl.kerberos.principal.to.local.rules", "LIST", undefined, "per-broker"],
      ["sasl.login.refresh.window.factor", "DOUBLE", between(0.5, 1.0), "per-broker"],
      ["sasl.login.refresh.window.jitter", "DOUBLE", between(0.0, 0.25), "per-broker"],
      ["sasl.login.refresh.min.period.seconds", "SHORT", between(0, 900), "per-broker"],
      ["sasl.login.refresh.buffer.seconds", "SHORT", between(0, 3600), "per-broker"],
      ["background.threads", "INT", undefined, "cluster-wide"],
      ["num.io.threads", "INT", undefined, "cluster-wide"],
      ["num.replica.fetchers", "INT", undefined, "cluster-wide"],
      ["num.recovery.threads.per.data.dir", "INT", undefined, "cluster-wide"],
    ] as const
  ).map(([name, type, validator, updateMode]) => [
    name,
    {
      name,
      type,
      defaultValue: KAFKA_BROKER_CONFIG_KEYS.get(name)?.defaultValue ?? null,
      doc: "Configures something Krill does not have; stored and ignored.",
      updateMode,
      ...(validator === undefined ? {} : { validator }),
    } satisfies ConfigDef,
  ]),
);

const THREAD_POOL_KEYS = new Set([
  "background.threads",
  "num.io.threads",
  "num.replica.fetchers",
  "num.recovery.threads.per.data.dir",
]);

/**
 * A dynamic broker key's type and default (Krill's own keys and the inert ones above), for the
 * list operations (APPEND, SUBTRACT) of IncrementalAlterConfigs; undefined for other keys.
 */
export function dynamicBrokerConfigDef(name: string): ConfigDef | undefined {
  return INERT_DYNAMIC_KEYS.get(name) ?? DEFS_BY_NAME.get(name);
}

/** Dynamic broker configs (ConfigRecords of BROKER resources) as raw strings. */
export interface DynamicBrokerConfigs {
  /** Resource name "" : cluster-wide defaults. */
  readonly clusterDefault: ReadonlyMap<string, string>;
  /** Resource name = this node's id. */
  readonly perBroker: ReadonlyMap<string, string>;
}

/**
 * Checks one dynamic broker config change (AlterConfigs on a BROKER resource). Returns the
 * message for INVALID_CONFIG / INVALID_REQUEST, or undefined when the value may be stored.
 */
export function validateDynamicBrokerConfig(
  name: string,
  value: string | null,
  perBroker: boolean,
  current?: string,
): { kind: "invalid-config" | "invalid-request"; message: string } | undefined {
  const d = dynamicBrokerConfigDef(name);
  if (d === undefined) {
    return isKafkaBrokerKey(name)
      ? { kind: "invalid-request", message: `Krill does not support dynamic updates of ${name}` }
      : { kind: "invalid-config", message: `Unknown broker config ${name}` };
  }
  if (d.updateMode === "read-only") {
    return { kind: "invalid-request", message: `Cannot update these configs dynamically: Set(${name})` };
  }
  if (d.updateMode === "per-broker" && !perBroker) {
    return {
      kind: "invalid-request",
      message: `Cannot update these configs at default cluster level, broker id must be specified: Set(${name})`,
    };
  }
  if (value === null) return undefined;
  let parsed: ConfigValue;
  try {
    parsed = parseConfigValue(d, value, "dynamic broker config");
  } catch (err) {
    return { kind: "invalid-config", message: err instanceof Error ? err.message : String(err) };
  }
  if (THREAD_POOL_KEYS.has(name) && typeof parsed === "number") {
    // Kafka's DynamicThreadPool.validateReconfiguration (Scala's integer halving).
    const old = Number(current ?? d.defaultValue);
    const failed = `Dynamic thread count update validation failed for ${name}=${value}`;
    if (parsed !== old) {
      if (parsed <= 0) return { kind: "invalid-config", message: `${failed}, value should be at least 1` };
      if (parsed < Math.floor(old / 2))
        return {
          kind: "invalid-config",
          message: `${failed}, value should be at least half the current value ${old}`,
        };
      if (parsed > old * 2)
        return {
          kind: "invalid-config",
          message: `${failed}, value should not be greater than double the current value ${old}`,
        };
    }
  }
  return undefined;
}

/** What BrokerConfig.create reads: a properties file, or key/value pairs (overrides, a library's options). */
export type BrokerConfigSource =
  | PropertiesFile
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string | number | boolean>>;

/** A key neither Kafka nor Krill defines, and where it was set. */
export interface UnknownConfigKey {
  readonly key: string;
  readonly origin: string;
}

/**
 * Fail closed: a key asking for security Krill does not enforce (TLS, SASL, an authorizer,
 * quotas) stops start-up, naming the first such key and counting the others (security-keys.ts).
 */
function refuseUnenforcedSecurityKeys(raw: ReadonlyMap<string, { text: string; origin: string }>): void {
  const refused = [...raw].flatMap(
    ([key, { text, origin }]) => unenforcedSecurityKey(key, text, origin) ?? [],
  );
  if (refused.length === 0) return;
  const others = refused.slice(1).map((r) => r.key);
  const also = others.length === 0 ? "" : ` (also refused: ${others.join(", ")})`;
  throw new KrillError("CONFIG_INVALID", `${refused[0]!.message}${also}`);
}

/**
 * A validated, immutable broker configuration. Typed accessors for everything the broker reads;
 * `entries()` for DescribeConfigs.
 */
export class BrokerConfig {
  /** Effective values: dynamic per-broker, else dynamic default, else static, else default. */
  readonly #values: Map<string, ConfigValue>;
  /** Static layer (file, overrides, defaults), kept so dynamic layers can be re-applied. */
  readonly #staticValues: Map<string, ConfigValue>;
  readonly #explicit: Set<string>;
  readonly #dynamicDefault: ReadonlyMap<string, ConfigValue>;
  readonly #dynamicBroker: ReadonlyMap<string, ConfigValue>;
  /** Keys Kafka defines that Krill accepts but does not act on. */
  readonly unusedKafkaKeys: readonly string[];
  /** Keys neither Kafka nor Krill defines (typos, vendor keys), logged as warnings at start-up. */
  readonly unknownKeys: readonly UnknownConfigKey[];
  /** The listeners named in controller.listener.names: bound too, serving the controller's APIs only. */
  readonly controllerListeners: readonly ListenerSpec[];
  readonly listeners: readonly ListenerSpec[];
  /** Listeners clients are told to use, one per client listener (controller listeners excluded). */
  readonly advertisedListeners: readonly ListenerSpec[];
  /** `controller.listener.names`, upper-cased: requests arriving on these are the controller's. */
  readonly controllerListenerNames: ReadonlySet<string>;
  /** Security keys as set (`ssl.*`, `listener.name.<l>.ssl.*`, ...), read by their own modules. */
  readonly #securityRaw: ReadonlyMap<string, string>;
  /** TLS settings of each client listener whose protocol is SSL or SASL_SSL (tls-settings.ts). */
  readonly listenerTls: ReadonlyMap<string, ListenerTlsSettings>;
  /** SASL settings of each client listener whose protocol is SASL_* (sasl-settings.ts). */
  readonly listenerSasl: ReadonlyMap<string, SaslListenerSettings>;
  /** The StandardAuthorizer's settings when `authorizer.class.name` names it (authorizer-settings.ts). */
  readonly authorizer: AuthorizerSettings | undefined;

  private constructor(
    values: Map<string, ConfigValue>,
    explicit: Set<string>,
    unused: string[],
    unknown: readonly UnknownConfigKey[],
    dynamicDefault: ReadonlyMap<string, ConfigValue> = new Map(),
    dynamicBroker: ReadonlyMap<string, ConfigValue> = new Map(),
    securityRaw: ReadonlyMap<string, string> = new Map(),
  ) {
    this.#securityRaw = securityRaw;
    this.#staticValues = values;
    this.#values = new Map([...values, ...dynamicDefault, ...dynamicBroker]);
    this.#explicit = explicit;
    this.#dynamicDefault = dynamicDefault;
    this.#dynamicBroker = dynamicBroker;
    this.unusedKafkaKeys = unused;
    this.unknownKeys = unknown;
    const protocolMap = parseProtocolMap(this.string("listener.security.protocol.map"));
    const controllerNames = new Set(
      (this.stringOrNull("controller.listener.names") ?? "")
        .split(",")
        .map((s) => s.trim().toUpperCase())
        .filter((s) => s !== ""),
    );
    this.controllerListenerNames = controllerNames;
    // Kafka maps a controller listener name to PLAINTEXT implicitly when the map omits it.
    for (const name of controllerNames) if (!protocolMap.has(name)) protocolMap.set(name, "PLAINTEXT");
    const all = parseListeners("listeners", this.string("listeners"), protocolMap);
    const listenerTls = new Map<string, ListenerTlsSettings>();
    const listenerSasl = new Map<string, SaslListenerSettings>();
    for (const l of all) {
      const protocol = l.securityProtocol;
      if (protocol === "PLAINTEXT") continue;
      if (controllerNames.has(l.name)) {
        throw new KrillError(
          "CONFIG_INVALID",
          `Refusing to start: controller listener ${l.name} uses security protocol ${protocol}, which Krill does not enforce yet on a controller listener (accepted values: PLAINTEXT)`,
        );
      }
      if (protocol === "SSL" || protocol === "SASL_SSL") {
        listenerTls.set(l.name, listenerTlsSettings(this.#securityRaw, l.name));
      }
      if (protocol === "SASL_PLAINTEXT" || protocol === "SASL_SSL") {
        listenerSasl.set(l.name, listenerSaslSettings(this.#securityRaw, l.name));
      }
    }
    this.listenerTls = listenerTls;
    this.listenerSasl = listenerSasl;
    this.authorizer = authorizerSettings(this.#securityRaw);
    this.listeners = all.filter((l) => !controllerNames.has(l.name));
    this.controllerListeners = all.filter((l) => controllerNames.has(l.name));
    if (this.listeners.length === 0) {
      throw new KrillError(
        "CONFIG_INVALID",
        "listeners has no client listener (every listener is a controller listener)",
      );
    }
    const advertisedText = this.stringOrNull("advertised.listeners");
    if (advertisedText === null || advertisedText.trim() === "") {
      this.advertisedListeners = this.listeners;
    } else {
      const advertised = parseListeners("advertised.listeners", advertisedText, protocolMap);
      for (const a of advertised) {
        if (!this.listeners.some((l) => l.name === a.name) && !controllerNames.has(a.name)) {
          throw new KrillError(
            "CONFIG_INVALID",
            `advertised.listeners names ${a.name}, which is not in listeners; accepted names: [${this.listeners.map((l) => l.name).join(", ")}]`,
          );
        }
      }
      // A listener missing from advertised.listeners is advertised as bound, as Kafka does.
      this.advertisedListeners = this.listeners.map((l) => advertised.find((a) => a.name === l.name) ?? l);
    }
    const brokerId = this.int("broker.id");
    if (brokerId !== -1 && this.#explicit.has("node.id") && brokerId !== this.int("node.id")) {
      throw new KrillError(
        "CONFIG_INVALID",
        `broker.id (${brokerId}) and node.id (${this.int("node.id")}) differ; set only node.id`,
      );
    }
    if (brokerId !== -1 && !this.#explicit.has("node.id")) {
      this.#values.set("node.id", brokerId);
      this.#staticValues.set("node.id", brokerId);
    }
    const clusterId = this.stringOrNull("cluster.id");
    if (clusterId !== null && !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid value "${clusterId}" for cluster.id: accepted values are 22-character URL-safe base64 UUIDs (as kafka-storage random-uuid prints)`,
      );
    }
    if (this.int("group.min.session.timeout.ms") > this.int("group.max.session.timeout.ms")) {
      throw new KrillError(
        "CONFIG_INVALID",
        "group.min.session.timeout.ms is larger than group.max.session.timeout.ms",
      );
    }
    this.#checkConsumerGroupSettings();
  }

  /** Kafka's cross-key checks of the consumer-protocol settings (GroupCoordinatorConfig). */
  #checkConsumerGroupSettings(): void {
    const require = (ok: boolean, message: string) => {
      if (!ok) throw new KrillError("CONFIG_INVALID", message);
    };
    const sessionMs = this.int("group.consumer.session.timeout.ms");
    const minSessionMs = this.int("group.consumer.min.session.timeout.ms");
    const maxSessionMs = this.int("group.consumer.max.session.timeout.ms");
    const heartbeatMs = this.int("group.consumer.heartbeat.interval.ms");
    const minHeartbeatMs = this.int("group.consumer.min.heartbeat.interval.ms");
    const maxHeartbeatMs = this.int("group.consumer.max.heartbeat.interval.ms");
    require(maxHeartbeatMs >=
      minHeartbeatMs, "group.consumer.max.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms");
    require(heartbeatMs >=
      minHeartbeatMs, "group.consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms");
    require(heartbeatMs <=
      maxHeartbeatMs, "group.consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms");
    require(maxSessionMs >=
      minSessionMs, "group.consumer.max.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms");
    require(sessionMs >=
      minSessionMs, "group.consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms");
    require(sessionMs <=
      maxSessionMs, "group.consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms");
    require(heartbeatMs <
      sessionMs, "group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms");
    require(this.list("group.coordinator.rebalance.protocols").includes(
      "classic",
    ), "group.coordinator.rebalance.protocols must include classic: disabling the classic protocol is not supported");
  }

  /**
   * Validates raw key/value pairs. Later sources win: pass server.properties first (a
   * PropertiesFile, so errors name its path and line), then overrides. `${provider:path:key}`
   * values are resolved first (config-providers.ts), security keys Krill does not enforce are
   * refused (security-keys.ts), then every value is parsed. Throws CONFIG_INVALID naming the
   * first bad key.
   */
  static create(...sources: ReadonlyArray<BrokerConfigSource>): BrokerConfig {
    const merged = new Map<string, RawEntry>();
    sources.forEach((source, index) => {
      if (source instanceof PropertiesFile) {
        for (const [key, value] of source.values)
          merged.set(key.trim(), { text: value, origin: source.origin(key) });
        return;
      }
      const origin = index === 0 && sources.length > 1 ? "server.properties" : "override";
      const entries = source instanceof Map ? [...source.entries()] : Object.entries(source);
      for (const [key, value] of entries) merged.set(key.trim(), { text: String(value), origin });
    });
    const raw = resolveConfigVariables(merged);
    refuseUnenforcedSecurityKeys(raw);
    const strictEntry = raw.get("krill.config.strict");
    const strict =
      strictEntry !== undefined &&
      parseConfigValue(DEFS_BY_NAME.get("krill.config.strict")!, strictEntry.text, strictEntry.origin) ===
        true;
    const values = new Map<string, ConfigValue>();
    const explicit = new Set<string>();
    const unused: string[] = [];
    const unknown: UnknownConfigKey[] = [];
    const securityRaw = new Map<string, string>();
    for (const [key, { text, origin }] of raw) {
      const d = DEFS_BY_NAME.get(key);
      if (d === undefined && isEnforcedSecurityKey(key)) {
        // Read by the security modules (tls-settings.ts), not reported as unused.
        securityRaw.set(key, text);
        continue;
      }
      if (d === undefined) {
        if (isKafkaBrokerKey(key)) unused.push(key);
        else if (strict) {
          throw new KrillError(
            "CONFIG_INVALID",
            `Unknown configuration ${key} (${origin}): neither a Krill setting nor an Apache Kafka ${KAFKA_CONFIG_KEYS_VERSION} broker setting, refused because krill.config.strict is true; see docs/config.md for accepted keys`,
          );
        } else unknown.push({ key, origin });
        continue;
      }
      values.set(key, parseConfigValue(d, text, origin));
      explicit.add(key);
    }
    for (const d of BROKER_CONFIG_DEFS) {
      if (!values.has(d.name)) values.set(d.name, parseConfigValue(d, d.defaultValue, "default"));
    }
    return new BrokerConfig(values, explicit, unused.sort(), unknown, new Map(), new Map(), securityRaw);
  }

  /** Raw value of any defined key; asserts the key is defined. */
  get(name: string): ConfigValue {
    if (!this.#values.has(name)) throw new Error(`assertion: broker config ${name} is not defined`);
    return this.#values.get(name) ?? null;
  }

  isExplicit(name: string): boolean {
    return this.#explicit.has(name) || this.#dynamicDefault.has(name) || this.#dynamicBroker.has(name);
  }

  /** Where the effective value of `name` comes from (a DescribeConfigs ConfigSource). */
  sourceOf(name: string): number {
    if (this.#dynamicBroker.has(name)) return BROKER_CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG;
    if (this.#dynamicDefault.has(name)) return BROKER_CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG;
    if (this.#explicit.has(name)) return BROKER_CONFIG_SOURCE.STATIC_BROKER_CONFIG;
    return BROKER_CONFIG_SOURCE.DEFAULT_CONFIG;
  }

  /** Every layer that sets `name`, most specific first; the default last when there is one. */
  layers(name: string): BrokerConfigLayer[] {
    const out: BrokerConfigLayer[] = [];
    const d = DEFS_BY_NAME.get(name);
    if (d === undefined) throw new Error(`assertion: broker config ${name} is not defined`);
    if (this.#dynamicBroker.has(name)) {
      out.push({
        name,
        value: formatConfigValue(this.#dynamicBroker.get(name) ?? null),
        source: BROKER_CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG,
      });
    }
    if (this.#dynamicDefault.has(name)) {
      out.push({
        name,
        value: formatConfigValue(this.#dynamicDefault.get(name) ?? null),
        source: BROKER_CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG,
      });
    }
    if (this.#explicit.has(name)) {
      out.push({
        name,
        value: formatConfigValue(this.#staticValues.get(name) ?? null),
        source: BROKER_CONFIG_SOURCE.STATIC_BROKER_CONFIG,
      });
    }
    if (d.defaultValue !== null) {
      out.push({
        name,
        value: formatConfigValue(parseConfigValue(d, d.defaultValue, "default")),
        source: BROKER_CONFIG_SOURCE.DEFAULT_CONFIG,
      });
    }
    return out;
  }

  /**
   * This configuration with dynamic broker configs applied on top. Values were validated when
   * they were stored; one that no longer parses (a stricter rule after an upgrade) is skipped and
   * reported through `rejected`.
   */
  withDynamic(
    dynamic: DynamicBrokerConfigs,
    rejected: (name: string, message: string) => void = () => {},
  ): BrokerConfig {
    const parse = (entries: ReadonlyMap<string, string>) => {
      const out = new Map<string, ConfigValue>();
      for (const [name, text] of entries) {
        if (INERT_DYNAMIC_KEYS.has(name)) continue; // stored for Kafka's tools, configures nothing here
        const d = DEFS_BY_NAME.get(name);
        if (d === undefined || d.updateMode === "read-only") {
          rejected(name, `${name} cannot be set dynamically`);
          continue;
        }
        try {
          out.set(name, parseConfigValue(d, text, "dynamic broker config"));
        } catch (err) {
          rejected(name, err instanceof Error ? err.message : String(err));
        }
      }
      return out;
    };
    return new BrokerConfig(
      new Map(this.#staticValues),
      this.#explicit,
      [...this.unusedKafkaKeys],
      this.unknownKeys,
      parse(dynamic.clusterDefault),
      parse(dynamic.perBroker),
      this.#securityRaw,
    );
  }

  int(name: string): number {
    const v = this.get(name);
    if (typeof v !== "number") throw new Error(`assertion: broker config ${name} is not a number`);
    return v;
  }

  intOrNull(name: string): number | null {
    const v = this.get(name);
    return typeof v === "number" ? v : null;
  }

  bool(name: string): boolean {
    const v = this.get(name);
    if (typeof v !== "boolean") throw new Error(`assertion: broker config ${name} is not a boolean`);
    return v;
  }

  string(name: string): string {
    const v = this.get(name);
    if (typeof v !== "string") throw new Error(`assertion: broker config ${name} is not a string`);
    return v;
  }

  stringOrNull(name: string): string | null {
    const v = this.get(name);
    return typeof v === "string" ? v : null;
  }

  list(name: string): readonly string[] {
    const v = this.get(name);
    if (!Array.isArray(v)) throw new Error(`assertion: broker config ${name} is not a list`);
    return v;
  }

  /** Canonical string of a key's value as DescribeConfigs reports it. */
  text(name: string): string | null {
    return formatConfigValue(this.get(name));
  }

  entries(): BrokerConfigEntry[] {
    return BROKER_CONFIG_DEFS.map((d) => ({
      def: d,
      value: this.get(d.name),
      explicit: this.isExplicit(d.name),
    }));
  }

  get nodeId(): number {
    return this.int("node.id");
  }

  /** log.dirs, else log.dir, split on commas. */
  get logDirs(): string[] {
    const text = this.stringOrNull("log.dirs") ?? this.string("log.dir");
    const dirs = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    if (dirs.length === 0)
      throw new KrillError(
        "CONFIG_INVALID",
        "log.dirs is empty: accepted values are one or more directories",
      );
    return dirs;
  }

  get metadataLogDir(): string {
    return this.stringOrNull("metadata.log.dir") ?? this.logDirs[0]!;
  }

  /** Kafka's precedence: log.retention.ms, then .minutes, then .hours; negative means forever. */
  get logRetentionMs(): number {
    const ms = this.intOrNull("log.retention.ms");
    if (ms !== null) return ms < 0 ? -1 : ms;
    const minutes = this.intOrNull("log.retention.minutes");
    if (minutes !== null) return minutes < 0 ? -1 : minutes * 60_000;
    const hours = this.int("log.retention.hours");
    return hours < 0 ? -1 : hours * 3_600_000;
  }

  get logRollMs(): number {
    return this.intOrNull("log.roll.ms") ?? this.int("log.roll.hours") * 3_600_000;
  }

  get logRollJitterMs(): number {
    return this.intOrNull("log.roll.jitter.ms") ?? this.int("log.roll.jitter.hours") * 3_600_000;
  }

  /** The host clients are told for a listener: advertised, else bound, else this machine's name. */
  static advertisedHost(host: string): string {
    return host === "" || host === "0.0.0.0" || host === "::" ? os.hostname() : host;
  }
}

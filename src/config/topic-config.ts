/**
 * Topic-level configuration: Kafka's topic keys with their broker synonyms. A topic's effective
 * value is its own override if set, else the first broker synonym set explicitly (in Kafka's
 * precedence order, e.g. log.retention.ms over .minutes over .hours), else the broker synonym's
 * default, else the topic default. `describeTopicConfig` reports each value with its source and
 * the synonym chain, as DescribeConfigs does.
 */
import { KrillError } from "../errors.js";
import { type BrokerConfig, CLEANUP_POLICIES, COMPRESSION_TYPES, TIMESTAMP_TYPES } from "./broker-config.js";
import {
  atLeast,
  between,
  type ConfigDef,
  type ConfigType,
  type ConfigValue,
  formatConfigValue,
  LONG_MAX_TEXT,
  listOf,
  oneOf,
  parseConfigValue,
  type Validator,
} from "./config-def.js";

/** A broker key standing in for a topic key; `factorMs` converts hours/minutes to the topic unit. */
export interface BrokerSynonym {
  readonly name: string;
  readonly factor: number;
}

export interface TopicConfigDef extends ConfigDef {
  readonly synonyms: readonly BrokerSynonym[];
}

function topicDef(
  name: string,
  type: ConfigType,
  defaultValue: string | null,
  synonyms: ReadonlyArray<string | [string, number]>,
  doc: string,
  validator?: Validator,
): TopicConfigDef {
  return {
    name,
    type,
    defaultValue,
    doc,
    updateMode: "cluster-wide",
    synonyms: synonyms.map((s) =>
      typeof s === "string" ? { name: s, factor: 1 } : { name: s[0], factor: s[1] },
    ),
    ...(validator ? { validator } : {}),
  };
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = [
  topicDef(
    "cleanup.policy",
    "LIST",
    "delete",
    ["log.cleanup.policy"],
    "delete removes old segments by time or size; compact keeps the latest record per key; both may be set.",
    listOf(CLEANUP_POLICIES, true),
  ),
  topicDef(
    "compression.type",
    "STRING",
    "producer",
    ["compression.type"],
    "Compression of stored batches; producer keeps the producer's codec.",
    oneOf(COMPRESSION_TYPES),
  ),
  topicDef(
    "compression.gzip.level",
    "INT",
    "-1",
    ["compression.gzip.level"],
    "gzip level when the broker recompresses.",
    { check: (v) => v === -1 || (typeof v === "number" && v >= 1 && v <= 9), accepted: "[1,...,9] or -1" },
  ),
  topicDef(
    "compression.lz4.level",
    "INT",
    "9",
    ["compression.lz4.level"],
    "lz4 level when the broker recompresses.",
    between(1, 17),
  ),
  topicDef(
    "compression.zstd.level",
    "INT",
    "3",
    ["compression.zstd.level"],
    "zstd level when the broker recompresses.",
    between(-131072, 22),
  ),
  topicDef(
    "delete.retention.ms",
    "LONG",
    "86400000",
    ["log.cleaner.delete.retention.ms"],
    "How long delete tombstones survive compaction.",
    atLeast(0),
  ),
  topicDef(
    "file.delete.delay.ms",
    "LONG",
    "60000",
    ["log.segment.delete.delay.ms"],
    "Delay before a deleted segment's files are removed.",
    atLeast(0),
  ),
  topicDef(
    "flush.messages",
    "LONG",
    LONG_MAX_TEXT,
    ["log.flush.interval.messages"],
    "Messages appended before the partition is fsynced.",
    atLeast(1),
  ),
  topicDef(
    "flush.ms",
    "LONG",
    LONG_MAX_TEXT,
    ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    "Longest time appended data waits before fsync.",
    atLeast(0),
  ),
  topicDef(
    "follower.replication.throttled.replicas",
    "LIST",
    "",
    [],
    "Replicas whose follower replication is throttled (accepted; no throttling on a single node).",
  ),
  topicDef(
    "index.interval.bytes",
    "INT",
    "4096",
    ["log.index.interval.bytes"],
    "Bytes appended between two offset index entries.",
    atLeast(0),
  ),
  topicDef(
    "leader.replication.throttled.replicas",
    "LIST",
    "",
    [],
    "Replicas whose leader replication is throttled (accepted; no throttling on a single node).",
  ),
  topicDef(
    "local.retention.bytes",
    "LONG",
    "-2",
    [],
    "Local retention size with tiered storage; -2 means use retention.bytes.",
    atLeast(-2),
  ),
  topicDef(
    "local.retention.ms",
    "LONG",
    "-2",
    [],
    "Local retention time with tiered storage; -2 means use retention.ms.",
    atLeast(-2),
  ),
  topicDef(
    "max.compaction.lag.ms",
    "LONG",
    LONG_MAX_TEXT,
    ["log.cleaner.max.compaction.lag.ms"],
    "Longest time a record stays uncompacted.",
    atLeast(1),
  ),
  topicDef(
    "max.message.bytes",
    "INT",
    "1048588",
    ["message.max.bytes"],
    "Largest record batch accepted, after compression.",
    atLeast(0),
  ),
  topicDef(
    "message.timestamp.after.max.ms",
    "LONG",
    "3600000",
    ["log.message.timestamp.after.max.ms"],
    "How far in the future a CreateTime timestamp may be.",
    atLeast(0),
  ),
  topicDef(
    "message.timestamp.before.max.ms",
    "LONG",
    LONG_MAX_TEXT,
    ["log.message.timestamp.before.max.ms"],
    "How far in the past a CreateTime timestamp may be.",
    atLeast(0),
  ),
  topicDef(
    "message.timestamp.type",
    "STRING",
    "CreateTime",
    ["log.message.timestamp.type"],
    "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches on append.",
    oneOf(TIMESTAMP_TYPES),
  ),
  topicDef(
    "min.cleanable.dirty.ratio",
    "DOUBLE",
    "0.5",
    ["log.cleaner.min.cleanable.ratio"],
    "Dirty ratio above which the log is compacted.",
    between(0, 1),
  ),
  topicDef(
    "min.compaction.lag.ms",
    "LONG",
    "0",
    ["log.cleaner.min.compaction.lag.ms"],
    "Shortest time a record stays uncompacted.",
    atLeast(0),
  ),
  topicDef(
    "min.insync.replicas",
    "INT",
    "1",
    ["min.insync.replicas"],
    "Replicas that must acknowledge an acks=all produce.",
    atLeast(1),
  ),
  topicDef("preallocate", "BOOLEAN", "false", ["log.preallocate"], "Preallocate segment files."),
  topicDef(
    "remote.storage.enable",
    "BOOLEAN",
    "false",
    [],
    "Tiered storage; Krill has none, so only false is accepted.",
    { check: (v) => v === false || v === null, accepted: "[false]" },
  ),
  topicDef(
    "retention.bytes",
    "LONG",
    "-1",
    ["log.retention.bytes"],
    "Largest partition size before old segments are deleted; -1 means no limit.",
    atLeast(-1),
  ),
  topicDef(
    "retention.ms",
    "LONG",
    "604800000",
    ["log.retention.ms", ["log.retention.minutes", MINUTE_MS], ["log.retention.hours", HOUR_MS]],
    "How long a segment is kept; -1 keeps forever.",
    atLeast(-1),
  ),
  topicDef(
    "segment.bytes",
    "INT",
    "1073741824",
    ["log.segment.bytes"],
    "Largest size of one segment file.",
    atLeast(1048576),
  ),
  topicDef(
    "segment.index.bytes",
    "INT",
    "10485760",
    ["log.index.size.max.bytes"],
    "Largest size of an index file.",
    atLeast(4),
  ),
  topicDef(
    "segment.jitter.ms",
    "LONG",
    "0",
    ["log.roll.jitter.ms", ["log.roll.jitter.hours", HOUR_MS]],
    "Random jitter subtracted from segment.ms.",
    atLeast(0),
  ),
  topicDef(
    "segment.ms",
    "LONG",
    "604800000",
    ["log.roll.ms", ["log.roll.hours", HOUR_MS]],
    "Time after which a new segment is rolled.",
    atLeast(1),
  ),
  topicDef(
    "krill.fsync.before.ack",
    "BOOLEAN",
    "false",
    [],
    "Krill: acknowledge a produce only after its bytes are fsynced (appends arriving during an fsync share the next one).",
  ),
  topicDef(
    "unclean.leader.election.enable",
    "BOOLEAN",
    "false",
    ["unclean.leader.election.enable"],
    "Allow out-of-sync replicas to become leader.",
  ),
];

const TOPIC_DEFS_BY_NAME = new Map(TOPIC_CONFIG_DEFS.map((d) => [d.name, d]));

export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return TOPIC_DEFS_BY_NAME.get(name);
}

/**
 * Checks one topic override. Returns an error message (for INVALID_CONFIG) or undefined.
 */
export function validateTopicConfig(name: string, value: string | null): string | undefined {
  const d = TOPIC_DEFS_BY_NAME.get(name);
  if (d === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return undefined;
  try {
    parseConfigValue(d, value, "topic config");
    return undefined;
  } catch (err) {
    return err instanceof KrillError ? err.message : String(err);
  }
}

/** DescribeConfigs' ConfigSource codes. */
export const CONFIG_SOURCE = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface ConfigSynonymView {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface ConfigEntryView {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  readonly type: ConfigType;
  readonly doc: string;
  readonly synonyms: readonly ConfigSynonymView[];
}

const BROKER_LAYER_ORDER = [
  CONFIG_SOURCE.DYNAMIC_BROKER_CONFIG,
  CONFIG_SOURCE.DYNAMIC_DEFAULT_BROKER_CONFIG,
  CONFIG_SOURCE.STATIC_BROKER_CONFIG,
  CONFIG_SOURCE.DEFAULT_CONFIG,
] as const;

/** Effective value and provenance of one topic key. */
export function describeTopicConfig(
  d: TopicConfigDef,
  broker: BrokerConfig,
  overrides: ReadonlyMap<string, string>,
): ConfigEntryView {
  const synonyms: ConfigSynonymView[] = [];
  const own = overrides.get(d.name);
  if (own !== undefined)
    synonyms.push({ name: d.name, value: own, source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG });
  // The value: the first broker synonym set explicitly (dynamic per-broker, dynamic default,
  // static), synonym by synonym in precedence order; else the first default.
  let fromBroker: { value: string | null; source: number } | undefined;
  for (const s of d.synonyms) {
    for (const layer of broker.layers(s.name)) {
      if (layer.source === CONFIG_SOURCE.DEFAULT_CONFIG) continue;
      fromBroker ??= { value: scaledText(layer.value, s.factor), source: layer.source };
    }
  }
  for (const s of d.synonyms) {
    const value = broker.get(s.name);
    if (!broker.isExplicit(s.name) && value !== null) {
      fromBroker ??= { value: scaled(value, s.factor), source: CONFIG_SOURCE.DEFAULT_CONFIG };
    }
  }
  // The synonyms and the source as Kafka reports them (ConfigHelper.configSynonyms): layer by
  // layer, each synonym in precedence order, then everything before the first entry of the primary
  // broker key dropped. So retention.ms lists no broker synonym, and its source is the default,
  // unless log.retention.ms itself has a value somewhere (log.retention.hours alone does not count).
  const layered: ConfigSynonymView[] = [];
  for (const source of BROKER_LAYER_ORDER) {
    for (const s of d.synonyms) {
      for (const layer of broker.layers(s.name)) if (layer.source === source) layered.push(layer);
    }
  }
  const primary = layered.findIndex((l) => l.name === d.synonyms[0]?.name);
  if (primary >= 0) synonyms.push(...layered.slice(primary));
  const chosen =
    own !== undefined
      ? {
          value: formatConfigValue(parseConfigValue(d, own, "topic config")),
          source: CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG,
        }
      : {
          value: (fromBroker ?? { value: d.defaultValue }).value,
          source: synonyms[0]?.source ?? CONFIG_SOURCE.DEFAULT_CONFIG,
        };
  return {
    name: d.name,
    value: chosen.value,
    source: chosen.source,
    readOnly: false,
    sensitive: false,
    type: d.type,
    doc: d.doc,
    synonyms,
  };
}

function scaledText(text: string | null, factor: number): string | null {
  if (factor === 1 || text === null) return text;
  const n = Number(text);
  return String(n < 0 ? -1 : n * factor);
}

function scaled(value: ConfigValue, factor: number): string | null {
  if (factor !== 1 && typeof value === "number") return String(value < 0 ? -1 : value * factor);
  return formatConfigValue(value);
}

/** The effective topic configuration, typed, as the log layer and produce path need it. */
export interface TopicConfig {
  readonly cleanupPolicy: readonly string[];
  readonly compressionType: string;
  readonly deleteRetentionMs: number;
  readonly fileDeleteDelayMs: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly indexIntervalBytes: number;
  readonly maxMessageBytes: number;
  readonly messageTimestampType: "CreateTime" | "LogAppendTime";
  readonly messageTimestampBeforeMaxMs: number;
  readonly messageTimestampAfterMaxMs: number;
  readonly minInsyncReplicas: number;
  readonly preallocate: boolean;
  readonly retentionBytes: number;
  readonly retentionMs: number;
  readonly segmentBytes: number;
  readonly segmentIndexBytes: number;
  readonly segmentJitterMs: number;
  readonly segmentMs: number;
}

export function effectiveTopicConfig(
  broker: BrokerConfig,
  overrides: ReadonlyMap<string, string>,
): TopicConfig {
  const value = (name: string): ConfigValue => {
    const d = TOPIC_DEFS_BY_NAME.get(name)!;
    const text = describeTopicConfig(d, broker, overrides).value;
    return parseConfigValue(d, text, "effective topic config");
  };
  const num = (name: string) => value(name) as number;
  return {
    cleanupPolicy: value("cleanup.policy") as readonly string[],
    compressionType: value("compression.type") as string,
    deleteRetentionMs: num("delete.retention.ms"),
    fileDeleteDelayMs: num("file.delete.delay.ms"),
    flushMessages: num("flush.messages"),
    flushMs: num("flush.ms"),
    indexIntervalBytes: num("index.interval.bytes"),
    maxMessageBytes: num("max.message.bytes"),
    messageTimestampType: value("message.timestamp.type") as "CreateTime" | "LogAppendTime",
    messageTimestampBeforeMaxMs: num("message.timestamp.before.max.ms"),
    messageTimestampAfterMaxMs: num("message.timestamp.after.max.ms"),
    minInsyncReplicas: num("min.insync.replicas"),
    preallocate: value("preallocate") as boolean,
    retentionBytes: num("retention.bytes"),
    retentionMs: num("retention.ms"),
    segmentBytes: num("segment.bytes"),
    segmentIndexBytes: num("segment.index.bytes"),
    segmentJitterMs: num("segment.jitter.ms"),
    segmentMs: num("segment.ms"),
  };
}

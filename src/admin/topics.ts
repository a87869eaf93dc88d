/**
 * `krill topic create|list|describe|alter|delete`: kafka-topics.sh's actions, with its output.
 *
 * - create: CreateTopics (-1 partitions / replication factor: the broker's defaults, KIP-464);
 *   prints `Created topic T.` per topic, as kafka-topics does.
 * - list: Metadata for every topic, names sorted, one a line (`--exclude-internal` drops
 *   __consumer_offsets and the like).
 * - describe: Metadata for the topics (all when none is named) and DescribeConfigs for their
 *   configs not at the default, printed as kafka-topics --describe prints them (a topic line, then
 *   one line per partition). Elr and LastKnownElr are N/A: they come from DescribeTopicPartitions,
 *   which this command does not ask.
 * - alter: CreatePartitions (`--partitions N`, the new total).
 * - delete: DeleteTopics by name; prints nothing, as kafka-topics.
 */
import {
  CREATE_PARTITIONS_API,
  CREATE_TOPICS_API,
  DELETE_TOPICS_API,
  DESCRIBE_CONFIGS_API,
} from "../protocol/generated/apis.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { MetadataResponseTopic } from "../protocol/generated/metadata-response.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import { intOption, keyValues, type OptionSpec, type ParsedOptions, UsageError } from "./args.js";
import { type AdminClient, KafkaResponseError } from "./client.js";

export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  /** Records for `krill produce` (stdin). */
  readonly input?: NodeJS.ReadableStream;
}

export interface CommandContext {
  readonly admin: AdminClient;
  readonly io: AdminIo;
  readonly parsed: ParsedOptions;
  /** Aborted on SIGINT/SIGTERM: produce and consume finish what they hold and stop. */
  readonly signal?: AbortSignal;
}

/** ConfigResource types on the wire. */
export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
/** DescribeConfigs config sources (Kafka's ConfigEntry.ConfigSource, by wire id). */
export const CONFIG_SOURCE_NAMES: readonly string[] = [
  "UNKNOWN_CONFIG",
  "DYNAMIC_TOPIC_CONFIG",
  "DYNAMIC_BROKER_CONFIG",
  "DYNAMIC_DEFAULT_BROKER_CONFIG",
  "STATIC_BROKER_CONFIG",
  "DEFAULT_CONFIG",
  "DYNAMIC_BROKER_LOGGER_CONFIG",
  "DYNAMIC_CLIENT_METRICS_CONFIG",
  "DYNAMIC_GROUP_CONFIG",
];
const CONFIG_SOURCE_DEFAULT = 5;

export const TOPIC_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  create: [
    { name: "--topic", value: true, aliases: ["-t"] },
    { name: "--partitions", value: true, aliases: ["-p"] },
    { name: "--replication-factor", value: true, aliases: ["-r"] },
    { name: "--config", value: true, aliases: ["-c"] },
    { name: "--if-not-exists" },
  ],
  list: [{ name: "--exclude-internal" }],
  describe: [{ name: "--topic", value: true, aliases: ["-t"] }, { name: "--exclude-internal" }],
  alter: [
    { name: "--topic", value: true, aliases: ["-t"] },
    { name: "--partitions", value: true, aliases: ["-p"] },
  ],
  delete: [{ name: "--topic", value: true, aliases: ["-t"] }, { name: "--if-exists" }],
};

export const TOPIC_USAGE = `Usage: krill topic <action> [options] [--bootstrap-server HOST:PORT]

  create NAME... [--partitions N] [--replication-factor N] [--config KEY=VALUE]... [--if-not-exists]
  list [--exclude-internal]
  describe [NAME...] [--exclude-internal]
  alter NAME --partitions N
  delete NAME... [--if-exists]

Topic names may also be given with --topic, as kafka-topics.sh takes them. Without --partitions or
--replication-factor the broker's defaults (num.partitions, default.replication.factor) apply.`;

function topicNames(parsed: ParsedOptions): string[] {
  return [...parsed.positional, ...(parsed.values.get("--topic") ?? [])];
}

export async function runTopic(action: string, ctx: CommandContext): Promise<number> {
  switch (action) {
    case "create":
      return createTopics(ctx);
    case "list":
      return listTopics(ctx);
    case "describe":
      return describeTopics(ctx);
    case "alter":
      return alterTopic(ctx);
    case "delete":
      return deleteTopics(ctx);
    default:
      throw new UsageError(
        `unknown topic action "${action}"; accepted: create, list, describe, alter, delete`,
      );
  }
}

async function createTopics({ admin, io, parsed }: CommandContext): Promise<number> {
  const topics = topicNames(parsed);
  if (topics.length === 0) throw new UsageError("topic create needs a topic name");
  const partitions = intOption(parsed, "--partitions", 1, 1_000_000) ?? -1;
  const replicationFactor = intOption(parsed, "--replication-factor", 1, 32_767) ?? -1;
  const configs = [...keyValues(parsed, ["--config"])].map(([name, value]) => ({ name, value }));
  const res = await admin.any(CREATE_TOPICS_API, (version) => ({
    topics: topics.map((name) => ({
      name,
      // Before v4 the broker's defaults cannot be asked for: Kafka's AdminClient refuses too.
      numPartitions: partitions === -1 && version < 4 ? 1 : partitions,
      replicationFactor: replicationFactor === -1 && version < 4 ? 1 : replicationFactor,
      assignments: [],
      configs,
    })),
    timeoutMs: admin.requestTimeoutMs,
    validateOnly: false,
  }));
  let failed = 0;
  for (const t of res.topics) {
    if (t.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS && parsed.flags.has("--if-not-exists")) continue;
    if (t.errorCode !== 0) {
      failed++;
      io.err(`Error: ${new KafkaResponseError(t.errorCode, t.errorMessage, `topic ${t.name}`).message}\n`);
      continue;
    }
    io.out(`Created topic ${t.name}.\n`);
  }
  return failed === 0 ? 0 : 1;
}

async function listTopics({ admin, io, parsed }: CommandContext): Promise<number> {
  const res = await admin.metadata(null);
  const names = res.topics
    .filter((t) => t.errorCode === 0 && t.name !== null)
    .filter((t) => !(parsed.flags.has("--exclude-internal") && t.isInternal))
    .map((t) => t.name!)
    .sort();
  for (const name of names) io.out(`${name}\n`);
  return 0;
}

async function describeTopics({ admin, io, parsed }: CommandContext): Promise<number> {
  const asked = topicNames(parsed);
  const res = await admin.metadata(asked.length === 0 ? null : asked);
  let failed = 0;
  const found: MetadataResponseTopic[] = [];
  for (const t of res.topics) {
    if (t.errorCode !== 0) {
      failed++;
      io.err(`Error: ${new KafkaResponseError(t.errorCode, null, `topic ${t.name ?? t.topicId}`).message}\n`);
      continue;
    }
    if (parsed.flags.has("--exclude-internal") && t.isInternal) continue;
    found.push(t);
  }
  found.sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  const configs = await topicConfigs(
    admin,
    found.map((t) => t.name!),
  );
  for (const t of found) {
    const partitions = [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
    const configText = (configs.get(t.name!) ?? []).map(([k, v]) => `${k}=${v}`).join(",");
    let line = `Topic: ${t.name}`;
    if (t.topicId !== ZERO_UUID) line += `\tTopicId: ${t.topicId}`;
    line += `\tPartitionCount: ${partitions.length}`;
    line += `\tReplicationFactor: ${partitions[0]?.replicaNodes.length ?? 0}`;
    line += `\tConfigs: ${configText}`;
    io.out(`${line}\n`);
    for (const p of partitions) {
      io.out(
        `\tTopic: ${t.name}\tPartition: ${p.partitionIndex}\tLeader: ${p.leaderId < 0 ? "none" : p.leaderId}` +
          `\tReplicas: ${p.replicaNodes.join(",")}\tIsr: ${p.isrNodes.join(",")}\tElr: N/A\tLastKnownElr: N/A\n`,
      );
    }
  }
  return failed === 0 ? 0 : 1;
}

/** Each topic's configs not at Kafka's default (the broker's static settings included), in the broker's order. */
async function topicConfigs(
  admin: AdminClient,
  topics: readonly string[],
): Promise<Map<string, [string, string][]>> {
  const out = new Map<string, [string, string][]>();
  if (topics.length === 0) return out;
  const res = await admin.any(DESCRIBE_CONFIGS_API, {
    resources: topics.map((resourceName) => ({
      resourceType: RESOURCE_TOPIC,
      resourceName,
      configurationKeys: null,
    })),
    includeSynonyms: false,
    includeDocumentation: false,
  });
  for (const r of res.results) {
    if (r.errorCode !== 0) continue;
    out.set(
      r.resourceName,
      r.configs
        .filter((c) => c.configSource !== CONFIG_SOURCE_DEFAULT)
        .map((c): [string, string] => [c.name, c.isSensitive ? "null" : (c.value ?? "null")]),
    );
  }
  return out;
}

async function alterTopic({ admin, io, parsed }: CommandContext): Promise<number> {
  const topics = topicNames(parsed);
  if (topics.length !== 1) throw new UsageError("topic alter needs one topic name");
  const count = intOption(parsed, "--partitions", 1, 1_000_000);
  if (count === undefined) throw new UsageError("topic alter needs --partitions N (the new total)");
  const res = await admin.any(CREATE_PARTITIONS_API, {
    topics: [{ name: topics[0]!, count, assignments: null }],
    timeoutMs: admin.requestTimeoutMs,
    validateOnly: false,
  });
  let failed = 0;
  for (const r of res.results) {
    if (r.errorCode === 0) continue;
    failed++;
    io.err(`Error: ${new KafkaResponseError(r.errorCode, r.errorMessage, `topic ${r.name}`).message}\n`);
  }
  return failed === 0 ? 0 : 1;
}

async function deleteTopics({ admin, io, parsed }: CommandContext): Promise<number> {
  const topics = topicNames(parsed);
  if (topics.length === 0) throw new UsageError("topic delete needs a topic name");
  const res = await admin.any(DELETE_TOPICS_API, (version) => ({
    topics: version >= 6 ? topics.map((name) => ({ name, topicId: ZERO_UUID })) : [],
    topicNames: version < 6 ? topics : [],
    timeoutMs: admin.requestTimeoutMs,
  }));
  let failed = 0;
  for (const r of res.responses) {
    if (r.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && parsed.flags.has("--if-exists")) continue;
    if (r.errorCode === 0) continue;
    failed++;
    io.err(
      `Error: ${new KafkaResponseError(r.errorCode, r.errorMessage, `topic ${r.name ?? r.topicId}`).message}\n`,
    );
  }
  return failed === 0 ? 0 : 1;
}

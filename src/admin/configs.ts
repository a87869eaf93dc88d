/**
 * `krill config get|set`: kafka-configs.sh --describe / --alter for topics and brokers, with its
 * output.
 *
 * - get: DescribeConfigs (with synonyms); the dynamic configs (the ones set on the resource), or
 *   every config with `--all`, sorted by name, printed as kafka-configs prints them. A broker's
 *   resource is asked of that broker, the cluster-wide default (`--broker-defaults`) of any.
 * - set: IncrementalAlterConfigs, SET for `--set`/`--add-config`, DELETE for
 *   `--delete`/`--delete-config`; as kafka-configs, deleting a key that is not set is refused before
 *   anything is sent ("Invalid config(s)").
 * The target is `--topic T`, `--broker N` or `--broker-defaults`, or kafka-configs' own
 * `--entity-type topics|brokers --entity-name X | --entity-default`.
 */

import { DESCRIBE_CONFIGS_API, INCREMENTAL_ALTER_CONFIGS_API } from "../protocol/generated/apis.js";
import type { DescribeConfigsResponseDescribeConfigsResourceResult } from "../protocol/generated/describe-configs-response.js";
import type { NodeEndpoint } from "../server/network/node-client.js";
import { keyValues, names, type OptionSpec, optionValue, type ParsedOptions, UsageError } from "./args.js";
import { type AdminClient, check } from "./client.js";
import { CONFIG_SOURCE_NAMES, type CommandContext, RESOURCE_BROKER, RESOURCE_TOPIC } from "./topics.js";

const TARGET_OPTIONS: readonly OptionSpec[] = [
  { name: "--topic", value: true, aliases: ["-t"] },
  { name: "--broker", value: true },
  { name: "--broker-defaults" },
  { name: "--entity-type", value: true },
  { name: "--entity-name", value: true },
  { name: "--entity-default" },
];

export const CONFIG_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  get: [...TARGET_OPTIONS, { name: "--all" }],
  set: [
    ...TARGET_OPTIONS,
    { name: "--set", value: true, aliases: ["--add-config"] },
    { name: "--delete", value: true, aliases: ["--delete-config"] },
  ],
};

export const CONFIG_USAGE = `Usage: krill config <action> TARGET [options] [--bootstrap-server HOST:PORT]

  get TARGET [--all]
  set TARGET [--set KEY=VALUE]... [--delete KEY]...

TARGET is --topic NAME, --broker ID or --broker-defaults (or kafka-configs.sh's --entity-type
topics|brokers with --entity-name NAME or --entity-default). --set and --delete also take Kafka's
comma-separated lists (--add-config a=1,b=[x,y] / --delete-config a,b).`;

/** DescribeConfigs sources that are "dynamic" for each kind of target (Kafka's ConfigCommand). */
const SOURCE_DYNAMIC_TOPIC = 1;
const SOURCE_DYNAMIC_BROKER = 2;
const SOURCE_DYNAMIC_DEFAULT_BROKER = 3;

interface Target {
  readonly resourceType: number;
  readonly resourceName: string;
  /** The config source of values set on this resource. */
  readonly dynamicSource: number;
  /** "topic orders", "broker 1", or null for the brokers' default. */
  readonly label: string | null;
  readonly brokerId: number | null;
}

function target(parsed: ParsedOptions): Target {
  let type: string | undefined;
  let name: string | undefined;
  let isDefault = false;
  const topic = optionValue(parsed, "--topic");
  const broker = optionValue(parsed, "--broker");
  if (topic !== undefined) [type, name] = ["topics", topic];
  if (broker !== undefined) [type, name] = ["brokers", broker];
  if (parsed.flags.has("--broker-defaults")) [type, isDefault] = ["brokers", true];
  const entityType = optionValue(parsed, "--entity-type");
  if (entityType !== undefined) {
    type = entityType;
    name = optionValue(parsed, "--entity-name");
    isDefault = parsed.flags.has("--entity-default");
  }
  if (type === "topics") {
    if (name === undefined || name === "")
      throw new UsageError("a topic target needs its name (--topic NAME)");
    return {
      resourceType: RESOURCE_TOPIC,
      resourceName: name,
      dynamicSource: SOURCE_DYNAMIC_TOPIC,
      label: `topic ${name}`,
      brokerId: null,
    };
  }
  if (type === "brokers") {
    if (isDefault) {
      return {
        resourceType: RESOURCE_BROKER,
        resourceName: "",
        dynamicSource: SOURCE_DYNAMIC_DEFAULT_BROKER,
        label: null,
        brokerId: null,
      };
    }
    const id = Number(name);
    if (name === undefined || !Number.isInteger(id) || id < 0) {
      throw new UsageError(`a broker target needs a broker id (--broker ID), got "${name ?? ""}"`);
    }
    return {
      resourceType: RESOURCE_BROKER,
      resourceName: String(id),
      dynamicSource: SOURCE_DYNAMIC_BROKER,
      label: `broker ${id}`,
      brokerId: id,
    };
  }
  if (type === undefined)
    throw new UsageError("give a target: --topic NAME, --broker ID or --broker-defaults");
  throw new UsageError(`entity type "${type}" is not supported; accepted: topics, brokers`);
}

export async function runConfig(action: string, ctx: CommandContext): Promise<number> {
  if (action === "get" || action === "describe") return getConfigs(ctx);
  if (action === "set" || action === "alter") return setConfigs(ctx);
  throw new UsageError(`unknown config action "${action}"; accepted: get, set`);
}

async function endpointFor(admin: AdminClient, t: Target): Promise<NodeEndpoint | null> {
  return t.brokerId === null ? null : admin.broker(t.brokerId);
}

async function describe(
  admin: AdminClient,
  t: Target,
): Promise<DescribeConfigsResponseDescribeConfigsResourceResult[]> {
  const body = {
    resources: [{ resourceType: t.resourceType, resourceName: t.resourceName, configurationKeys: null }],
    includeSynonyms: true,
    includeDocumentation: false,
  };
  const endpoint = await endpointFor(admin, t);
  const res =
    endpoint === null
      ? await admin.any(DESCRIBE_CONFIGS_API, body)
      : await admin.to(DESCRIBE_CONFIGS_API, endpoint, body);
  const r = res.results[0];
  if (r === undefined) throw new UsageError("the broker answered DescribeConfigs with no resource");
  check(r.errorCode, r.errorMessage, t.label ?? "broker defaults");
  return r.configs;
}

async function getConfigs({ admin, io, parsed }: CommandContext): Promise<number> {
  const t = target(parsed);
  const all = parsed.flags.has("--all");
  const entries = (await describe(admin, t))
    .filter((c) => all || c.configSource === t.dynamicSource)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  io.out(
    t.label === null
      ? "Default configs for brokers in the cluster are:\n"
      : `${all ? "All" : "Dynamic"} configs for ${t.label} are:\n`,
  );
  for (const c of entries) {
    const synonyms = c.synonyms.map(
      (s) => `${CONFIG_SOURCE_NAMES[s.source] ?? "UNKNOWN_CONFIG"}:${s.name}=${s.value ?? "null"}`,
    );
    io.out(`  ${c.name}=${c.value ?? "null"} sensitive=${c.isSensitive} synonyms={${synonyms.join(", ")}}\n`);
  }
  return 0;
}

async function setConfigs({ admin, io, parsed }: CommandContext): Promise<number> {
  const t = target(parsed);
  const toSet = keyValues(parsed, ["--set"]);
  const toDelete = names(parsed, ["--delete"]);
  if (toSet.size === 0 && toDelete.length === 0)
    throw new UsageError("config set needs --set KEY=VALUE or --delete KEY");
  if (toDelete.length > 0) {
    const set = new Set(
      (await describe(admin, t)).filter((c) => c.configSource === t.dynamicSource).map((c) => c.name),
    );
    const invalid = toDelete.filter((k) => !set.has(k));
    if (invalid.length > 0) {
      io.err(`Invalid config(s): ${invalid.join(",")}\n`);
      return 1;
    }
  }
  const body = {
    resources: [
      {
        resourceType: t.resourceType,
        resourceName: t.resourceName,
        configs: [
          ...[...toSet].map(([name, value]) => ({ name, configOperation: 0, value })),
          ...toDelete.map((name) => ({ name, configOperation: 1, value: null })),
        ],
      },
    ],
    validateOnly: false,
  };
  const endpoint = await endpointFor(admin, t);
  const res =
    endpoint === null
      ? await admin.any(INCREMENTAL_ALTER_CONFIGS_API, body)
      : await admin.to(INCREMENTAL_ALTER_CONFIGS_API, endpoint, body);
  for (const r of res.responses) check(r.errorCode, r.errorMessage, t.label ?? "broker defaults");
  io.out(
    t.label === null
      ? "Completed updating default config for brokers in the cluster.\n"
      : `Completed updating config for ${t.label}.\n`,
  );
  return 0;
}

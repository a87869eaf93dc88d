/**
 * The commands of `krill` that are Kafka clients, without Java: `krill topic|group|config|cluster|acl
 * <action> ...` and `krill produce|consume TOPIC ...`. Each talks the plain Kafka protocol
 * (src/admin/client.ts), so it works against Krill and against Apache Kafka alike; the output is
 * that of the Kafka tool doing the same (kafka-topics, kafka-consumer-groups, kafka-configs,
 * kafka-cluster, kafka-metadata-quorum, kafka-acls, the console producer and consumer), so
 * scripts written for those read it.
 *
 * Exit status: 0 done; 1 the cluster answered with an error or could not be reached, or a TLS or
 * SASL handshake failed (the message on stderr names the Kafka error); 2 a usage error (a bad
 * option, or a --command-config asking for what the client cannot do). `--help` on any command
 * prints its usage. The bootstrap is `--bootstrap-server HOST:PORT[,HOST:PORT...]` (default
 * 127.0.0.1:9092), or `--bootstrap-controller` for a controller listener; `--command-config FILE`
 * takes Kafka's client properties for TLS and SASL (src/admin/security.ts).
 */
import { readFileSync } from "node:fs";
import { parseProperties } from "../config/properties.js";
import { isKrillError } from "../errors.js";
import { ACL_OPTIONS, ACL_USAGE, runAcl } from "./acls.js";
import { intOption, type OptionSpec, optionValue, parseOptions, UsageError } from "./args.js";
import { AdminClient, type AdminClientOptions, KafkaResponseError } from "./client.js";
import { CLUSTER_OPTIONS, CLUSTER_USAGE, runCluster } from "./cluster.js";
import { CONFIG_OPTIONS, CONFIG_USAGE, runConfig } from "./configs.js";
import { CONSUME_OPTIONS, CONSUME_USAGE, runConsume } from "./consume.js";
import { GROUP_OPTIONS, GROUP_USAGE, runGroup } from "./groups.js";
import { PRODUCE_OPTIONS, PRODUCE_USAGE, runProduce } from "./produce.js";
import { clientSecurity } from "./security.js";
import { type AdminIo, runTopic, TOPIC_OPTIONS, TOPIC_USAGE } from "./topics.js";

export type { AdminIo } from "./topics.js";

const BOOTSTRAP_DEFAULT = "127.0.0.1:9092";

interface AdminCommand {
  /** Options per action; a command without actions (produce, consume) has one, "". */
  readonly options: Readonly<Record<string, readonly OptionSpec[]>>;
  readonly usage: string;
}

const COMMANDS: Readonly<Record<string, AdminCommand>> = {
  topic: { options: TOPIC_OPTIONS, usage: TOPIC_USAGE },
  group: { options: GROUP_OPTIONS, usage: GROUP_USAGE },
  config: {
    options: { ...CONFIG_OPTIONS, describe: CONFIG_OPTIONS.get!, alter: CONFIG_OPTIONS.set! },
    usage: CONFIG_USAGE,
  },
  cluster: { options: CLUSTER_OPTIONS, usage: CLUSTER_USAGE },
  acl: { options: ACL_OPTIONS, usage: ACL_USAGE },
  produce: { options: { "": PRODUCE_OPTIONS }, usage: PRODUCE_USAGE },
  consume: { options: { "": CONSUME_OPTIONS }, usage: CONSUME_USAGE },
};

/** Kafka's script names as aliases (`krill topics`, `krill consumer-groups`, `krill configs`). */
const ALIASES: Readonly<Record<string, string>> = {
  topics: "topic",
  groups: "group",
  "consumer-groups": "group",
  configs: "config",
  acls: "acl",
};

export const ADMIN_COMMANDS: readonly string[] = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)];

export const ADMIN_USAGE = `Admin commands (a Kafka client: they work against Krill and Apache Kafka alike):
  krill topic create|list|describe|alter|delete ...     (kafka-topics.sh)
  krill group list|describe|delete|reset-offsets ...    (kafka-consumer-groups.sh)
  krill config get|set ...                              (kafka-configs.sh)
  krill cluster info|quorum ...                         (kafka-cluster.sh, kafka-metadata-quorum.sh)
  krill acl list|create|delete ...                      (kafka-acls.sh)
  krill produce TOPIC ... < records                     (kafka-console-producer.sh, kcat -P)
  krill consume TOPIC... ...                            (kafka-console-consumer.sh, kcat -C)
Each takes --bootstrap-server HOST:PORT (default ${BOOTSTRAP_DEFAULT}), --command-config FILE
(TLS/SASL client properties, as Kafka's tools) and --help. Exit status: 0 done, 1 an error from
or reaching the cluster, 2 usage.`;

const STDIO: AdminIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  input: process.stdin,
};

/** The admin client's settings from --timeout and --command-config. */
function clientOptions(parsed: ReturnType<typeof parseOptions>, io: AdminIo): AdminClientOptions {
  const timeoutMs = intOption(parsed, "--timeout", 1, 3_600_000);
  const file = optionValue(parsed, "--command-config");
  let security: Pick<AdminClientOptions, "security" | "securityProps"> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--command-config ${file}: ${(err as Error).message}`);
    }
    let props: Map<string, string>;
    try {
      props = parseProperties(text, file);
    } catch (err) {
      throw new UsageError(`--command-config ${file}: ${(err as Error).message}`);
    }
    security = { security: clientSecurity(props, file, (line) => io.err(`${line}\n`)), securityProps: props };
  }
  return { ...(timeoutMs !== undefined ? { requestTimeoutMs: timeoutMs } : {}), ...security };
}

export async function runAdmin(argv: readonly string[], io: AdminIo = STDIO): Promise<number> {
  if (io === STDIO) {
    // `krill topic list | head`: a closed pipe ends the command quietly, as it does a shell tool.
    process.stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
    });
  }
  const name = ALIASES[argv[0] ?? ""] ?? argv[0] ?? "";
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`krill: unknown command "${argv[0]}"\n${ADMIN_USAGE}\n`);
    return 2;
  }
  const actionless = command.options[""] !== undefined;
  const action = actionless ? "" : argv[1];
  if (action === undefined || action === "--help" || action === "-h") {
    (action === undefined ? io.err : io.out)(`${command.usage}\n`);
    return action === undefined ? 2 : 0;
  }
  const prefix = actionless ? `krill ${name}` : `krill ${name} ${action}`;
  let admin: AdminClient | undefined;
  // SIGINT/SIGTERM end produce and consume cleanly (a consumer commits and leaves its group).
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  const signals = io === STDIO && actionless;
  if (signals) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  try {
    const specs = command.options[action];
    if (specs === undefined) {
      throw new UsageError(
        `unknown ${name} action "${action}"; accepted: ${Object.keys(command.options).join(", ")}`,
      );
    }
    const parsed = parseOptions(argv.slice(actionless ? 1 : 2), specs);
    if (parsed.flags.has("--help")) {
      io.out(`${command.usage}\n`);
      return 0;
    }
    const controller = optionValue(parsed, "--bootstrap-controller");
    const server = optionValue(parsed, "--bootstrap-server");
    if (controller !== undefined && server !== undefined) {
      throw new UsageError("give --bootstrap-server or --bootstrap-controller, not both");
    }
    admin = new AdminClient(controller ?? server ?? BOOTSTRAP_DEFAULT, clientOptions(parsed, io));
    const ctx = { admin, io, parsed, signal: abort.signal };
    switch (name) {
      case "topic":
        return await runTopic(action, ctx);
      case "group":
        return await runGroup(action, ctx);
      case "config":
        return await runConfig(action, ctx);
      case "acl":
        return await runAcl(action, ctx);
      case "produce":
        return await runProduce(ctx);
      case "consume":
        return await runConsume(ctx);
      default:
        return await runCluster(action, ctx, controller !== undefined);
    }
  } catch (err) {
    if (err instanceof UsageError || isKrillError(err, "CONFIG_INVALID")) {
      io.err(`${prefix}: ${err.message}\n${command.usage}\n`);
      return 2;
    }
    if (err instanceof KafkaResponseError || isKrillError(err)) {
      io.err(`${prefix}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    if (signals) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    admin?.close();
  }
}

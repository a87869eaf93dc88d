/**
 * The admin commands of `krill`, without Java: `krill topic|group|config|cluster <action> ...`.
 * Each is a Kafka client over the plain Kafka protocol (src/admin/client.ts), so it works against
 * Krill and against Apache Kafka alike; the output is that of the Kafka tool doing the same
 * (kafka-topics, kafka-consumer-groups, kafka-configs, kafka-cluster, kafka-metadata-quorum), so
 * scripts written for those read it.
 *
 * Exit status: 0 done; 1 the cluster answered with an error or could not be reached (the message
 * on stderr names the Kafka error); 2 a usage error. `--help` on any command prints its usage.
 * The bootstrap is `--bootstrap-server HOST:PORT[,HOST:PORT...]` (default 127.0.0.1:9092), or
 * `--bootstrap-controller` for a controller listener.
 */
import { isKrillError } from "../errors.js";
import { intOption, optionValue, parseOptions, UsageError } from "./args.js";
import { AdminClient, KafkaResponseError } from "./client.js";
import { CLUSTER_OPTIONS, CLUSTER_USAGE, runCluster } from "./cluster.js";
import { CONFIG_OPTIONS, CONFIG_USAGE, runConfig } from "./configs.js";
import { GROUP_OPTIONS, GROUP_USAGE, runGroup } from "./groups.js";
import { type AdminIo, runTopic, TOPIC_OPTIONS, TOPIC_USAGE } from "./topics.js";

export type { AdminIo } from "./topics.js";

const BOOTSTRAP_DEFAULT = "127.0.0.1:9092";

interface AdminCommand {
  readonly options: Readonly<Record<string, readonly import("./args.js").OptionSpec[]>>;
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
};

/** Kafka's script names as aliases (`krill topics`, `krill consumer-groups`, `krill configs`). */
const ALIASES: Readonly<Record<string, string>> = {
  topics: "topic",
  groups: "group",
  "consumer-groups": "group",
  configs: "config",
};

export const ADMIN_COMMANDS: readonly string[] = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)];

export const ADMIN_USAGE = `Admin commands (a Kafka client: they work against Krill and Apache Kafka alike):
  krill topic create|list|describe|alter|delete ...     (kafka-topics.sh)
  krill group list|describe|delete ...                  (kafka-consumer-groups.sh)
  krill config get|set ...                              (kafka-configs.sh)
  krill cluster info|quorum ...                         (kafka-cluster.sh, kafka-metadata-quorum.sh)
Each takes --bootstrap-server HOST:PORT (default ${BOOTSTRAP_DEFAULT}) and --help.`;

const STDIO: AdminIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

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
  const action = argv[1];
  if (action === undefined || action === "--help" || action === "-h") {
    (action === undefined ? io.err : io.out)(`${command.usage}\n`);
    return action === undefined ? 2 : 0;
  }
  const prefix = `krill ${name} ${action}`;
  let admin: AdminClient | undefined;
  try {
    const specs = command.options[action];
    if (specs === undefined) {
      throw new UsageError(
        `unknown ${name} action "${action}"; accepted: ${Object.keys(command.options).join(", ")}`,
      );
    }
    const parsed = parseOptions(argv.slice(2), specs);
    if (parsed.flags.has("--help")) {
      io.out(`${command.usage}\n`);
      return 0;
    }
    const controller = optionValue(parsed, "--bootstrap-controller");
    const server = optionValue(parsed, "--bootstrap-server");
    if (controller !== undefined && server !== undefined) {
      throw new UsageError("give --bootstrap-server or --bootstrap-controller, not both");
    }
    const timeoutMs = intOption(parsed, "--timeout", 1, 3_600_000);
    admin = new AdminClient(controller ?? server ?? BOOTSTRAP_DEFAULT, {
      ...(timeoutMs !== undefined ? { requestTimeoutMs: timeoutMs } : {}),
    });
    const ctx = { admin, io, parsed };
    switch (name) {
      case "topic":
        return await runTopic(action, ctx);
      case "group":
        return await runGroup(action, ctx);
      case "config":
        return await runConfig(action, ctx);
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
    admin?.close();
  }
}

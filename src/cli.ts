/**
 * The `krill` command.
 *
 *   krill start [--config server.properties] [--override key=value]... [--strict] [--env-config]
 *   krill format --config server.properties --cluster-id ID [--standalone | --initial-controllers L
 *                | --no-initial-controllers] [--release-version V] [--ignore-formatted]
 *   krill random-uuid
 *   krill topic|group|config|cluster <action> ... (admin commands, src/admin/main.ts)
 *   krill --help | --version
 *
 * SIGTERM or SIGINT stops the broker gracefully (in-flight requests are answered and the logs
 * closed cleanly) and exits 0; a second signal exits at once with status 1.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdmin } from "./admin/main.js";
import { BrokerConfig } from "./config/broker-config.js";
import { brokerConfigFromEnv } from "./config/env.js";
import { PropertiesFile } from "./config/properties.js";
import { isKrillError, KrillError } from "./errors.js";
import { createLogger, type LogFormat } from "./logging.js";
import { type FormatOptions, formatStorage } from "./metadata/storage-format.js";
import { SYSTEM_RANDOM } from "./random.js";
import { Broker } from "./server/broker.js";
import { randomClusterId } from "./server/meta-properties.js";

const USAGE = `Usage:
  krill start [--config <server.properties>] [--override <key>=<value>]... [--strict] [--env-config]
  krill format --config <server.properties> --cluster-id <id> [--standalone |
               --initial-controllers <id@host:port:dirid,...> | --no-initial-controllers]
               [--release-version <version>] [--ignore-formatted]
  krill random-uuid
  krill --help
  krill --version

Starts a broker that speaks Apache Kafka's wire protocol. Configuration uses Kafka's broker keys
(see docs/config.md); --override replaces a key from the file and may be repeated. Keys neither
Kafka nor Krill knows are logged as warnings; --strict (krill.config.strict=true) refuses them.
--env-config also reads KAFKA_* environment variables as Apache Kafka's container image does
(KAFKA_ADVERTISED_LISTENERS is advertised.listeners; they win over the file, --override over them).
format prepares the log directories as Kafka's kafka-storage format does (same options; start
formats an unformatted node as --standalone would, so it is optional); random-uuid prints a
new cluster id.
Log level: KRILL_LOG_LEVEL (trace, debug, info, warn, error; default info); format:
krill.log.format (pretty on a terminal, JSON lines otherwise; json, pretty or auto).

${ADMIN_USAGE}`;

export interface StartArgs {
  readonly configPath: string | undefined;
  readonly overrides: Map<string, string>;
  /** `--env-config`: broker keys from KAFKA_* variables (src/config/env.ts). */
  readonly envConfig?: boolean;
}

/** `krill format`'s options as parsed: FormatOptions with the config file's path in place of the loaded config. */
export type FormatArgs = Omit<FormatOptions, "config" | "random" | "now"> & { readonly configPath: string };

export type CliCommand =
  | { kind: "help" }
  | { kind: "version" }
  | { kind: "random-uuid" }
  | { kind: "start"; args: StartArgs }
  | { kind: "format"; args: FormatArgs }
  | { kind: "admin"; argv: readonly string[] };

/** `krill format`'s options, with kafka-storage's long and short names. */
function parseFormatArgs(rest: readonly string[]): FormatArgs {
  let configPath: string | undefined;
  let clusterId: string | undefined;
  let initialControllers: string | undefined;
  let releaseVersion: string | undefined;
  let standalone = false;
  let noInitialControllers = false;
  let ignoreFormatted = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (name !== arg) return arg.slice(eq + 1);
      const next = rest[++i];
      if (next === undefined) throw new KrillError("CONFIG_INVALID", `${name} needs a value`);
      return next;
    };
    if (name === "--config" || name === "-c") configPath = value();
    else if (name === "--cluster-id" || name === "-t") clusterId = value();
    else if (name === "--initial-controllers" || name === "-I") initialControllers = value();
    else if (name === "--release-version" || name === "-r") releaseVersion = value();
    else if (name === "--standalone" || name === "-s") standalone = true;
    else if (name === "--no-initial-controllers" || name === "-N") noInitialControllers = true;
    else if (name === "--ignore-formatted" || name === "-g") ignoreFormatted = true;
    else
      throw new KrillError(
        "CONFIG_INVALID",
        `unknown format option "${arg}"; accepted: --config, --cluster-id, --standalone, --initial-controllers, --no-initial-controllers, --release-version, --ignore-formatted`,
      );
  }
  if (configPath === undefined) throw new KrillError("CONFIG_INVALID", "format needs --config");
  if (clusterId === undefined) throw new KrillError("CONFIG_INVALID", "format needs --cluster-id");
  return {
    configPath,
    clusterId,
    standalone,
    initialControllers,
    noInitialControllers,
    releaseVersion,
    ignoreFormatted,
  };
}

export function parseArgs(argv: readonly string[]): CliCommand {
  // Admin commands parse their own options, --help included.
  if (argv[0] !== undefined && ADMIN_COMMANDS.includes(argv[0])) return { kind: "admin", argv };
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
  if (argv.includes("--version") || argv.includes("-v")) return { kind: "version" };
  const [command, ...rest] = argv;
  if (command === "format") return { kind: "format", args: parseFormatArgs(rest) };
  if (command === "random-uuid" && rest.length === 0) return { kind: "random-uuid" };
  if (command !== "start")
    throw new KrillError(
      "CONFIG_INVALID",
      `unknown command "${command}"; accepted: start, format, random-uuid, ${ADMIN_COMMANDS.join(", ")}`,
    );
  let configPath: string | undefined;
  const overrides = new Map<string, string>();
  let envConfig = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const value = (name: string): string => {
      const inline = arg.includes("=") && arg.startsWith(`${name}=`) ? arg.slice(name.length + 1) : undefined;
      if (inline !== undefined) return inline;
      const next = rest[++i];
      if (next === undefined) throw new KrillError("CONFIG_INVALID", `${name} needs a value`);
      return next;
    };
    if (arg === "--config" || arg.startsWith("--config=")) {
      configPath = value("--config");
    } else if (arg === "--override" || arg.startsWith("--override=")) {
      const kv = value("--override");
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new KrillError("CONFIG_INVALID", `--override expects key=value, got "${kv}"`);
      overrides.set(kv.slice(0, eq).trim(), kv.slice(eq + 1));
    } else if (arg === "--strict") {
      overrides.set("krill.config.strict", "true");
    } else if (arg === "--env-config") {
      envConfig = true;
    } else if (!arg.startsWith("-") && configPath === undefined) {
      // Kafka's kafka-server-start.sh takes the properties file as its argument.
      configPath = arg;
    } else {
      throw new KrillError(
        "CONFIG_INVALID",
        `unknown option "${arg}"; accepted: --config, --override, --strict, --env-config, --help, --version`,
      );
    }
  }
  return { kind: "start", args: { configPath, overrides, envConfig } };
}

export function loadConfig(args: StartArgs, env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const fromEnv = args.envConfig === true ? brokerConfigFromEnv(env) : new Map<string, string>();
  if (args.configPath === undefined) return BrokerConfig.create(new Map([...fromEnv, ...args.overrides]));
  return BrokerConfig.create(PropertiesFile.read(args.configPath), fromEnv, args.overrides);
}

/** What `krill --version` prints: the package version and the commit the build was made from. */
export function versionLine(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "krill") {
        // Stamped by tools/build/bundle.ts at build time: an npm tarball or an image has no .git.
        const infoPath = path.join(dir, "dist", "build-info.json");
        const info = existsSync(infoPath)
          ? (JSON.parse(readFileSync(infoPath, "utf8")) as { commit?: string })
          : {};
        return `krill ${pkg.version ?? "unknown"} (commit ${info.commit ?? "unknown"}, node ${process.versions.node})`;
      }
    }
    dir = path.dirname(dir);
  }
  return `krill unknown (commit unknown, node ${process.versions.node})`;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: CliCommand;
  let config: BrokerConfig;
  try {
    command = parseArgs(argv);
    if (command.kind === "admin") return await runAdmin(command.argv);
    if (command.kind === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command.kind === "version") {
      process.stdout.write(`${versionLine()}\n`);
      return 0;
    }
    if (command.kind === "random-uuid") {
      process.stdout.write(`${randomClusterId(SYSTEM_RANDOM)}\n`);
      return 0;
    }
    if (command.kind === "format") {
      const { args } = command;
      const lines = formatStorage({
        ...args,
        config: loadConfig({ configPath: args.configPath, overrides: new Map() }),
        random: SYSTEM_RANDOM,
        now: new Date(),
      });
      for (const line of lines) process.stdout.write(`${line}\n`);
      return 0;
    }
    config = loadConfig(command.args);
  } catch (err) {
    process.stderr.write(`krill: ${isKrillError(err) ? err.message : String(err)}\n`);
    if (!isKrillError(err)) process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  const logger = createLogger({ format: config.get("krill.log.format") as LogFormat | "auto" });
  let broker: Broker;
  try {
    broker = await Broker.start(config, { logger });
  } catch (err) {
    logger.fatal({ err }, "start-up failed");
    process.stderr.write(`krill: start-up failed: ${isKrillError(err) ? err.message : String(err)}\n`);
    return 1;
  }
  return await new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        logger.warn({ signal }, "second signal: exiting without finishing shutdown");
        resolve(1);
        return;
      }
      signalled = true;
      logger.info({ signal }, "shutting down");
      broker.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

/**
 * Runs the command and exits with its status: what bin/krill.mjs (the package's `krill`) calls once
 * it has checked the Node version, and what `node dist/krill.mjs` (the container) runs directly.
 */
export function runCli(argv: readonly string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
      // Leftover timers (none expected) must not keep a stopped broker alive.
      setTimeout(() => process.exit(code), 2_000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`krill: ${String(err)}\n`);
      process.exit(1);
    },
  );
}

const invokedDirectly =
  process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (invokedDirectly) runCli(process.argv.slice(2));

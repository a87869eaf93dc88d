/**
 * Library entry: start a Krill broker inside this process.
 *
 *   const broker = await startBroker({ "num.partitions": 3 });
 *   // broker.bootstrap === "127.0.0.1:<port>"
 *   await broker.stop();
 *
 * Without explicit settings the broker listens on 127.0.0.1 with an ephemeral port and keeps its
 * data in a new temporary directory that `stop()` removes, which is what tests want.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import { BrokerConfig } from "./config/broker-config.js";
import { createLogger, type LogFormat } from "./logging.js";
import { Broker, type BrokerStartOptions } from "./server/broker.js";
import type { BrokerComponent } from "./server/services.js";

export { BrokerConfig } from "./config/broker-config.js";
export { parseProperties } from "./config/properties.js";
export { KrillError } from "./errors.js";
export { createLogger, type LogFormat } from "./logging.js";
export { Broker } from "./server/broker.js";
export type { BrokerComponent, BrokerContext, BrokerCore, BrokerServices } from "./server/services.js";

export interface BrokerHandle {
  /** Host of the first client listener as advertised. */
  readonly host: string;
  readonly port: number;
  /** "host:port" for clients' bootstrap.servers. */
  readonly bootstrap: string;
  readonly broker: Broker;
  stop(): Promise<void>;
}

export interface StartBrokerOptions {
  readonly logger?: Logger;
  readonly components?: readonly BrokerComponent[];
  /** The quorum's network, when controller.quorum.voters is set (see BrokerStartOptions). */
  readonly raftChannel?: BrokerStartOptions["raftChannel"];
  readonly remoteController?: BrokerStartOptions["remoteController"];
}

export type BrokerOverrides = Readonly<Record<string, string | number | boolean>>;

export async function startBroker(
  configOrOverrides: BrokerConfig | BrokerOverrides = {},
  options: StartBrokerOptions = {},
): Promise<BrokerHandle> {
  let tempDir: string | undefined;
  let config: BrokerConfig;
  if (configOrOverrides instanceof BrokerConfig) {
    config = configOrOverrides;
  } else {
    const defaults: Record<string, string> = { listeners: "PLAINTEXT://127.0.0.1:0" };
    if (!("log.dirs" in configOrOverrides) && !("log.dir" in configOrOverrides)) {
      tempDir = mkdtempSync(path.join(os.tmpdir(), "krill-"));
      defaults["log.dirs"] = tempDir;
    }
    config = BrokerConfig.create(defaults, configOrOverrides);
  }
  const logger =
    options.logger ??
    createLogger({
      level: process.env.KRILL_LOG_LEVEL ?? "warn",
      format: config.get("krill.log.format") as LogFormat | "auto",
    });
  let broker: Broker;
  try {
    broker = await Broker.start(config, {
      logger,
      ...(options.components ? { components: options.components } : {}),
      ...(options.raftChannel ? { raftChannel: options.raftChannel } : {}),
      ...(options.remoteController ? { remoteController: options.remoteController } : {}),
    });
  } catch (err) {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  const endpoint = broker.context.advertisedEndpoints()[0]!;
  return {
    host: endpoint.host,
    port: endpoint.port,
    bootstrap: `${endpoint.host}:${endpoint.port}`,
    broker,
    async stop() {
      await broker.stop();
      if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

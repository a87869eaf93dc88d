/**
 * What a request handler can reach of the running broker. Handlers read metadata through the
 * current image and change it only through the controller channel. Subsystems built outside this folder
 * (partition logs, group and transaction coordinators) hang off `ext`: they add their field to
 * `BrokerExtensions` by declaration merging and install themselves with a `BrokerComponent`, so the
 * server core does not need to know them.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import type { LogManager } from "../log/log-manager.js";
import type { ControllerChannel } from "../metadata/controller-channel.js";
import type { MetadataImage } from "../metadata/image.js";
import type { MetadataPublisher } from "../metadata/publisher.js";
import type { Random } from "../random.js";
import type { BrokerMetrics } from "./metrics.js";
import type { HandlerRegistry } from "./registry.js";

export interface AdvertisedEndpoint {
  readonly listenerName: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

/** Filled in by components; see the module comment. */
// biome-ignore lint/suspicious/noEmptyInterface: extended by declaration merging.
export interface BrokerExtensions {}

export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly nodeId: number;
  readonly clusterId: string;
  /** The broker's one clock and one source of randomness (injected by tests and simulations). */
  readonly clock: Clock;
  readonly random: Random;
  /** The one way to change metadata: resolves once the change is committed and published. */
  readonly controller: ControllerChannel;
  /** Publishes each committed image; subsystems follow metadata with `onPublish`. */
  readonly publisher: MetadataPublisher;
  /** Partition logs of every topic in the image. */
  readonly logs: LogManager;
  readonly registry: HandlerRegistry;
  readonly metrics: BrokerMetrics;
  readonly ext: Partial<BrokerExtensions>;
  /** The current metadata image (a new object after every metadata change). */
  image(): MetadataImage;
  /** The endpoints clients are told about, with the ports actually bound. */
  advertisedEndpoints(): readonly AdvertisedEndpoint[];
}

/** A subsystem started with the broker (after metadata is loaded, before listeners open). */
export interface BrokerComponent {
  readonly name: string;
  start(broker: BrokerContext): Promise<void> | void;
  /** Called in reverse start order on shutdown, after listeners stop. */
  stop?(): Promise<void> | void;
}

/**
 * The metadata side of a combined single node, wired together: the local metadata log, the
 * publisher that turns committed batches into the image, the snapshot generator, the controller
 * and the channel handlers use to reach it. Data flows one way:
 *
 *   handler -> channel -> controller (validate, build records) -> log.propose
 *   log (commit) -> publisher (apply, publish to listeners) -> snapshot generator -> proposal resolves
 *
 * A replicated log (src/raft) replaces `LocalMetadataLog` behind the `MetadataLog` interface; a
 * broker-only node keeps the publisher and replaces the channel with one that forwards.
 */
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import { type Random, SYSTEM_RANDOM } from "../random.js";
import { MetadataController } from "./controller.js";
import { type ControllerChannel, LocalControllerChannel } from "./controller-channel.js";
import { MetadataImage } from "./image.js";
import { LocalMetadataLog } from "./local-metadata-log.js";
import { MetadataPublisher, SnapshotGenerator } from "./publisher.js";
import { metadataRecordSerde } from "./record-serde.js";

export interface LocalMetadata {
  readonly log: LocalMetadataLog;
  readonly publisher: MetadataPublisher;
  readonly snapshots: SnapshotGenerator;
  readonly controller: MetadataController;
  readonly channel: ControllerChannel;
}

export interface LocalMetadataOptions {
  /** metadata.log.dir (the log lives in its `__cluster_metadata-0`). */
  readonly dir: string;
  readonly logger: Logger;
  /** This node: the one voter of its metadata quorum. */
  readonly nodeId: number;
  /** The live broker config; read on every use, so dynamic changes apply. */
  readonly config: () => BrokerConfig;
  readonly clock?: Clock;
  /** Draws topic ids and replica placements. */
  readonly random?: Random;
  /** This node's cluster id: registrations from another cluster are refused. */
  readonly clusterId?: string;
}

/** Opens the log, replays the newest snapshot plus the log after it into the image, and wires the rest. */
export async function openLocalMetadata(options: LocalMetadataOptions): Promise<LocalMetadata> {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const log = new LocalMetadataLog(options.dir, metadataRecordSerde, options.logger, clock, options.nodeId);
  const loaded = await log.open();
  let image = MetadataImage.EMPTY;
  for (const entry of loaded.entries) image = image.apply([entry.record], entry.offset);
  const publisher = new MetadataPublisher(image);
  const snapshots = new SnapshotGenerator({ log, publisher, config: options.config, clock });
  log.register(publisher);
  // After the publisher and all its listeners, as Kafka's SnapshotGenerator is the last publisher.
  log.register({ handleCommit: () => void snapshots.maybeSnapshot() });
  const controller = new MetadataController({
    log,
    image: () => publisher.image,
    config: options.config,
    logger: options.logger,
    random: options.random ?? SYSTEM_RANDOM,
    clock,
    ...(options.clusterId !== undefined ? { clusterId: options.clusterId } : {}),
  });
  return { log, publisher, snapshots, controller, channel: new LocalControllerChannel(controller) };
}

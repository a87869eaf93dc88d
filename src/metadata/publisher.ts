/**
 * The metadata publisher: the one place committed metadata becomes the image everyone reads. It
 * listens to the metadata log (`MetadataLogListener`), applies each committed batch to the current
 * image and hands the new image to its listeners in registration order (the broker's log
 * settings, the partition manager, the group coordinator, the snapshot generator), as Kafka's
 * MetadataLoader does for its MetadataPublishers. It never validates or proposes anything: that is
 * the controller's job (controller.ts), and a broker-only node will run a publisher without one.
 *
 * The image changes only here and only to a committed state, so a reader (a handler) never sees a
 * record that could still be lost. A listener's failure fails the proposal that carried the batch
 * (its client gets an error) but the image has moved on: the records are committed.
 */
import type { Clock } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import { MetadataImage } from "./image.js";
import type { CommittedBatch, MetadataLog, MetadataLogListener } from "./metadata-log.js";
import type { MetadataRecord } from "./records.js";

export type ImageListener = (
  image: MetadataImage,
  previous: MetadataImage,
  records: readonly MetadataRecord[],
) => Promise<void> | void;

export class MetadataPublisher implements MetadataLogListener {
  readonly #listeners: ImageListener[] = [];
  #image: MetadataImage;

  constructor(initialImage: MetadataImage) {
    this.#image = initialImage;
  }

  /** The newest committed image (a new object after every batch). */
  get image(): MetadataImage {
    return this.#image;
  }

  onPublish(listener: ImageListener): void {
    this.#listeners.push(listener);
  }

  async handleCommit(batch: CommittedBatch): Promise<void> {
    if (batch.lastOffset <= this.#image.offset) {
      throw new Error(
        `assertion: batch at ${batch.lastOffset} is not after the image at ${this.#image.offset}`,
      );
    }
    const previous = this.#image;
    this.#image = previous.apply(batch.records, batch.lastOffset);
    for (const listener of this.#listeners) await listener(this.#image, previous, batch.records);
  }

  /**
   * Replaces the image by a snapshot's (a follower that fell behind the leader's log start, or
   * the first load of a quorum member), as Kafka's MetadataLoader does. Listeners see the change
   * as one batch: a RemoveTopic for each topic the snapshot no longer has, then the snapshot's
   * records, so what they derive from records (logs to create or delete, configs) holds.
   */
  async handleSnapshot(records: readonly MetadataRecord[], offset: number): Promise<void> {
    const previous = this.#image;
    const next = MetadataImage.EMPTY.apply(records, offset);
    const removed: MetadataRecord[] = [];
    for (const topic of previous.topicsById.values()) {
      const kept = next.topicsById.get(topic.topicId);
      if (kept === undefined) removed.push({ type: "RemoveTopic", data: { topicId: topic.topicId } });
    }
    this.#image = next;
    const delta = [...removed, ...records];
    for (const listener of this.#listeners) await listener(next, previous, delta);
  }
}

/**
 * Writes a snapshot of the published image when the log has grown by
 * `metadata.log.max.record.bytes.between.snapshots` or, with bytes pending, when
 * `metadata.log.max.snapshot.interval.ms` has passed (Kafka's SnapshotGenerator). Called after
 * each publish and by a timer, so a quiet cluster still snapshots on the time bound.
 */
export class SnapshotGenerator {
  readonly #log: MetadataLog;
  readonly #publisher: MetadataPublisher;
  readonly #config: () => BrokerConfig;
  readonly #clock: Clock;

  constructor(options: {
    log: MetadataLog;
    publisher: MetadataPublisher;
    config: () => BrokerConfig;
    clock: Clock;
  }) {
    this.#log = options.log;
    this.#publisher = options.publisher;
    this.#config = options.config;
    this.#clock = options.clock;
  }

  /** Writes a snapshot if one is due and the log can take it now; true if it wrote one. */
  maybeSnapshot(): boolean {
    const config = this.#config();
    const bytesMax = config.int("metadata.log.max.record.bytes.between.snapshots");
    const intervalMs = config.int("metadata.log.max.snapshot.interval.ms");
    const pending = this.#log.bytesSinceSnapshot;
    const dueBySize = pending >= bytesMax;
    const dueByTime =
      intervalMs > 0 && pending > 0 && this.#clock.nowMs() - this.#log.lastSnapshotMs >= intervalMs;
    if (!dueBySize && !dueByTime) return false;
    const image = this.#publisher.image;
    return this.#log.createSnapshot(image.toRecords(), image.offset);
  }
}

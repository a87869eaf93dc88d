/**
 * The controller seam: the controller only proposes, the log decides when a batch is committed,
 * and the publisher alone turns committed batches into the image. A log that commits later (or
 * never, when leadership moves), as a replicated log does, drives the controller here.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { MetadataController } from "../../src/metadata/controller.js";
import { LocalControllerChannel } from "../../src/metadata/controller-channel.js";
import { MetadataImage } from "../../src/metadata/image.js";
import type { CommittedBatch, MetadataLog, MetadataLogListener } from "../../src/metadata/metadata-log.js";
import { MetadataPublisher } from "../../src/metadata/publisher.js";
import type { MetadataRecord } from "../../src/metadata/records.js";
import { SeededRandom } from "../../src/random.js";
import { registration } from "./cluster-helpers.js";

/** A log whose proposals wait until the test commits or fails them, one at a time in order. */
class DeferredLog implements MetadataLog {
  readonly #listeners: MetadataLogListener[] = [];
  readonly pending: {
    records: readonly MetadataRecord[];
    resolve: (offset: number) => void;
    reject: (err: Error) => void;
  }[] = [];
  endOffset = 0;
  bytesSinceSnapshot = 0;
  lastSnapshotMs = 0;
  kraftVersion = 0;

  propose(records: readonly MetadataRecord[]): Promise<number> {
    return new Promise((resolve, reject) => this.pending.push({ records, resolve, reject }));
  }

  register(listener: MetadataLogListener): void {
    this.#listeners.push(listener);
  }

  async commitNext(): Promise<void> {
    const next = this.pending.shift();
    if (next === undefined) throw new Error("nothing proposed");
    const batch: CommittedBatch = {
      lastOffset: this.endOffset + next.records.length - 1,
      records: next.records,
    };
    this.endOffset += next.records.length;
    for (const l of this.#listeners) await l.handleCommit(batch);
    next.resolve(batch.lastOffset);
  }

  failNext(err: Error): void {
    this.pending.shift()?.reject(err);
  }

  createSnapshot(): boolean {
    return false;
  }

  async close(): Promise<void> {}
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setImmediate(r));
  expect(condition()).toBe(true);
};

function setUp() {
  const log = new DeferredLog();
  const publisher = new MetadataPublisher(MetadataImage.EMPTY);
  log.register(publisher);
  const published: number[] = [];
  publisher.onPublish((image) => void published.push(image.offset));
  const config = BrokerConfig.create({ "log.dirs": "/nonexistent", "num.partitions": "2" });
  const controller = new MetadataController({
    log,
    image: () => publisher.image,
    config: () => config,
    logger: pino({ level: "silent" }),
    random: new SeededRandom(14),
  });
  return { log, publisher, published, channel: new LocalControllerChannel(controller) };
}

const topic = (name: string) => ({
  name,
  numPartitions: -1,
  replicationFactor: -1,
  assignments: [],
  configs: [],
});
const broker = registration(1);

/** Registers broker 1 and heartbeats it unfenced, committing each proposal. */
async function registerBroker1(
  log: DeferredLog,
  channel: LocalControllerChannel,
  image: () => MetadataImage,
) {
  const registered = channel.registerBroker(broker);
  await until(() => log.pending.length === 1);
  await log.commitNext();
  const { brokerEpoch } = await registered;
  const heartbeat = channel.brokerHeartbeat({
    brokerId: 1,
    brokerEpoch,
    currentMetadataOffset: BigInt(image().offset),
    wantFence: false,
    wantShutDown: false,
  });
  await until(() => log.pending.length === 1);
  await log.commitNext();
  expect((await heartbeat).isFenced).toBe(false);
}

describe("controller seam", () => {
  it("answers only once the records are committed, and the image changes only on commit", async () => {
    const { log, publisher, published, channel } = setUp();
    const registered = channel.registerBroker(broker);
    await until(() => log.pending.length === 1);
    expect(publisher.image.brokers.size).toBe(0);
    await log.commitNext();
    expect((await registered).brokerEpoch).toBe(1n);
    expect(publisher.image.brokers.get(1)).toMatchObject({ brokerEpoch: 1n, fenced: true });
    const heartbeat = channel.brokerHeartbeat({
      brokerId: 1,
      brokerEpoch: 1n,
      currentMetadataOffset: BigInt(publisher.image.offset),
      wantFence: false,
      wantShutDown: false,
    });
    await until(() => log.pending.length === 1);
    expect(publisher.image.brokers.get(1)?.fenced).toBe(true);
    await log.commitNext();
    expect(await heartbeat).toMatchObject({ isCaughtUp: true, isFenced: false });
    expect(publisher.image.brokers.get(1)?.fenced).toBe(false);

    let answered = false;
    const created = channel.createTopics([topic("a")], false).then((r) => {
      answered = true;
      return r;
    });
    await until(() => log.pending.length === 1);
    expect(answered).toBe(false);
    expect(publisher.image.topicsByName.has("a")).toBe(false);
    await log.commitNext();
    expect((await created)[0]).toMatchObject({ name: "a", errorCode: 0, numPartitions: 2 });
    expect(publisher.image.topicsByName.get("a")?.partitions).toHaveLength(2);
    // FeatureLevel + RegisterBroker at 0-1, the unfencing at 2, then Topic + two Partition records at 3-5.
    expect(published).toEqual([1, 2, 5]);
  });

  it("a proposal that is never committed fails its request, leaves the image alone, and the next one proceeds", async () => {
    const { log, publisher, channel } = setUp();
    await registerBroker1(log, channel, () => publisher.image);
    const lost = channel.createTopics([topic("lost")], false);
    const next = channel.createTopics([topic("lost")], false);
    await until(() => log.pending.length === 1);
    log.failNext(new Error("leadership moved"));
    await expect(lost).rejects.toThrow("leadership moved");
    expect(publisher.image.topicsByName.has("lost")).toBe(false);
    // The queued request validates against the image as committed, so the name is still free.
    await until(() => log.pending.length === 1);
    await log.commitNext();
    expect((await next)[0]).toMatchObject({ name: "lost", errorCode: 0 });
  });

  it("validate-only proposes nothing", async () => {
    const { log, publisher, channel } = setUp();
    await registerBroker1(log, channel, () => publisher.image);
    const [r] = await channel.createTopics([topic("dry")], true);
    expect(r?.errorCode).toBe(0);
    expect(log.pending).toHaveLength(0);
  });
});

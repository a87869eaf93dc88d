/**
 * The controller with several registered brokers, driven by a ManualClock: registration and
 * heartbeats, fencing on session timeout, controlled shutdown, replica placement, AlterPartition
 * and elections. Named invariants are checked after every step (`checkInvariants`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { MetadataController } from "../../src/metadata/controller.js";
import type { MetadataImage } from "../../src/metadata/image.js";
import { type LocalMetadata, openLocalMetadata } from "../../src/metadata/local-metadata.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { SeededRandom } from "../../src/random.js";
import { registerAndUnfence, registration } from "./cluster-helpers.js";

const logger = pino({ level: "silent" });
let dir: string;
let meta: LocalMetadata;
let controller: MetadataController;
let clock: ManualClock;
/** Broker epochs by id. */
const epochs = new Map<number, bigint>();

const image = () => meta.publisher.image;

/**
 * The named invariants, checked after every step:
 * - leader-in-isr: a partition's leader is -1 or a member of its ISR;
 * - isr-in-replicas: every ISR member is a replica, none twice;
 * - isr-not-empty: the ISR is never empty;
 * - leader-is-live: a leader is registered, unfenced and not in controlled shutdown, unless it is
 *   the ISR's last member being fenced (then the leader is -1);
 * - epochs-monotonic: leader and partition epochs never go back, and the partition epoch moves
 *   whenever leader or ISR change; the leader epoch moves whenever the leader changes.
 */
function checkInvariants(next: MetadataImage, prev: MetadataImage): void {
  for (const topic of next.topicsByName.values()) {
    for (const p of topic.partitions) {
      const where = `${topic.name}-${p.partitionId}`;
      expect(p.isr.length, `isr-not-empty ${where}`).toBeGreaterThan(0);
      expect(new Set(p.isr).size, `isr-in-replicas ${where}`).toBe(p.isr.length);
      for (const r of p.isr) expect(p.replicas, `isr-in-replicas ${where}`).toContain(r);
      if (p.leader !== -1) {
        expect(p.isr, `leader-in-isr ${where}`).toContain(p.leader);
        const b = next.brokers.get(p.leader);
        expect(b !== undefined && !b.fenced && !b.inControlledShutdown, `leader-is-live ${where}`).toBe(true);
      }
      const old = prev.topicsById.get(topic.topicId)?.partitions[p.partitionId];
      if (old === undefined) continue;
      expect(p.leaderEpoch, `epochs-monotonic ${where}`).toBeGreaterThanOrEqual(old.leaderEpoch);
      expect(p.partitionEpoch, `epochs-monotonic ${where}`).toBeGreaterThanOrEqual(old.partitionEpoch);
      const changed = p.leader !== old.leader || p.isr.join() !== old.isr.join();
      if (changed) expect(p.partitionEpoch, `epochs-monotonic ${where}`).toBeGreaterThan(old.partitionEpoch);
      if (p.leader !== old.leader)
        expect(p.leaderEpoch, `epochs-monotonic ${where}`).toBeGreaterThan(old.leaderEpoch);
    }
  }
}

async function open(overrides: Record<string, string> = {}): Promise<void> {
  const config = BrokerConfig.create({ "log.dirs": dir, ...overrides });
  meta = await openLocalMetadata({
    dir,
    logger,
    nodeId: 1,
    config: () => config,
    clock,
    random: new SeededRandom(7),
  });
  controller = meta.controller;
  meta.publisher.onPublish((next, prev) => checkInvariants(next, prev));
}

async function register(brokerId: number, rack: string | null = null): Promise<void> {
  epochs.set(brokerId, await registerAndUnfence(controller, brokerId, () => image().offset, { rack }));
}

function heartbeat(brokerId: number, flags: { wantShutDown?: boolean; wantFence?: boolean } = {}) {
  return controller.brokerHeartbeat({
    brokerId,
    brokerEpoch: epochs.get(brokerId)!,
    currentMetadataOffset: BigInt(image().offset),
    wantFence: flags.wantFence ?? false,
    wantShutDown: flags.wantShutDown ?? false,
  });
}

const partition = (topic: string, p: number) => image().topicsByName.get(topic)!.partitions[p]!;

async function createTopic(name: string, numPartitions: number, replicationFactor: number, configs = []) {
  const [r] = await controller.createTopics(
    [{ name, numPartitions, replicationFactor, assignments: [], configs }],
    false,
  );
  return r!;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "krill-cluster-"));
  clock = new ManualClock(1_000_000);
  epochs.clear();
});

afterEach(async () => {
  await meta.log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("broker registration and heartbeats", () => {
  it("registers fenced with the record's offset as epoch, and unfences once caught up", async () => {
    await open();
    const reply = await controller.registerBroker(registration(1));
    expect(reply.errorCode).toBe(ErrorCode.NONE);
    // The registration is the batch's last record: its offset is the epoch.
    const epoch = BigInt(image().offset);
    expect(reply.brokerEpoch).toBe(epoch);
    expect(image().brokers.get(1)).toMatchObject({ fenced: true, brokerEpoch: epoch });
    epochs.set(1, reply.brokerEpoch);
    const behind = await controller.brokerHeartbeat({
      brokerId: 1,
      brokerEpoch: epoch,
      currentMetadataOffset: 0n,
      wantFence: false,
      wantShutDown: false,
    });
    expect(behind).toMatchObject({ errorCode: 0, isCaughtUp: false, isFenced: true, shouldShutDown: false });
    expect(await heartbeat(1)).toMatchObject({ isCaughtUp: true, isFenced: false });
    expect(image().brokers.get(1)?.fenced).toBe(false);

    // The same incarnation again amends the record: same epoch, still unfenced.
    const again = await controller.registerBroker(registration(1, { rack: "r1" }));
    expect(again.brokerEpoch).toBe(epoch);
    expect(image().brokers.get(1)).toMatchObject({ fenced: false, rack: "r1", brokerEpoch: epoch });

    const stale = await controller.brokerHeartbeat({
      brokerId: 1,
      brokerEpoch: 0n,
      currentMetadataOffset: 5n,
      wantFence: false,
      wantShutDown: false,
    });
    expect(stale).toMatchObject({
      errorCode: ErrorCode.STALE_BROKER_EPOCH,
      errorMessage: `Expected broker epoch ${epoch}, but got broker epoch 0`,
    });
    const unknown = await controller.brokerHeartbeat({
      brokerId: 9,
      brokerEpoch: 1n,
      currentMetadataOffset: 5n,
      wantFence: false,
      wantShutDown: false,
    });
    expect(unknown.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it("refuses another cluster's broker and unsupported feature levels", async () => {
    const config = BrokerConfig.create({ "log.dirs": dir });
    meta = await openLocalMetadata({ dir, logger, nodeId: 1, config: () => config, clock, clusterId: "C1" });
    controller = meta.controller;
    const other = await controller.registerBroker(registration(1, { clusterId: "C2" }));
    expect(other).toMatchObject({
      errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID,
      errorMessage: "Expected cluster ID C1, but got cluster ID C2",
    });
    const old = await controller.registerBroker(
      registration(1, {
        clusterId: "C1",
        features: [{ name: "metadata.version", minSupportedVersion: 1, maxSupportedVersion: 5 }],
      }),
    );
    // A fresh cluster finalizes the broker's highest level; a later one outside its range fails.
    expect(old.errorCode).toBe(ErrorCode.NONE);
    const newer = await controller.registerBroker(
      registration(2, {
        clusterId: "C1",
        features: [{ name: "metadata.version", minSupportedVersion: 7, maxSupportedVersion: 25 }],
      }),
    );
    expect(newer).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION });
    expect(newer.errorMessage).toContain("does not support finalized version 5 of metadata.version");
  });

  it("fences a broker whose session times out; leadership moves to the next live ISR member", async () => {
    await open();
    for (const id of [1, 2, 3]) await register(id);
    const t = await createTopic("t", 6, 3);
    expect(t.errorCode).toBe(0);
    const before = image().topicsByName.get("t")!.partitions;
    // Brokers 2 and 3 keep heartbeating; broker 1 goes silent.
    for (let i = 0; i < 4; i++) {
      clock.advance(2_000);
      await heartbeat(2);
      await heartbeat(3);
      expect(await controller.fenceStaleBrokers()).toEqual([]);
    }
    clock.advance(2_000);
    await heartbeat(2);
    await heartbeat(3);
    expect(await controller.fenceStaleBrokers()).toEqual([1]);
    expect(image().brokers.get(1)?.fenced).toBe(true);
    const after = image().topicsByName.get("t")!.partitions;
    for (let p = 0; p < 6; p++) {
      const b = before[p]!;
      const a = after[p]!;
      expect(a.isr).toEqual(b.isr.filter((r) => r !== 1));
      if (b.leader === 1) {
        // The next ISR member in replica order.
        expect(a.leader).toBe(b.replicas.find((r) => r !== 1));
        expect(a.leaderEpoch).toBe(b.leaderEpoch + 1);
      } else {
        expect(a.leader).toBe(b.leader);
        // An ISR shrink alone keeps the leader epoch (MV 3.6+).
        expect(a.leaderEpoch).toBe(b.leaderEpoch);
      }
      expect(a.partitionEpoch).toBe(b.partitionEpoch + 1);
    }
    // Metadata clients no longer see broker 1; its heartbeat is answered fenced.
    expect(await heartbeat(1, { wantFence: true })).toMatchObject({ isFenced: true });
  });

  it("fences at once a broker whose heartbeat connection closes, unless it heartbeat on another since", async () => {
    await open();
    for (const id of [1, 2, 3]) await register(id);
    expect((await createTopic("t", 3, 3)).errorCode).toBe(0);
    const connection = () => {
      let close!: () => void;
      const closed = new Promise<void>((resolve) => {
        close = resolve;
      });
      return { closed, close };
    };
    const viaNetwork = (brokerId: number, c: { closed: Promise<void> }) =>
      controller.brokerHeartbeat({
        brokerId,
        brokerEpoch: epochs.get(brokerId)!,
        currentMetadataOffset: BigInt(image().offset),
        wantFence: false,
        wantShutDown: false,
        connection: c,
      });
    const fencedAfterClose = async (brokerId: number) => {
      // The fencing runs on the controller's queue; a heartbeat of another broker waits behind it.
      await new Promise((resolve) => setImmediate(resolve));
      await heartbeat(brokerId === 3 ? 2 : 3);
      return image().brokers.get(brokerId)!.fenced;
    };
    // Broker 2 moved to a new connection before the old one's close was seen: still live.
    const a = connection();
    const b = connection();
    await viaNetwork(2, a);
    await viaNetwork(2, b);
    a.close();
    expect(await fencedAfterClose(2)).toBe(false);
    // Broker 1's only connection closes (its process was killed): fenced with no time passing,
    // and its leaderships moved.
    const c = connection();
    await viaNetwork(1, c);
    await viaNetwork(1, c);
    c.close();
    expect(await fencedAfterClose(1)).toBe(true);
    for (const p of image().topicsByName.get("t")!.partitions) {
      expect(p.leader).not.toBe(1);
      expect(p.isr).not.toContain(1);
    }
    // It comes back on a new connection: unfenced at its next heartbeat (it is caught up).
    const d = connection();
    expect(await viaNetwork(1, d)).toMatchObject({ errorCode: ErrorCode.NONE, isFenced: false });
    expect(image().brokers.get(1)!.fenced).toBe(false);
  });

  it("a newly active controller fences at once the broker of a node the quorum found gone, not a live one", async () => {
    await open();
    for (const id of [1, 2, 3]) await register(id);
    expect((await createTopic("t", 3, 3)).errorCode).toBe(0);
    // A second controller over the same log, as the next quorum leader's: inactive until told.
    let active = false;
    const unreachable = new Set<number>([3]);
    const next = new MetadataController({
      log: meta.log,
      image,
      config: () => BrokerConfig.create({ "log.dirs": dir }),
      logger,
      clock,
      random: new SeededRandom(8),
      isActive: () => active,
      unreachableQuorumPeers: () => unreachable,
    });
    const fencedNow = async (brokerId: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      await next.fenceStaleBrokers(); // waits behind any fencing already queued
      return image().brokers.get(brokerId)!.fenced;
    };
    // Not active: nothing is judged.
    next.quorumPeerUnreachable(2);
    expect(await next.fenceStaleBrokers()).toEqual([]);
    // Activation: node 3 (gone, as its controller listener refused the new leader) is fenced with
    // no time passing, its leaderships moved; 1 and 2 keep the first-contact window.
    active = true;
    expect(await next.fenceStaleBrokers()).toEqual([3]);
    for (const p of image().topicsByName.get("t")!.partitions) {
      expect(p.leader).not.toBe(3);
      expect(p.isr).not.toContain(3);
    }
    expect(image().brokers.get(1)!.fenced).toBe(false);
    expect(image().brokers.get(2)!.fenced).toBe(false);
    // Broker 1 makes first contact; a later report about node 1 does not fence it (its own
    // heartbeat connection is what is watched then), one about node 2 (not heard from) does.
    await next.brokerHeartbeat({
      brokerId: 1,
      brokerEpoch: epochs.get(1)!,
      currentMetadataOffset: BigInt(image().offset),
      wantFence: false,
      wantShutDown: false,
    });
    next.quorumPeerUnreachable(1);
    expect(await fencedNow(1)).toBe(false);
    next.quorumPeerUnreachable(2);
    expect(await fencedNow(2)).toBe(true);
    expect(image().brokers.get(1)!.fenced).toBe(false);
  });

  it("keeps the last ISR member with no leader, and elects it again when it is unfenced", async () => {
    await open();
    for (const id of [1, 2]) await register(id);
    await createTopic("t", 2, 2);
    clock.advance(10_000);
    await heartbeat(2);
    expect(await controller.fenceStaleBrokers()).toEqual([1]);
    clock.advance(10_000);
    expect(await controller.fenceStaleBrokers()).toEqual([2]);
    for (const p of [0, 1]) {
      expect(partition("t", p).leader).toBe(-1);
      expect(partition("t", p).isr).toEqual([2]);
    }
    // Broker 2 heartbeats again: caught up, unfenced, and leads what it was the last ISR of.
    expect(await heartbeat(2)).toMatchObject({ isFenced: false });
    for (const p of [0, 1]) expect(partition("t", p)).toMatchObject({ leader: 2, isr: [2] });
  });

  it("a new incarnation replaces the old one: its leaderships go at once, the new one starts fenced", async () => {
    await open();
    for (const id of [1, 2, 3]) await register(id);
    await createTopic("t", 3, 3);
    const led = [0, 1, 2].filter((p) => partition("t", p).leader === 2);
    expect(led.length).toBeGreaterThan(0);
    const reply = await controller.registerBroker(
      registration(2, { incarnationId: "bmV3LWluY2FybmF0aW9uAQ" }),
    );
    expect(reply.errorCode).toBe(0);
    expect(reply.brokerEpoch).toBeGreaterThan(epochs.get(2)!);
    expect(image().brokers.get(2)).toMatchObject({ fenced: true, brokerEpoch: reply.brokerEpoch });
    for (const p of [0, 1, 2]) {
      expect(partition("t", p).isr).not.toContain(2);
      expect(partition("t", p).leader).not.toBe(2);
    }
    // The old epoch is stale now.
    expect((await heartbeat(2)).errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it("controlled shutdown moves leaderships away before the broker may stop", async () => {
    await open();
    for (const id of [1, 2, 3]) await register(id);
    await createTopic("t", 3, 3);
    const first = await heartbeat(1, { wantShutDown: true });
    expect(first).toMatchObject({ isFenced: false, inControlledShutdown: true, shouldShutDown: false });
    expect(image().brokers.get(1)?.inControlledShutdown).toBe(true);
    for (const p of [0, 1, 2]) {
      expect(partition("t", p).leader).not.toBe(1);
      expect(partition("t", p).isr).not.toContain(1);
    }
    // Not yet: brokers 2 and 3 have not reported replaying the moves.
    expect((await heartbeat(1, { wantShutDown: true })).shouldShutDown).toBe(false);
    await heartbeat(2);
    await heartbeat(3);
    const last = await heartbeat(1, { wantShutDown: true });
    expect(last).toMatchObject({ shouldShutDown: true, isFenced: true });
    expect(image().brokers.get(1)?.fenced).toBe(true);
    // A fenced broker is no placement target: RF 3 still counts it (registered), but new topics
    // lead on live brokers only.
    const r = await createTopic("u", 4, 2);
    expect(r.errorCode).toBe(0);
    for (let p = 0; p < 4; p++) expect(partition("u", p).isr).not.toContain(1);
  });

  it("a broker without leaderships shuts down at once", async () => {
    await open();
    for (const id of [1, 2]) await register(id);
    expect(await heartbeat(2, { wantShutDown: true })).toMatchObject({
      shouldShutDown: true,
      isFenced: true,
    });
  });
});

describe("replica placement", () => {
  it("spreads leaders and replicas evenly, and across racks", async () => {
    await open();
    const racks = ["a", "a", "b", "b", "c", "c"];
    for (let id = 1; id <= 6; id++) await register(id, racks[id - 1]!);
    const r = await createTopic("t", 12, 3);
    expect(r).toMatchObject({ errorCode: 0, numPartitions: 12, replicationFactor: 3 });
    const leaders = new Map<number, number>();
    const replicas = new Map<number, number>();
    for (const p of image().topicsByName.get("t")!.partitions) {
      leaders.set(p.leader, (leaders.get(p.leader) ?? 0) + 1);
      for (const b of p.replicas) replicas.set(b, (replicas.get(b) ?? 0) + 1);
      expect(new Set(p.replicas.map((b) => racks[b - 1])).size).toBe(3);
      expect(p.leader).toBe(p.replicas[0]);
      expect(p.isr).toEqual(p.replicas);
    }
    expect([...leaders.values()]).toEqual([2, 2, 2, 2, 2, 2]);
    expect([...replicas.values()]).toEqual([6, 6, 6, 6, 6, 6]);
  });

  it("refuses replication factors the cluster cannot reach, with Kafka's messages", async () => {
    await open({ "default.replication.factor": "2" });
    await register(1);
    expect(await createTopic("rf3", 1, 3)).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage:
        "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 1 broker(s) are registered.",
    });
    expect((await createTopic("default", 1, -1)).errorCode).toBe(ErrorCode.INVALID_REPLICATION_FACTOR);
    await register(2);
    expect(await createTopic("default", 2, -1)).toMatchObject({ errorCode: 0, replicationFactor: 2 });
    const [manual] = await controller.createTopics(
      [
        {
          name: "manual",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [2, 7] }],
          configs: [],
        },
      ],
      false,
    );
    expect(manual).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: "The manual partition assignment includes broker 7, but no such broker is registered.",
    });
    const [added] = await controller.createPartitions(
      [{ name: "default", count: 4, assignments: null }],
      false,
    );
    expect(added?.errorCode).toBe(0);
    for (const p of image().topicsByName.get("default")!.partitions) expect(p.replicas).toHaveLength(2);
  });
});

describe("AlterPartition and elections", () => {
  async function threeBrokersOneTopic(configs: { name: string; value: string }[] = []) {
    for (const id of [1, 2, 3]) await register(id);
    const [r] = await controller.createTopics(
      [
        {
          name: "t",
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2, 3] }],
          configs,
        },
      ],
      false,
    );
    expect(r?.errorCode).toBe(0);
    return image().topicsByName.get("t")!.topicId;
  }

  const alter = (
    topicId: string,
    fields: {
      brokerId?: number;
      leaderEpoch?: number;
      partitionEpoch?: number;
      isr: number[];
      recovery?: number;
    },
  ) => {
    const p = partition("t", 0);
    const brokerId = fields.brokerId ?? p.leader;
    return controller.alterPartition({
      brokerId,
      brokerEpoch: epochs.get(brokerId)!,
      topics: [
        {
          topicId,
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: fields.leaderEpoch ?? p.leaderEpoch,
              partitionEpoch: fields.partitionEpoch ?? p.partitionEpoch,
              newIsr: [],
              newIsrWithEpochs: fields.isr.map((b) => ({ brokerId: b, brokerEpoch: epochs.get(b) ?? -1n })),
              leaderRecoveryState: fields.recovery ?? 0,
            },
          ],
        },
      ],
    });
  };

  it("the leader shrinks and expands the ISR; stale epochs and ineligible replicas are refused", async () => {
    await open();
    const topicId = await threeBrokersOneTopic();
    const shrink = await alter(topicId, { isr: [1, 2] });
    expect(shrink.topics[0]?.partitions[0]).toMatchObject({
      errorCode: 0,
      leaderId: 1,
      leaderEpoch: 0,
      partitionEpoch: 1,
      isr: [1, 2],
    });
    expect(partition("t", 0)).toMatchObject({ isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 });
    const code = async (fields: Parameters<typeof alter>[1]) =>
      (await alter(topicId, fields)).topics[0]?.partitions[0]?.errorCode;
    expect(await code({ isr: [1, 2, 3], partitionEpoch: 0 })).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(await code({ isr: [1, 2, 3], partitionEpoch: 5 })).toBe(ErrorCode.NOT_CONTROLLER);
    expect(await code({ isr: [1, 2, 3], brokerId: 2 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code({ isr: [2, 3] })).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code({ isr: [1, 4] })).toBe(ErrorCode.INVALID_REQUEST);
    const staleBroker = await controller.alterPartition({ brokerId: 1, brokerEpoch: 0n, topics: [] });
    expect(staleBroker.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
    // Broker 3 is fenced: it may not rejoin the ISR.
    clock.advance(10_000);
    await heartbeat(1);
    await heartbeat(2);
    expect(await controller.fenceStaleBrokers()).toEqual([3]);
    expect(await code({ isr: [1, 2, 3] })).toBe(ErrorCode.INELIGIBLE_REPLICA);
    // Leadership moves to 2 when 1 is fenced; 1's AlterPartition at the old epoch is then fenced.
    const oldEpoch = partition("t", 0).leaderEpoch;
    clock.advance(10_000);
    await heartbeat(2);
    expect(await controller.fenceStaleBrokers()).toEqual([1]);
    expect(partition("t", 0)).toMatchObject({ leader: 2, isr: [2], leaderEpoch: oldEpoch + 1 });
    expect(await code({ isr: [1, 2], brokerId: 1, leaderEpoch: oldEpoch })).toBe(
      ErrorCode.FENCED_LEADER_EPOCH,
    );
    const unknown = await controller.alterPartition({
      brokerId: 2,
      brokerEpoch: epochs.get(2)!,
      topics: [
        {
          topicId: "AAAAAAAAAAAAAAAAAAAAAQ",
          partitions: [
            {
              partitionIndex: 0,
              leaderEpoch: 0,
              partitionEpoch: 0,
              newIsr: [],
              newIsrWithEpochs: [],
              leaderRecoveryState: 0,
            },
          ],
        },
      ],
    });
    expect(unknown.topics[0]?.partitions[0]?.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it("preferred election brings leadership back to the first replica once it is in sync", async () => {
    await open();
    const topicId = await threeBrokersOneTopic();
    expect(await controller.electLeaders(0, [{ topic: "t", partitions: [0] }])).toMatchObject({
      results: [{ topic: "t", partitions: [{ partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED }] }],
    });
    // Broker 1 goes through a controlled shutdown and comes back.
    await heartbeat(1, { wantShutDown: true });
    expect(partition("t", 0).leader).toBe(2);
    const reply = await controller.registerBroker(
      registration(1, { incarnationId: "c2Vjb25kLWluY2FybmF0aQ" }),
    );
    epochs.set(1, reply.brokerEpoch);
    await heartbeat(1);
    expect(image().brokers.get(1)?.fenced).toBe(false);
    // Not in the ISR yet: the preferred replica is not available.
    expect(
      (await controller.electLeaders(0, [{ topic: "t", partitions: [0] }])).results[0]?.partitions[0]
        ?.errorCode,
    ).toBe(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE);
    // The leader (2) lets it back in; then the election moves leadership to 1.
    expect((await alter(topicId, { isr: [2, 3, 1] })).topics[0]?.partitions[0]?.errorCode).toBe(0);
    const all = await controller.electLeaders(0, null);
    expect(all.results).toEqual([
      { topic: "t", partitions: [{ partitionId: 0, errorCode: 0, errorMessage: null }] },
    ]);
    expect(partition("t", 0).leader).toBe(1);
    // auto.leader.rebalance does the same on its own.
    await heartbeat(1, { wantShutDown: true });
    expect(partition("t", 0).leader).toBe(2);
    const back = await controller.registerBroker(
      registration(1, { incarnationId: "dGhpcmQtaW5jYXJuYXRpbw" }),
    );
    epochs.set(1, back.brokerEpoch);
    await heartbeat(1);
    await alter(topicId, { isr: [2, 3, 1] });
    expect(await controller.runElections()).toBe(1);
    expect(partition("t", 0).leader).toBe(1);
  });

  it("unclean election: off by default, on per topic a live out-of-sync replica leads RECOVERING", async () => {
    await open();
    const topicId = await threeBrokersOneTopic([{ name: "unclean.leader.election.enable", value: "false" }]);
    // ISR down to broker 1, then broker 1 is fenced: no leader.
    await alter(topicId, { isr: [1] });
    clock.advance(10_000);
    await heartbeat(2);
    await heartbeat(3);
    expect(await controller.fenceStaleBrokers()).toEqual([1]);
    expect(partition("t", 0)).toMatchObject({ leader: -1, isr: [1] });
    expect(await controller.electLeaders(1, [{ topic: "t", partitions: [0] }])).toMatchObject({
      results: [{ partitions: [{ errorCode: 0 }] }],
    });
    // An explicit unclean election (kafka-leader-election --election-type unclean) is allowed.
    expect(partition("t", 0)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1 });
    // The recovered leader reports RECOVERED through AlterPartition.
    const done = await alter(topicId, { isr: [2], recovery: 0 });
    expect(done.topics[0]?.partitions[0]).toMatchObject({ errorCode: 0, leaderRecoveryState: 0 });
    expect((await alter(topicId, { isr: [2], recovery: 1 })).topics[0]?.partitions[0]?.errorCode).toBe(
      ErrorCode.INVALID_REQUEST,
    );
  });

  it("with unclean.leader.election.enable the fencing itself elects an out-of-sync replica", async () => {
    await open({ "unclean.leader.election.enable": "true" });
    const topicId = await threeBrokersOneTopic();
    await alter(topicId, { isr: [1] });
    clock.advance(10_000);
    await heartbeat(2);
    await heartbeat(3);
    expect(await controller.fenceStaleBrokers()).toEqual([1]);
    expect(partition("t", 0)).toMatchObject({ leader: 2, isr: [2], leaderRecoveryState: 1 });
  });
});

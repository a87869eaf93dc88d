/**
 * Three quorum members in one process, each the production stack (FileRaftLog in Kafka's layout,
 * the quorum-state file, RaftClient on real timers, RaftMetadataLog, publisher, controller), joined
 * by an in-memory network that can cut a node off. Timeouts are shortened so the test is quick;
 * every wait is bounded.
 */

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { NotControllerError } from "../../src/metadata/metadata-log.js";
import {
  openQuorumMetadata,
  type QuorumMetadata,
  quorumConfigOf,
} from "../../src/metadata/quorum-metadata.js";
import { formatStorage } from "../../src/metadata/storage-format.js";
import type { RaftClient } from "../../src/raft/client.js";
import type { RaftChannel } from "../../src/raft/types.js";
import { SeededRandom } from "../../src/random.js";
import { registerAndUnfence } from "./cluster-helpers.js";

const logger = pino({ level: "silent" });
const CLUSTER = "W9AfU9ZKb6evapU4kcw1AQ";
const dirs: string[] = [];
const running: QuorumMetadata[] = [];

afterEach(async () => {
  for (const m of running.splice(0)) {
    m.raft.close();
    await m.log.close();
    await m.raftLog.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Delivers messages on the next turn of the event loop; a node that is down neither sends nor receives. */
class Network {
  readonly clients = new Map<number, RaftClient>();
  readonly down = new Set<number>();

  channelFor(self: number): RaftChannel {
    return {
      send: (to, correlationId, request) => {
        setImmediate(() => {
          if (this.down.has(self)) return;
          const target = this.clients.get(to);
          if (this.down.has(to) || target === undefined) {
            this.clients.get(self)?.handleSendFailure(to, correlationId);
            return;
          }
          target.handleRequest(self, correlationId, request);
        });
      },
      respond: (to, correlationId, response) => {
        setImmediate(() => {
          if (this.down.has(self) || this.down.has(to)) return;
          this.clients.get(to)?.handleResponse(self, correlationId, response);
        });
      },
    };
  }
}

function nodeConfig(base: string, id: number): BrokerConfig {
  return BrokerConfig.create({
    "node.id": id,
    "process.roles": id <= 3 ? "broker,controller" : "broker",
    listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0`,
    "controller.listener.names": "CONTROLLER",
    "controller.quorum.voters": "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3",
    "controller.quorum.election.timeout.ms": 150,
    "controller.quorum.fetch.timeout.ms": 300,
    "controller.quorum.election.backoff.max.ms": 150,
    "controller.quorum.request.timeout.ms": 300,
    "controller.quorum.append.linger.ms": 5,
    "log.dirs": path.join(base, `node-${id}`),
  });
}

function formatted(base: string, id: number): BrokerConfig {
  const config = nodeConfig(base, id);
  formatStorage({
    config,
    clusterId: CLUSTER,
    standalone: false,
    initialControllers: undefined,
    noInitialControllers: false,
    releaseVersion: undefined,
    ignoreFormatted: false,
    random: new SeededRandom(id),
    now: new Date(),
  });
  return config;
}

function open(
  net: Network,
  config: BrokerConfig,
  roles = { broker: true, controller: true },
): QuorumMetadata {
  const id = config.nodeId;
  const m = openQuorumMetadata({
    dir: config.metadataLogDir,
    logger,
    nodeId: id,
    clusterId: CLUSTER,
    quorum: quorumConfigOf(config)!,
    roles,
    config: () => config,
    channel: net.channelFor(id),
    random: new SeededRandom(100 + id),
  });
  net.clients.set(id, m.raft);
  running.push(m);
  m.start();
  return m;
}

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Brokers as the active controller registers them (each node's own registration needs forwarding). */
async function registerBrokers(active: QuorumMetadata): Promise<void> {
  for (const brokerId of [1, 2, 3]) {
    await registerAndUnfence(active.channel, brokerId, () => active.publisher.image.offset, {
      clusterId: CLUSTER,
      incarnationId: `AAAAAAAAAAAAAAAAAAAA${"BCD"[brokerId - 1]}A`,
    });
  }
}

const topic = (name: string) => ({
  name,
  numPartitions: 2,
  replicationFactor: 1,
  assignments: [],
  configs: [],
});

describe("a three-voter metadata quorum in one process", () => {
  it("elects an active controller, replicates its writes to every publisher, survives the leader's loss and takes the node back", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-quorum-"));
    dirs.push(base);
    const net = new Network();
    const configs = [1, 2, 3].map((id) => formatted(base, id));
    const nodes = new Map(configs.map((c) => [c.nodeId, open(net, c)]));

    const active = () => [...nodes.values()].find((m) => m.log.isActive);
    const first = await until("an active controller", active);
    const leaderId = first.raft.nodeId;
    // Only the active controller writes; the others say NOT_CONTROLLER.
    const follower = [...nodes.values()].find((m) => m !== first)!;
    await expect(follower.channel.createTopics([topic("nope")], false)).rejects.toBeInstanceOf(
      NotControllerError,
    );
    await registerBrokers(first);
    const created = await first.channel.createTopics([topic("orders")], false);
    expect(created[0]?.errorCode).toBe(0);
    // A broker-only node (not a voter) follows the log as an observer.
    const observer = open(net, formatted(base, 4), { broker: true, controller: false });
    expect(observer.controller).toBeUndefined();
    await until("the observer to publish the topic", () =>
      observer.publisher.image.topicsByName.has("orders"),
    );
    expect(observer.raft.isVoter).toBe(false);
    expect(observer.raft.state.name).toBe("follower");
    await expect(observer.channel.createTopics([topic("nope")], false)).rejects.toBeInstanceOf(
      NotControllerError,
    );
    // The bootstrap snapshot's metadata.version reached every image, and so did the topic.
    await until("every node to publish the topic", () =>
      [...nodes.values()].every((m) => m.publisher.image.topicsByName.has("orders")),
    );
    for (const m of nodes.values())
      expect(m.publisher.image.features.get("metadata.version")).toBeGreaterThan(0);

    // The leader's process dies: no resignation, no messages.
    net.down.add(leaderId);
    first.raft.close();
    const survivors = [...nodes.values()].filter((m) => m !== first);
    const startMs = Date.now();
    const second = await until("a new active controller", () => survivors.find((m) => m.log.isActive));
    const failoverMs = Date.now() - startMs;
    expect(second.raft.epoch).toBeGreaterThan(first.raft.epoch);
    expect(second.publisher.image.topicsByName.has("orders")).toBe(true);
    expect((await second.channel.createTopics([topic("payments")], false))[0]?.errorCode).toBe(0);
    logger.info({ failoverMs }, "failover");

    // The old leader restarts from its files and follows the new one.
    await first.log.close();
    await first.raftLog.close();
    running.splice(running.indexOf(first), 1);
    net.down.delete(leaderId);
    const back = open(net, configs.find((c) => c.nodeId === leaderId)!);
    nodes.set(leaderId, back);
    await until("the restarted node to catch up", () => back.publisher.image.topicsByName.has("payments"));
    expect(back.publisher.image.topicsByName.has("orders")).toBe(true);
    expect(back.raft.leaderId).toBe(second.raft.nodeId);
    expect(back.log.isActive).toBe(false);
    expect(readdirSync(path.join(base, `node-${leaderId}`, "__cluster_metadata-0"))).toContain(
      "quorum-state",
    );
  }, 30_000);

  it("a follower that fell behind the leader's snapshot loads it and publishes the same image", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-quorum-"));
    dirs.push(base);
    const net = new Network();
    const configs = [1, 2, 3].map((id) => formatted(base, id));
    const nodes = new Map(configs.map((c) => [c.nodeId, open(net, c)]));
    const leader = await until("an active controller", () => [...nodes.values()].find((m) => m.log.isActive));
    await registerBrokers(leader);
    const lagging = [...nodes.values()].find((m) => m !== leader)!;
    const laggingId = lagging.raft.nodeId;
    net.down.add(laggingId);
    lagging.raft.close();
    await lagging.log.close();
    await lagging.raftLog.close();
    running.splice(running.indexOf(lagging), 1);
    for (let i = 0; i < 5; i++) {
      expect((await leader.channel.createTopics([topic(`t${i}`)], false))[0]?.errorCode).toBe(0);
    }
    // Snapshots on the two running nodes at what they have published.
    for (const m of running) {
      await until("a snapshot", () =>
        m.log.createSnapshot(m.publisher.image.toRecords(), m.publisher.image.offset),
      );
    }
    expect(leader.raftLog.startOffset()).toBeGreaterThan(0);
    net.down.delete(laggingId);
    const back = open(net, configs.find((c) => c.nodeId === laggingId)!);
    await until("the lagging node to load the snapshot", () => back.publisher.image.topicsByName.has("t4"));
    expect([...back.publisher.image.topicsByName.keys()].sort()).toEqual(
      [...leader.publisher.image.topicsByName.keys()].sort(),
    );
    expect(back.raftLog.latestSnapshot()?.id.offset).toBe(leader.raftLog.latestSnapshot()?.id.offset);
  }, 30_000);
});

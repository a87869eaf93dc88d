/**
 * Three brokers in one process forming a KRaft quorum (controller.quorum.voters), the whole broker
 * start-up path in quorum mode: formatting from cluster.id, Kafka's files, the controller active
 * only on the leader, registration through the active controller, failover, restart. The network
 * between them is in memory (the wire one is raft-net's), and so is the forwarding of controller
 * writes to the active controller (forwarding's RemoteControllerChannel replaces it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import type { ControllerChannel } from "../../src/metadata/controller-channel.js";
import { NotControllerError } from "../../src/metadata/metadata-log.js";
import type { QuorumMetadata } from "../../src/metadata/quorum-metadata.js";
import type { RaftChannel } from "../../src/raft/types.js";

const CLUSTER = "W9AfU9ZKb6evapU4kcw1AQ";
const dirs: string[] = [];
const handles: BrokerHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The members by node id, with a network between them that can cut one off. */
class Cluster {
  readonly members = new Map<number, QuorumMetadata>();
  readonly down = new Set<number>();

  channel(self: number): RaftChannel {
    return {
      send: (to, correlationId, request) =>
        setImmediate(() => {
          if (this.down.has(self)) return;
          const target = this.members.get(to);
          if (this.down.has(to) || target === undefined)
            this.members.get(self)?.raft.handleSendFailure(to, correlationId);
          else target.raft.handleRequest(self, correlationId, request);
        }),
      respond: (to, correlationId, response) =>
        setImmediate(() => {
          if (this.down.has(self) || this.down.has(to)) return;
          this.members.get(to)?.raft.handleResponse(self, correlationId, response);
        }),
    };
  }

  /** Writes from `self` go to whichever reachable member is the active controller. */
  remote(self: number): ControllerChannel {
    const active = (): ControllerChannel => {
      // The remote channel takes every call, this node's own while it is active included.
      const m = [...this.members.entries()].find(([id, m]) => !this.down.has(id) && m.log.isActive);
      if (m === undefined || this.down.has(self) || m[1].controller === undefined)
        throw new NotControllerError("no active controller reachable");
      return m[1].controller;
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
      brokerHeartbeat: call("brokerHeartbeat"),
      alterPartition: call("alterPartition"),
      electLeaders: call("electLeaders"),
    } as ControllerChannel;
  }

  start(base: string, id: number): Promise<BrokerHandle> {
    return startBroker(
      {
        "log.dirs": path.join(base, `node-${id}`),
        "node.id": id,
        "cluster.id": CLUSTER,
        listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
        "controller.listener.names": "CONTROLLER",
        "controller.quorum.voters": "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3",
        "controller.quorum.election.timeout.ms": 200,
        "controller.quorum.fetch.timeout.ms": 400,
        "controller.quorum.request.timeout.ms": 400,
      },
      {
        raftChannel: (nodeId) => this.channel(nodeId),
        remoteController: (member) => {
          this.members.set(id, member);
          return this.remote(id);
        },
      },
    ).then((h) => {
      handles.push(h);
      return h;
    });
  }
}

async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const topic = (name: string) => ({
  name,
  numPartitions: 3,
  replicationFactor: 1,
  assignments: [],
  configs: [],
});

describe("brokers in a three-voter quorum", () => {
  it("elect a controller, register, create topics through any node, fail over, and take the old leader back", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-broker-quorum-"));
    dirs.push(base);
    const cluster = new Cluster();
    const brokers = new Map(
      (await Promise.all([1, 2, 3].map((id) => cluster.start(base, id)))).map((h) => [
        h.broker.context.nodeId,
        h,
      ]),
    );
    const ctx = (id: number) => brokers.get(id)!.broker.context;
    await until("every broker registered on every node", () =>
      [1, 2, 3].every((id) => ctx(id).image().brokers.size === 3),
    );
    const leaderId = [1, 2, 3].find((id) => ctx(id).quorum!.log.isActive)!;
    expect([1, 2, 3].filter((id) => ctx(id).quorum!.log.isActive)).toEqual([leaderId]);
    const follower = [1, 2, 3].find((id) => id !== leaderId)!;
    // A write through a follower reaches the active controller.
    expect((await ctx(follower).controller.createTopics([topic("before")], false))[0]?.errorCode).toBe(0);
    await until("the topic on every node", () =>
      [1, 2, 3].every((id) => ctx(id).image().topicsByName.has("before")),
    );

    // The leader is cut off and stops taking part; the others elect a new one.
    cluster.down.add(leaderId);
    cluster.members.get(leaderId)!.raft.close();
    const survivors = [1, 2, 3].filter((id) => id !== leaderId);
    const newLeader = await until("a new active controller", () =>
      survivors.find((id) => ctx(id).quorum!.log.isActive),
    );
    const failoverEpoch = ctx(newLeader).quorum!.raft.epoch;
    expect(failoverEpoch).toBeGreaterThan(ctx(leaderId).quorum!.raft.epoch);
    const other = survivors.find((id) => id !== newLeader)!;
    expect((await ctx(other).controller.createTopics([topic("after")], false))[0]?.errorCode).toBe(0);
    for (const id of survivors) {
      await until("both topics on the survivors", () => ctx(id).image().topicsByName.has("after"));
      expect(ctx(id).image().topicsByName.has("before")).toBe(true);
    }

    // The old leader's process goes away and comes back on its files, as a follower.
    const old = brokers.get(leaderId)!;
    handles.splice(handles.indexOf(old), 1);
    await old.stop();
    cluster.members.delete(leaderId);
    cluster.down.delete(leaderId);
    const back = await cluster.start(base, leaderId);
    brokers.set(leaderId, back);
    await until("the old leader to catch up", () => ctx(leaderId).image().topicsByName.has("after"));
    // It follows whoever leads now: under load the quorum may have elected again meanwhile (the
    // old broker's controlled shutdown and the new incarnation's unfencing take a few seconds).
    const current = await until("an active controller", () =>
      [1, 2, 3].find((id) => ctx(id).quorum!.log.isActive),
    );
    await until(
      "the old leader to know the current leader",
      () => ctx(leaderId).quorum!.raft.leaderId === current,
    );
    // Never back in the epoch it led: it rejoined at the failover's epoch or a later one.
    expect(ctx(leaderId).quorum!.raft.epoch).toBeGreaterThanOrEqual(failoverEpoch);

    const partitionDir = path.join(base, `node-${leaderId}`, "__cluster_metadata-0");
    const stored = () =>
      JSON.parse(readFileSync(path.join(partitionDir, "quorum-state"), "utf8").split("\n")[0]!).leaderId;
    // The stored election is the one in memory (read again if an election moved it between reads).
    await until(
      "the stored quorum state to name the leader",
      () => stored() === ctx(leaderId).quorum!.raft.leaderId,
    );
    expect(existsSync(path.join(partitionDir, "00000000000000000000-0000000000.checkpoint"))).toBe(true);
  }, 90_000);

  it("refuse an unformatted member without cluster.id, and a controller that is not a voter", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-broker-quorum-"));
    dirs.push(base);
    const settings = {
      "log.dirs": base,
      "node.id": 1,
      listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
      "controller.listener.names": "CONTROLLER",
      "controller.quorum.voters": "1@127.0.0.1:1,2@127.0.0.1:2",
    };
    await expect(startBroker(settings)).rejects.toSatisfy(
      (err) => isKrillError(err, "CONFIG_INVALID") && /not formatted/.test(String(err)),
    );
    await expect(
      startBroker({ ...settings, "controller.quorum.voters": "2@127.0.0.1:1,3@127.0.0.1:2" }),
    ).rejects.toSatisfy(
      (err) => isKrillError(err, "CONFIG_INVALID") && /not in controller.quorum.voters/.test(String(err)),
    );
  });
});

/**
 * Three RaftClients in one process, each behind a real controller listener on 127.0.0.1 (the
 * broker's SocketServer, Dispatcher and handlers), talking through NetworkRaftChannel and
 * NodeClient: they elect a leader over real sockets, replicate proposals, and elect a new leader
 * when the old one's listener goes away. Real timers, Kafka's default quorum timeouts.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerConfig } from "../../src/config/broker-config.js";
import { MetadataImage } from "../../src/metadata/image.js";
import { DESCRIBE_QUORUM_API } from "../../src/protocol/generated/apis.js";
import { RaftClient } from "../../src/raft/client.js";
import { defaultQuorumConfig } from "../../src/raft/config.js";
import { MemoryRaftLog } from "../../src/raft/memory-log.js";
import { NetworkRaftChannel } from "../../src/raft/network-channel.js";
import { MemoryQuorumStateStore } from "../../src/raft/quorum-state.js";
import { timerRaftClock } from "../../src/raft/timer-clock.js";
import type { RaftBatch } from "../../src/raft/types.js";
import { METADATA_TOPIC } from "../../src/raft/wire.js";
import { SeededRandom } from "../../src/random.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { NodeClient } from "../../src/server/network/node-client.js";
import { SocketServer } from "../../src/server/network/socket-server.js";
import { loadHandlers } from "../../src/server/registry.js";
import type { BrokerContext } from "../../src/server/services.js";

const logger = pino({ level: process.env.RAFT_NET_DEBUG ? "debug" : "silent" });
const CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qk";

interface Node {
  id: number;
  server: SocketServer;
  port: number;
  channel?: NetworkRaftChannel;
  client?: RaftClient;
  committed: RaftBatch[];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Waits for `check` (polled every 20 ms) up to `timeoutMs`. */
async function until<T>(
  what: string,
  check: () => T | undefined | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function cluster(ids: readonly number[]): Promise<Node[]> {
  const registry = await loadHandlers();
  const config = BrokerConfig.create({
    listeners: "PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0",
    "controller.listener.names": "CONTROLLER",
    "log.dirs": "/nonexistent-unused",
  });
  const nodes: Node[] = [];
  // Bind every controller listener first: the voters' ports go into each node's quorum config.
  for (const id of ids) {
    const node: Node = { id, server: undefined as never, port: 0, committed: [] };
    const context = {
      config,
      registry,
      image: () => MetadataImage.EMPTY,
      // ApiVersions reports kraft.version from the metadata log (static voters: 0).
      kraftVersion: () => 0,
      get raftEndpoint() {
        return node.channel;
      },
    } as unknown as BrokerContext;
    node.server = new SocketServer({
      listeners: config.controllerListeners,
      limits: {
        frameBytesMax: 100 << 20,
        inFlightRequestsMax: 100,
        queuedResponseBytesMax: 100 << 20,
        idleMs: -1,
      },
      connectionsMax: () => 100,
      processor: new Dispatcher(registry, context),
      logger,
    });
    const [bound] = await node.server.start();
    node.port = bound!.port;
    cleanups.push(() => node.server.stop(0));
    nodes.push(node);
  }
  const quorum = {
    ...defaultQuorumConfig(ids),
    voters: nodes.map((n) => ({ id: n.id, host: "127.0.0.1", port: n.port })),
  };
  for (const node of nodes) {
    const channel = new NetworkRaftChannel({
      nodeId: node.id,
      voters: quorum.voters,
      listenerName: "CONTROLLER",
      requestTimeoutMs: quorum.requestTimeoutMs,
      logger,
      client: { reconnectBackoffMs: 20, reconnectBackoffMaxMs: 100 },
    });
    const client = new RaftClient({
      nodeId: node.id,
      clusterId: CLUSTER_ID,
      config: quorum,
      clock: timerRaftClock(),
      random: new SeededRandom(node.id),
      channel,
      log: new MemoryRaftLog(),
      store: new MemoryQuorumStateStore(),
      listener: {
        handleCommit: (b) => node.committed.push(b),
        handleLoadSnapshot() {},
        handleLeaderChange() {},
      },
    });
    channel.attach(client);
    node.channel = channel;
    node.client = client;
    cleanups.push(() => {
      client.close();
      channel.close();
    });
  }
  for (const node of nodes) node.client!.start();
  return nodes;
}

function leaderOf(nodes: readonly Node[]): Node | undefined {
  const leaders = nodes.filter((n) => n.client!.state.name === "leader");
  return leaders.length === 1 ? leaders[0] : undefined;
}

function dataValues(node: Node): string[] {
  return node.committed.flatMap((b) =>
    b.records.flatMap((r) => (r.type === "data" ? [r.value.toString()] : [])),
  );
}

describe("the quorum over real sockets", () => {
  it("elects a leader, replicates proposals, and re-elects when the leader's listener closes", async () => {
    const nodes = await cluster([1, 2, 3]);
    // One leader that every node follows in its epoch. On a starved machine an election can
    // time out and start again before all agree, so the wait is for agreement, not the first win.
    const first = await until(
      "a leader every node follows",
      () => {
        const leader = leaderOf(nodes);
        const agreed = nodes.every(
          (n) => n.client!.leaderId === leader?.id && n.client!.epoch === leader.client!.epoch,
        );
        return agreed ? leader : undefined;
      },
      60_000,
    );

    const values = Array.from({ length: 20 }, (_, i) => `record-${i}`);
    for (const v of values) expect(first.client!.propose([Buffer.from(v)]).ok).toBe(true);
    await until("the records committed on every node", () =>
      nodes.every((n) => dataValues(n).length === values.length),
    );
    for (const n of nodes) expect(dataValues(n)).toEqual(values);

    // DescribeQuorum through a controller listener, as kafka-metadata-quorum asks it.
    const admin = new NodeClient({
      endpoint: { host: "127.0.0.1", port: first.port },
      clientId: "test",
      logger,
    });
    cleanups.push(() => admin.close());
    const described = await admin.request(DESCRIBE_QUORUM_API, {
      topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
    });
    const p = described.topics[0]!.partitions[0]!;
    expect(p).toMatchObject({ errorCode: 0, leaderId: first.id, leaderEpoch: first.client!.epoch });
    expect(p.currentVoters.map((v) => v.replicaId).sort()).toEqual([1, 2, 3]);
    expect(Number(p.highWatermark)).toBeGreaterThanOrEqual(values.length);
    expect(described.nodes.map((n) => n.listeners[0]!.port).sort()).toEqual(nodes.map((n) => n.port).sort());

    // The leader's listener goes away (its process is gone as far as the others can tell).
    first.client!.close();
    first.channel!.close();
    await first.server.stop(0);
    const rest = nodes.filter((n) => n !== first);
    const second = await until(
      "a new leader",
      () => {
        const l = leaderOf(rest);
        return l !== undefined && l.client!.epoch > first.client!.epoch ? l : undefined;
      },
      60_000,
    );
    expect(second.id).not.toBe(first.id);
    const more = ["after-1", "after-2"];
    for (const v of more) expect(second.client!.propose([Buffer.from(v)]).ok).toBe(true);
    await until("the new records committed on the survivors", () =>
      rest.every((n) => dataValues(n).length === values.length + more.length),
    );
    for (const n of rest) expect(dataValues(n)).toEqual([...values, ...more]);
  }, 180_000);
});

describe("NetworkRaftChannel", () => {
  const describeQuorum = { api: "DescribeQuorum" } as const;

  function channel(inboundMax = 2, requestTimeoutMs = 100) {
    const c = new NetworkRaftChannel({
      nodeId: 1,
      voters: [{ id: 1, host: "127.0.0.1", port: 1 }],
      listenerName: "CONTROLLER",
      requestTimeoutMs,
      logger,
      inboundMax,
    });
    cleanups.push(() => c.close());
    return c;
  }

  it("refuses inbound requests before a core is attached, beyond its bound, and expires unanswered ones", async () => {
    const c = channel();
    await expect(c.handleInbound(-1, describeQuorum)).rejects.toMatchObject({ code: "NETWORK_EXCEPTION" });
    const seen: number[] = [];
    const failures: number[] = [];
    c.attach({
      handleRequest: (_source, correlationId) => seen.push(correlationId),
      handleResponse() {},
      handleSendFailure: (destination) => failures.push(destination),
      leaderId: -1,
      epoch: 0,
    });
    const first = c.handleInbound(-1, describeQuorum);
    const second = c.handleInbound(-1, describeQuorum);
    await expect(c.handleInbound(-1, describeQuorum)).rejects.toMatchObject({ code: "REQUEST_QUEUE_FULL" });
    const answer = {
      api: "DescribeQuorum",
      errorCode: 6,
      leaderId: -1,
      leaderEpoch: 0,
      highWatermark: -1,
      currentVoters: [],
      observers: [],
    } as const;
    c.respond(-1, seen[0]!, answer);
    await expect(first).resolves.toEqual(answer);
    await expect(second).rejects.toMatchObject({ code: "REQUEST_TIMED_OUT" });
    expect(c.inboundWaiting).toBe(0);
    // A destination with no endpoint fails as its own event, not inside send.
    c.send(9, 1, describeQuorum);
    expect(failures).toEqual([]);
    await until("the send failure", () => failures.length === 1);
    expect(failures).toEqual([9]);
  });
});

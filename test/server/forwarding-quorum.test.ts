/**
 * Admin writes through every node of a three-voter quorum, forwarded by RemoteControllerChannel
 * to the active controller's controller listener. The brokers are whole (client sockets,
 * handlers, the quorum start-up); the Raft traffic between them is in memory, and each node's
 * forwarding client reaches the active controller's controller listener in process (its
 * dispatcher on a CONTROLLER connection, the path a NodeClient's request takes once the
 * controller listener is bound). Clients send CreateTopics to each node's client port, as
 * `kafka-topics --create --bootstrap-server <node>` does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { KrillError } from "../../src/errors.js";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import type { QuorumMetadata } from "../../src/metadata/quorum-metadata.js";
import {
  type ControllerRequester,
  RemoteControllerChannel,
} from "../../src/metadata/remote-controller-channel.js";
import { type ApiDescriptor, CREATE_TOPICS_API, METADATA_API } from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import type { RaftChannel } from "../../src/raft/types.js";
import { Dispatcher } from "../../src/server/dispatcher.js";
import { body, client, request } from "./wire.js";

const CLUSTER = "W9AfU9ZKb6evapU4kcw1AQ";
const logger = pino({ level: "silent" });
const dirs: string[] = [];
const handles: BrokerHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.stop().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

class Cluster {
  readonly members = new Map<number, QuorumMetadata>();
  readonly brokers = new Map<number, BrokerHandle>();
  readonly down = new Set<number>();

  channel(self: number): RaftChannel {
    return {
      send: (to, correlationId, req) =>
        setImmediate(() => {
          if (this.down.has(self)) return;
          const target = this.members.get(to);
          if (this.down.has(to) || target === undefined)
            this.members.get(self)?.raft.handleSendFailure(to, correlationId);
          else target.raft.handleRequest(self, correlationId, req);
        }),
      respond: (to, correlationId, res) =>
        setImmediate(() => {
          if (this.down.has(self) || this.down.has(to)) return;
          this.members.get(to)?.raft.handleResponse(self, correlationId, res);
        }),
    };
  }

  /** Node `self`'s client to the controller listener of the leader its quorum member knows. */
  controllerListener(self: number): ControllerRequester {
    let correlationId = 0;
    return {
      request: async <Req, Res>(api: ApiDescriptor<Req, Res>, req: Req) => {
        const leaderId = this.members.get(self)?.raft.leaderId ?? -1;
        const leader = this.brokers.get(leaderId);
        if (leader === undefined || this.down.has(leaderId) || this.down.has(self)) {
          throw new KrillError("NETWORK_EXCEPTION", `node ${leaderId} is not reachable`);
        }
        const context = leader.broker.context;
        const version = Math.min(api.maxVersion, context.registry.get(api.apiKey)!.maxVersion);
        const frame = request(api as ApiDescriptor<Req, unknown>, version, ++correlationId, req).subarray(4);
        const connection = {
          id: self,
          listenerName: "CONTROLLER",
          remoteAddress: "127.0.0.1",
          remotePort: self,
          logger,
        };
        const outcome = await new Dispatcher(context.registry, context).process(
          frame,
          connection,
          async () => {},
          () => undefined,
        );
        if (outcome.kind !== "respond") throw new KrillError("NETWORK_EXCEPTION", "closed");
        const response = Buffer.concat(outcome.chunks).subarray(4);
        return api.decodeResponse(body(response, api as ApiDescriptor<unknown, unknown>, version), version);
      },
    };
  }

  async start(base: string, id: number): Promise<BrokerHandle> {
    const h = await startBroker(
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
          return new RemoteControllerChannel({
            client: this.controllerListener(id),
            activeController: () => {
              const leaderId = member.raft.leaderId;
              return leaderId < 0 ? null : { id: leaderId, host: "127.0.0.1", port: leaderId };
            },
            localController: () =>
              member.controller !== undefined && member.log.isActive ? member.controller : null,
            publisher: member.publisher,
            clusterId: CLUSTER,
            logger,
            retryBackoffMs: 20,
            retryBackoffMaxMs: 200,
          });
        },
      },
    );
    handles.push(h);
    this.brokers.set(id, h);
    return h;
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

/** CreateTopics v7 on a node's client port, as an admin client sends it. */
async function createTopic(h: BrokerHandle, name: string, timeoutMs = 15_000) {
  const c = await client(h.port);
  try {
    c.socket.write(
      request(CREATE_TOPICS_API, 7, 1, {
        topics: [{ name, numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
        timeoutMs,
        validateOnly: false,
      }),
    );
    return CREATE_TOPICS_API.decodeResponse(body(await c.next(), CREATE_TOPICS_API, 7), 7).topics[0]!;
  } finally {
    c.socket.destroy();
  }
}

async function metadataOf(h: BrokerHandle, name: string) {
  const c = await client(h.port);
  try {
    c.socket.write(
      request(METADATA_API, 12, 1, {
        topics: [{ name, topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      }),
    );
    return METADATA_API.decodeResponse(body(await c.next(), METADATA_API, 12), 12);
  } finally {
    c.socket.destroy();
  }
}

describe("admin writes forwarded to the active controller", () => {
  it("CreateTopics through every node, answered once the node itself shows the topic, and across a failover", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-forwarding-"));
    dirs.push(base);
    const cluster = new Cluster();
    await Promise.all([1, 2, 3].map((id) => cluster.start(base, id)));
    const node = (id: number) => cluster.brokers.get(id)!;
    await until("every broker registered on every node", () =>
      [1, 2, 3].every((id) => node(id).broker.context.image().brokers.size === 3),
    );
    const leaderId = [1, 2, 3].find((id) => node(id).broker.context.quorum!.log.isActive)!;

    for (const id of [1, 2, 3]) {
      const created = await createTopic(node(id), `via-${id}`);
      expect(created).toMatchObject({ name: `via-${id}`, errorCode: ErrorCode.NONE, numPartitions: 3 });
      // The node that took the request already has the topic: Metadata through it finds it.
      const md = await metadataOf(node(id), `via-${id}`);
      expect(md.topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, topicId: created.topicId });
      expect(md.topics[0]!.partitions).toHaveLength(3);
      // Metadata names a live broker as the controller, as Kafka in KRaft.
      expect([1, 2, 3]).toContain(md.controllerId);
    }
    const again = await createTopic(node(leaderId === 1 ? 2 : 1), "via-1");
    expect(again.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);

    // The active controller is cut off; a write through a survivor waits out the election.
    cluster.down.add(leaderId);
    cluster.members.get(leaderId)!.raft.close();
    const survivor = [1, 2, 3].find((id) => id !== leaderId)!;
    const after = await createTopic(node(survivor), "after-failover", 20_000);
    expect(after.errorCode).toBe(ErrorCode.NONE);
    const newLeader = [1, 2, 3].find((id) => id !== leaderId && node(id).broker.context.quorum!.log.isActive);
    expect(newLeader).toBeDefined();
    expect(node(survivor).broker.context.image().topicsByName.has("after-failover")).toBe(true);

    // With no quorum left (a second node down), a write answers REQUEST_TIMED_OUT in its timeout.
    cluster.down.add(newLeader!);
    cluster.members.get(newLeader!)!.raft.close();
    const last = [1, 2, 3].find((id) => id !== leaderId && id !== newLeader)!;
    const lost = await createTopic(node(last), "no-quorum", 1_000);
    expect(lost.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
  }, 120_000);
});

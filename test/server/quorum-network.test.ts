/**
 * Three brokers in one process forming a KRaft quorum over real sockets: the broker's own
 * NetworkRaftChannel to the voters' controller listeners on 127.0.0.1 (free ports), as a started
 * `krill` process runs it, and the broker's own forwarding (RemoteControllerChannel over NodeClient)
 * to the active controller's controller listener. DescribeQuorum is asked as kafka-metadata-quorum
 * asks it: through a broker listener and through a controller listener.
 *
 * A re-election may happen at any moment on a loaded machine, so nothing here assumes the leader
 * stays put: each check of who leads is retried until the answers agree with one quorum state.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
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
  // This test once stood in for forwarding with an in-memory channel that called the active node's
  // QuorumControllerChannel; since that channel hands every call to the remote one once it is set,
  // the active node's own registration went back to the stand-in, which skipped the node itself,
  // and no broker ever registered. The brokers now forward as a started `krill` does.
  it("elect, register, replicate, and answer DescribeQuorum through broker and controller listeners", async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), "krill-quorum-net-"));
    cleanups.push(() => rmSync(base, { recursive: true, force: true }));
    const ids = [1, 2, 3];
    const ports = new Map<number, number>();
    for (const id of ids) ports.set(id, await freePort());
    const voters = ids.map((id) => `${id}@127.0.0.1:${ports.get(id)}`).join(",");
    // Each broker is stopped by the cleanup as soon as it has started, even if another never does.
    const handles = await Promise.all(
      ids.map(async (id) => {
        const h = await startBroker({
          "log.dirs": path.join(base, `node-${id}`),
          "node.id": id,
          "cluster.id": CLUSTER,
          listeners: `PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:${ports.get(id)}`,
          "controller.listener.names": "CONTROLLER",
          "controller.quorum.voters": voters,
        });
        cleanups.push(() => h.stop());
        return h;
      }),
    );
    const byId = new Map<number, BrokerHandle>(handles.map((h) => [h.broker.context.nodeId, h]));
    const ctx = (id: number) => byId.get(id)!.broker.context;
    await until("every broker registered on every node", () =>
      ids.every((id) => ctx(id).image().brokers.size === 3),
    );
    // Through whichever node does not lead now; forwarding follows the leader if it moves.
    const active = () => ids.find((id) => ctx(id).quorum!.log.isActive);
    const notLeader = await until("an active controller", () => {
      const leader = active();
      return leader === undefined ? undefined : ids.find((id) => id !== leader)!;
    });
    const created = await ctx(notLeader).controller.createTopics(
      [{ name: "over-the-wire", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      false,
    );
    expect(created[0]?.errorCode).toBe(0);
    await until("the topic on every node", () =>
      ids.every((id) => ctx(id).image().topicsByName.has("over-the-wire")),
    );

    const clients = new Map<number, NodeClient>();
    const describeQuorum = (port: number) => {
      let c = clients.get(port);
      if (c === undefined) {
        c = new NodeClient({ endpoint: { host: "127.0.0.1", port }, clientId: "test", logger });
        const built = c;
        cleanups.push(() => built.close());
        clients.set(port, c);
      }
      return c.request(DESCRIBE_QUORUM_API, {
        topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
      });
    };
    // Through a non-leader's broker listener (forwarded to the leader), the leader's controller
    // listener, and a non-leader's controller listener (NOT_LEADER_OR_FOLLOWER, as Kafka's raft client answers).
    // One round counts only if the quorum had the same leader and epoch before and after it.
    const failures: string[] = [];
    for (let round = 1; ; round++) {
      const leaderId = active();
      const epoch = leaderId === undefined ? -1 : ctx(leaderId).quorum!.raft.epoch;
      try {
        if (leaderId === undefined) throw new Error("no active controller");
        const other = ids.find((id) => id !== leaderId)!;
        const answers = [
          await describeQuorum(byId.get(other)!.port),
          await describeQuorum(ports.get(leaderId)!),
        ];
        const fromFollower = (await describeQuorum(ports.get(other)!)).topics[0]!.partitions[0]!;
        if (active() !== leaderId || ctx(leaderId).quorum!.raft.epoch !== epoch) {
          throw new Error(`leadership moved during round ${round}`);
        }
        for (const res of answers) {
          const p = res.topics[0]!.partitions[0]!;
          expect(p).toMatchObject({ errorCode: 0, leaderId, leaderEpoch: epoch });
          expect(p.currentVoters.map((v) => v.replicaId).sort()).toEqual(ids);
          expect(p.highWatermark).toBeGreaterThan(0n);
          expect(res.nodes.map((n) => n.listeners[0]!.port).sort()).toEqual([...ports.values()].sort());
        }
        expect(fromFollower.errorCode).toBe(6);
        break;
      } catch (err) {
        failures.push((err as Error).message);
        // Only a leadership change is a reason to ask again; a wrong answer in a stable round fails.
        const moved =
          active() !== leaderId || (leaderId !== undefined && ctx(leaderId).quorum!.raft.epoch !== epoch);
        if ((!moved && leaderId !== undefined) || round >= 20) {
          throw new Error(`DescribeQuorum checks failed in ${round} round(s): ${failures.join(" | ")}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }, 90_000);
});

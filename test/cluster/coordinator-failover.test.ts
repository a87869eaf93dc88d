/**
 * kill -9 of the transaction coordinator's node across three Krill processes (combined nodes, see
 * harness.ts), the regression test of what compat-tests/cluster's kill-txn-coordinator scenario
 * found: a node that never received a transactional request had never started its transaction
 * coordinator, so it answered a transactional produce to a partition it leads
 * NOT_ENOUGH_REPLICAS forever (the coordinator "loading"), and a node that came to lead a
 * __transaction_state partition in a failover loaded it only when a client asked.
 *
 * A topic of three partitions, one led by each node, and __transaction_state with replication
 * factor 3; a kafkajs transactional producer runs one transaction after another over the three
 * partitions (every fourth aborted) and the node leading its transactional id's partition is
 * killed with SIGKILL in the middle, then restarted. Checked: transactions commit again after the
 * kill (the time is printed, not asserted), and a read_committed consumer reads every record of
 * each committed transaction exactly once and none of an aborted one (a transaction whose commit
 * call failed in the failover may be either, but whole and once).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { afterEach, describe, expect, it } from "vitest";
import { coordinatorPartitionFor } from "../../src/server/group/java-hash.js";
import { formatNodes, kill, type Node, start, started, until, untilAsync } from "./harness.js";

const CLUSTER_ID = "Q29vcmRpbmF0b3JGYWlsMQ";
const TOPIC = "txn-data";
const TXN_ID = "coordinator-failover";
const STATE_PARTITIONS = 3;
/** Bounds of the waits (a loaded 2-core machine starts a tsx process slowly). */
const START_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 60_000;

let nodes: Node[] = [];
let base: string | undefined;

afterEach(async () => {
  for (const n of nodes) await kill(n);
  if (base !== undefined) rmSync(base, { recursive: true, force: true });
  nodes = [];
  base = undefined;
});

type Outcome = "committed" | "aborted" | "uncertain";

describe("transactions across three processes: kill -9 of the transaction coordinator's node", () => {
  it("commits again after the failover; read_committed sees each committed transaction once, no aborted one", async () => {
    base = mkdtempSync(path.join(os.tmpdir(), "krill-coord-"));
    nodes = await formatNodes(base, 3, CLUSTER_ID, [
      "num.partitions=1",
      "min.insync.replicas=2",
      "offsets.topic.replication.factor=3",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.replication.factor=3",
      `transaction.state.log.num.partitions=${STATE_PARTITIONS}`,
      "transaction.state.log.min.isr=2",
    ]);
    for (const n of nodes) start(n);
    for (const n of nodes) await until(`node ${n.id} started`, START_TIMEOUT_MS, () => started(n));

    const kafka = new Kafka({
      clientId: "coordinator-failover",
      brokers: nodes.map((n) => `127.0.0.1:${n.port}`),
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    const leaderOf = async (topic: string, partition: number) => {
      try {
        const md = await admin.fetchTopicMetadata({ topics: [topic] });
        return md.topics[0]?.partitions.find((p) => p.partitionId === partition);
      } catch {
        return undefined; // a dead broker picked for the request: ask again
      }
    };
    await admin.createTopics({
      topics: [
        {
          topic: TOPIC,
          // One partition led by each node: the transaction writes through all three.
          replicaAssignment: [
            { partition: 0, replicas: [1, 2, 3] },
            { partition: 1, replicas: [2, 3, 1] },
            { partition: 2, replicas: [3, 1, 2] },
          ],
        },
      ],
      waitForLeaders: true,
    });

    const outcomes = new Map<number, Outcome>();
    let next = 0;
    let failed = 0;
    const newProducer = async () => {
      const p = kafka.producer({
        transactionalId: TXN_ID,
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      await p.connect();
      return p;
    };
    let producer: Producer = await newProducer();
    /** One transaction: a record in each partition, committed (or every fourth aborted). */
    const transaction = async (): Promise<Outcome> => {
      const n = next++;
      const abort = n % 4 === 3;
      let ending = false;
      try {
        const txn = await producer.transaction();
        try {
          await txn.send({
            topic: TOPIC,
            acks: -1,
            messages: [0, 1, 2].map((p) => ({ partition: p, value: `t${n}-${p}` })),
          });
          ending = true;
          if (abort) await txn.abort();
          else await txn.commit();
          outcomes.set(n, abort ? "aborted" : "committed");
        } catch (err) {
          // Before the end call nothing can be committed: abort. A failed end call may have
          // committed: either way the transaction must appear whole and once, or not at all.
          failed++;
          outcomes.set(n, ending && !abort ? "uncertain" : "aborted");
          await txn.abort().catch(async () => {
            // The producer is stuck: a new one with the same id fences it and ends the transaction.
            await producer.disconnect().catch(() => {});
            producer = await newProducer();
          });
          throw err;
        }
      } catch {
        return outcomes.get(n) ?? "aborted";
      }
      return outcomes.get(n)!;
    };
    const committed = () => [...outcomes.values()].filter((o) => o === "committed").length;

    try {
      // Before the kill: the first transactions write to partitions led by nodes that are not
      // the coordinator (the bug: NOT_ENOUGH_REPLICAS there until the producer gave up).
      while (committed() < 3) {
        await transaction();
        expect(failed, "failed transactions before the kill").toBe(0);
      }
      const statePartition = coordinatorPartitionFor(TXN_ID, STATE_PARTITIONS);
      const coordinator = await untilAsync(
        "the coordinator's partition with a leader",
        STEP_TIMEOUT_MS,
        async () => {
          const p = await leaderOf("__transaction_state", statePartition);
          return p !== undefined && p.leader >= 1 && p.isr.length === 3 ? p.leader : undefined;
        },
      );
      const victim = nodes.find((n) => n.id === coordinator)!;
      const before = committed();
      const killedAt = Date.now();
      await kill(victim);
      let firstCommitMs: number | undefined;
      while (committed() < before + 4) {
        expect(next, "transactions after the kill").toBeLessThan(before + 40);
        if ((await transaction()) === "committed" && firstCommitMs === undefined) firstCommitMs = Date.now();
      }
      console.log(
        `coordinator failover: a transaction committed again ${firstCommitMs! - killedAt} ms after kill -9 of node ${victim.id} (the coordinator of __transaction_state-${statePartition})`,
      );
      const moved = await untilAsync("a new coordinator", STEP_TIMEOUT_MS, async () => {
        const p = await leaderOf("__transaction_state", statePartition);
        return p !== undefined && p.leader >= 1 && p.leader !== victim.id ? p.leader : undefined;
      });
      expect(moved).not.toBe(victim.id);

      start(victim);
      await until("the killed node started again", START_TIMEOUT_MS, () => started(victim));
      while (committed() < before + 6) {
        expect(next, "transactions after the restart").toBeLessThan(before + 60);
        await transaction();
      }
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }

    // read_committed: each committed transaction whole and once, no aborted one.
    const seen = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: "coordinator-failover-check", readUncommitted: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const v = message.value?.toString() ?? "";
          seen.set(v, (seen.get(v) ?? 0) + 1);
        },
      });
      const expected = [...outcomes]
        .filter(([, o]) => o === "committed")
        .flatMap(([n]) => [0, 1, 2].map((p) => `t${n}-${p}`));
      await until("every committed record read", 2 * STEP_TIMEOUT_MS, () =>
        expected.every((v) => seen.has(v)),
      );
      // The last transaction is a committed one: once its records are read, every partition was
      // read to its end.
    } finally {
      await consumer.disconnect().catch(() => {});
    }
    for (const [n, outcome] of outcomes) {
      const counts = [0, 1, 2].map((p) => seen.get(`t${n}-${p}`) ?? 0);
      if (outcome === "committed") expect(counts, `committed transaction ${n}`).toEqual([1, 1, 1]);
      else if (outcome === "aborted") expect(counts, `aborted transaction ${n}`).toEqual([0, 0, 0]);
      else
        expect(
          [
            [0, 0, 0],
            [1, 1, 1],
          ],
          `transaction ${n} (its commit failed)`,
        ).toContainEqual(counts);
    }
    console.log(
      `transactions: ${[...outcomes.values()].filter((o) => o === "committed").length} committed, ` +
        `${[...outcomes.values()].filter((o) => o === "aborted").length} aborted, ` +
        `${[...outcomes.values()].filter((o) => o === "uncertain").length} uncertain; ${seen.size} records read`,
    );
  }, 400_000);
});

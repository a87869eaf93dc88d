/**
 * Transactions against a broker running as a child process (the CLI), SIGKILLed and restarted
 * while a kafkajs transactional producer commits transaction after transaction: afterwards a
 * read_committed consumer sees every transaction whose commit was acknowledged, each exactly once
 * and whole, never a part of one and never one that was aborted; the coordinator's state, the
 * partitions' open transactions and the aborted-transaction index all came back from disk.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ChildBroker, kafkaForChildBroker, killChildBroker, startChildBroker } from "../child-broker.js";

const TXN_OVERRIDES = [
  "transaction.state.log.num.partitions=3",
  "offsets.topic.num.partitions=3",
  "group.initial.rebalance.delay.ms=0",
];

describe("transactions with the broker as a child process", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-txn-proc-"));
  let running: ChildBroker | undefined;

  afterAll(async () => {
    await killChildBroker(running);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps committed transactions whole and exactly once across a broker crash", async () => {
    running = await startChildBroker(dataDir, 0, TXN_OVERRIDES);
    const port = running.port;
    const kafka = kafkaForChildBroker(port);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "txn-crash", numPartitions: 2 }] });
    await admin.disconnect();

    const acknowledged: number[] = [];
    const aborted: number[] = [];
    let crashed = false;
    const TXNS = 60;
    const CRASH_AT = 25;
    // A fresh producer after the crash, as an application restarted with the broker would be.
    let producer = kafka.producer({ transactionalId: "crash-tx", maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    for (let t = 0; t < TXNS; t++) {
      const messages = [0, 1, 2, 3].map((i) => ({ key: `k${i}`, value: `t${t}-m${i}`, partition: i % 2 }));
      try {
        const txn = await producer.transaction();
        await txn.send({ topic: "txn-crash", messages });
        if (t % 7 === 3) {
          await txn.abort();
          aborted.push(t);
          continue;
        }
        if (t === CRASH_AT && !crashed) {
          // The broker dies with this transaction open (data written, no EndTxn yet).
          crashed = true;
          running.child.kill("SIGKILL");
          await running.exited;
          running = await startChildBroker(dataDir, port, TXN_OVERRIDES);
          await producer.disconnect().catch(() => {});
          producer = kafka.producer({
            transactionalId: "crash-tx",
            maxInFlightRequests: 1,
            idempotent: true,
          });
          await producer.connect();
          continue;
        }
        await txn.commit();
        acknowledged.push(t);
      } catch (err) {
        throw new Error(`transaction ${t} failed: ${(err as Error).message}`);
      }
    }
    await producer.disconnect();
    expect(crashed).toBe(true);

    const consumer = kafka.consumer({ groupId: "crash-check", maxWaitTimeInMs: 100 });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: "txn-crash", fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value?.toString() ?? "");
      },
    });
    const expected = acknowledged.flatMap((t) => [0, 1, 2, 3].map((i) => `t${t}-m${i}`));
    const deadline = Date.now() + 60_000;
    while (seen.length < expected.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1000));
    await consumer.disconnect();
    expect([...seen].sort()).toEqual([...expected].sort());
    expect(seen.some((v) => v.startsWith(`t${CRASH_AT}-`))).toBe(false);
    for (const t of aborted) expect(seen.some((v) => v.startsWith(`t${t}-`))).toBe(false);
  }, 180_000);
});

/**
 * Transactions end to end with kafkajs against a broker started in-process: aborted records
 * invisible to read_committed and visible to read_uncommitted, committed ones visible to both;
 * a second producer with the same transactional id fences the first; an open transaction aborted
 * by the coordinator after its timeout; a consume-transform-produce loop with sendOffsets that
 * delivers every input exactly once across a crash of the processing client; a restart between
 * PrepareCommit and CompleteCommit finishing the commit.
 */

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  DESCRIBE_PRODUCERS_API,
  DESCRIBE_TRANSACTIONS_API,
  INIT_PRODUCER_ID_API,
  LIST_TRANSACTIONS_API,
  PRODUCE_API,
  TXN_OFFSET_COMMIT_API,
  WRITE_TXN_MARKERS_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { encodeTxnKey, encodeTxnValue, TxnState } from "../../../src/server/txn/txn-metadata.js";

import { RawClient } from "../partitions/raw-client.js";
import { waiter } from "../wait-for.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

const SETTINGS = {
  "group.initial.rebalance.delay.ms": 0,
  "group.min.session.timeout.ms": 1000,
  "offsets.topic.num.partitions": 3,
  "transaction.state.log.num.partitions": 3,
};

function kafkaFor(broker: BrokerHandle, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 },
  });
}

const waitFor = waiter(30_000);

/** Every value a consumer with the given isolation sees in `topic` from the start, once `expected` arrived. */
async function readAll(
  broker: BrokerHandle,
  topic: string,
  readUncommitted: boolean,
  expectedCount: number,
  settleMs = 300,
): Promise<string[]> {
  const kafka = kafkaFor(broker, `reader-${readUncommitted ? "ru" : "rc"}`);
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${readUncommitted}-${Math.random()}`,
    readUncommitted,
    sessionTimeout: 6000,
    maxWaitTimeInMs: 100,
  });
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(message.value?.toString() ?? "");
    },
  });
  try {
    await waitFor(`${expectedCount} values in ${topic}`, () => values.length >= expectedCount);
    await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe("transactions with kafkajs", () => {
  let broker: BrokerHandle;
  const children: ChildProcess[] = [];

  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  beforeAll(async () => {
    broker = await startBroker(SETTINGS);
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("hides aborted records from read_committed and shows them to read_uncommitted", async () => {
    const topic = "txn-visibility";
    const kafka = kafkaFor(broker, "visibility");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      transactionalId: "visibility-tx",
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `aborted-${i}` })) });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({
      topic,
      messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `committed-${i}` })),
    });
    await committed.commit();
    await producer.disconnect();

    const readCommitted = await readAll(broker, topic, false, 3);
    expect(readCommitted.sort()).toEqual(["committed-0", "committed-1", "committed-2"]);
    const readUncommitted = await readAll(broker, topic, true, 6);
    expect(readUncommitted.sort()).toEqual([
      "aborted-0",
      "aborted-1",
      "aborted-2",
      "committed-0",
      "committed-1",
      "committed-2",
    ]);
    const offsets = await kafka
      .admin()
      .fetchTopicOffsets(topic)
      .catch(() => undefined);
    expect(offsets === undefined || offsets.length === 2).toBe(true);
  });

  it("fences the old producer when a new one starts with the same transactional id", async () => {
    const topic = "txn-fencing";
    const kafka = kafkaFor(broker, "fencing");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const zombie = kafka.producer({
      transactionalId: "fencing-tx",
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await zombie.connect();
    const zombieTxn = await zombie.transaction();
    await zombieTxn.send({ topic, messages: [{ value: "zombie" }] });

    const fresh = kafka.producer({ transactionalId: "fencing-tx", maxInFlightRequests: 1, idempotent: true });
    await fresh.connect();
    const txn = await fresh.transaction();
    await txn.send({ topic, messages: [{ value: "fresh" }] });
    await txn.commit();

    await expect(zombieTxn.send({ topic, messages: [{ value: "zombie-2" }] })).rejects.toThrow();
    await expect(zombieTxn.commit()).rejects.toThrow(/epoch|fenced/i);
    await zombie.disconnect().catch(() => {});
    await fresh.disconnect();

    const values = await readAll(broker, topic, false, 1);
    expect(values).toEqual(["fresh"]);
  });

  it("aborts an open transaction after its timeout", async () => {
    const topic = "txn-timeout";
    const kafka = kafkaFor(broker, "timeout");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({
      transactionalId: "timeout-tx",
      transactionTimeout: 1000,
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: "abandoned" }] });
    const service = broker.broker.context.transactions;
    expect(service.coordinator.metadata("timeout-tx")?.state).toBe(TxnState.Ongoing);
    // The coordinator's timer runs every 10 s; run its check once the timeout has passed.
    await new Promise((r) => setTimeout(r, 1200));
    await service.coordinator.tick();
    const meta = service.coordinator.metadata("timeout-tx");
    expect(meta?.state).toBe(TxnState.CompleteAbort);
    // transaction.version 2 is finalized: the coordinator's abort fences (epoch 1) and then ends
    // the transaction as transactions v2 does, one epoch later (Kafka's abortTimedOutTransactions
    // uses the server's level), so the markers carry epoch 2.
    expect(meta?.producerEpoch).toBe(2);
    await expect(txn.commit()).rejects.toThrow();
    await producer.disconnect().catch(() => {});

    // The partition is stable again: read_committed sees the end, and nothing.
    const admin2 = kafka.admin();
    await admin2.connect();
    const committedEnd = await admin2.fetchTopicOffsets(topic);
    await admin2.disconnect();
    expect(committedEnd[0]?.offset).toBe("2");
    const after = kafka.producer({ transactionalId: "timeout-tx", maxInFlightRequests: 1, idempotent: true });
    await after.connect();
    const next = await after.transaction();
    await next.send({ topic, messages: [{ value: "after" }] });
    await next.commit();
    await after.disconnect();
    expect(await readAll(broker, topic, false, 1)).toEqual(["after"]);
  });

  it("delivers every input exactly once through a consume-transform-produce loop across a processor crash", async () => {
    const input = "ctp-in";
    const output = "ctp-out";
    const kafka = kafkaFor(broker, "ctp");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: input, numPartitions: 2 },
        { topic: output, numPartitions: 2 },
      ],
    });
    await admin.disconnect();
    const seed = kafka.producer();
    await seed.connect();
    const inputs = Array.from({ length: 100 }, (_, i) => `m${i}`);
    await seed.send({ topic: input, messages: inputs.map((value, i) => ({ key: `k${i % 7}`, value })) });
    await seed.disconnect();

    const start = (crashAfter: number) => {
      const child = spawn(
        process.execPath,
        [
          path.join(HERE, "fixtures", "ctp-processor.mjs"),
          broker.bootstrap,
          "ctp-group",
          input,
          output,
          "ctp-tx",
          String(crashAfter),
        ],
        { cwd: path.resolve(HERE, "../../.."), stdio: ["ignore", "pipe", "inherit"] },
      );
      children.push(child);
      let commits = 0;
      child.stdout!.on("data", (chunk: Buffer) => {
        commits += chunk
          .toString()
          .split("\n")
          .filter((l) => l.trim() !== "").length;
      });
      return { child, commits: () => commits };
    };
    // The first processor commits 3 transactions, then dies with a 4th open (outputs and offsets sent).
    const first = start(3);
    await waitFor(
      "the first processor to die",
      () => first.child.exitCode !== null || first.child.signalCode !== null,
    );
    expect(first.child.signalCode).toBe("SIGKILL");
    expect(first.commits()).toBe(3);
    // Its successor, same transactional id and group, fences it and resumes from the committed offsets.
    const second = start(-1);
    const kafkaReader = kafkaFor(broker, "ctp-reader");
    const consumer = kafkaReader.consumer({ groupId: "ctp-check", maxWaitTimeInMs: 100 });
    const outputs: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: output, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        outputs.push(message.value?.toString() ?? "");
      },
    });
    try {
      await waitFor("every input transformed", () => outputs.length >= inputs.length, 60_000);
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await consumer.disconnect();
      second.child.kill("SIGKILL");
    }
    expect(outputs.length).toBe(inputs.length);
    expect([...outputs].sort()).toEqual(inputs.map((v) => `out-${v}`).sort());
    // The crashed transaction's outputs are in the log, marked aborted.
    const uncommitted = await readAll(broker, output, true, inputs.length + 1);
    expect(uncommitted.length).toBeGreaterThan(inputs.length);
  }, 120_000);
});

describe("transaction admin APIs", () => {
  it("lists, describes, shows producers and aborts a hanging transaction with WriteTxnMarkers", async () => {
    const broker = await startBroker(SETTINGS);
    const raw = await RawClient.connect(broker.port);
    try {
      const topic = "txn-admin";
      const kafka = kafkaFor(broker, "admin");
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const producer = kafka.producer({
        transactionalId: "admin-tx",
        maxInFlightRequests: 1,
        idempotent: true,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ value: "hanging" }] });

      const listed = await raw.request(LIST_TRANSACTIONS_API, 1, {
        stateFilters: ["Ongoing", "Bogus"],
        producerIdFilters: [],
        durationFilter: -1n,
        transactionalIdPattern: null,
      });
      expect(listed.unknownStateFilters).toEqual(["Bogus"]);
      expect(listed.transactionStates.map((t) => [t.transactionalId, t.transactionState])).toEqual([
        ["admin-tx", "Ongoing"],
      ]);
      const described = await raw.request(DESCRIBE_TRANSACTIONS_API, 0, {
        transactionalIds: ["admin-tx", "nope"],
      });
      expect(described.transactionStates[0]).toMatchObject({
        errorCode: 0,
        transactionState: "Ongoing",
        producerEpoch: 0,
        topics: [{ topic, partitions: [0] }],
      });
      expect(described.transactionStates[1]?.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      const producers = await raw.request(DESCRIBE_PRODUCERS_API, 0, {
        topics: [{ name: topic, partitionIndexes: [0, 9] }],
      });
      const [p0, p9] = producers.topics[0]!.partitions;
      expect(p0?.activeProducers).toHaveLength(1);
      expect(p0?.activeProducers[0]?.currentTxnStartOffset).toBe(0n);
      expect(p9?.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

      // kafka-transactions.sh abort: an ABORT marker for the producer at the partition.
      const active = p0!.activeProducers[0]!;
      // kafkajs lists offsets read_committed: the open transaction holds the stable end at 0.
      expect((await admin.fetchTopicOffsets(topic))[0]?.offset).toBe("0");
      const written = await raw.request(WRITE_TXN_MARKERS_API, 1, {
        markers: [
          {
            producerId: active.producerId,
            producerEpoch: active.producerEpoch,
            transactionResult: false,
            coordinatorEpoch: 0,
            topics: [{ name: topic, partitionIndexes: [0] }],
            transactionVersion: 0,
          },
        ],
      });
      expect(written.markers[0]?.topics[0]?.partitions[0]?.errorCode).toBe(ErrorCode.NONE);
      const after = await raw.request(DESCRIBE_PRODUCERS_API, 0, {
        topics: [{ name: topic, partitionIndexes: [0] }],
      });
      expect(after.topics[0]?.partitions[0]?.activeProducers[0]?.currentTxnStartOffset).toBe(-1n);
      expect((await admin.fetchTopicOffsets(topic))[0]?.offset).toBe("2");
      await producer.disconnect().catch(() => {});
      await admin.disconnect();
    } finally {
      await raw.close();
      await broker.stop();
    }
  });
});

describe("produce-side transaction verification (KIP-890 part 1)", () => {
  it("refuses a transactional batch for a partition not added to the transaction, and a fenced epoch", async () => {
    const broker = await startBroker(SETTINGS);
    const raw = await RawClient.connect(broker.port);
    try {
      const admin = kafkaFor(broker, "verify").admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "verify", numPartitions: 1 }] });
      await admin.disconnect();
      const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
        enable2Pc: false,
        keepPreparedTxn: false,
        transactionalId: "verify-tx",
        transactionTimeoutMs: 10_000,
        producerId: -1n,
        producerEpoch: -1,
      });
      expect(init.errorCode).toBe(ErrorCode.NONE);
      const produce = (transactionalId: string | null, producerEpoch: number, version = 9) =>
        raw.request(PRODUCE_API, version, {
          transactionalId,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [
            {
              name: "verify",
              topicId: ZERO_UUID,
              partitionData: [
                {
                  index: 0,
                  records: buildRecordBatch({
                    producerId: init.producerId,
                    producerEpoch,
                    baseSequence: 0,
                    transactional: true,
                    records: [{ timestamp: Date.now(), key: null, value: Buffer.from("v") }],
                  }),
                },
              ],
            },
          ],
        });
      const errorOf = (r: Awaited<ReturnType<typeof produce>>) =>
        r.responses[0]?.partitionResponses[0]?.errorCode;
      // Never added with AddPartitionsToTxn: a hanging transaction would start here. A client that
      // knows TRANSACTION_ABORTABLE (Produce v11+) gets it, an older one INVALID_TXN_STATE (Kafka's
      // genericError / defaultError in AddPartitionsToTxnManager).
      expect(errorOf(await produce("verify-tx", init.producerEpoch))).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(errorOf(await produce("verify-tx", init.producerEpoch, 10))).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(errorOf(await produce("verify-tx", init.producerEpoch, 11))).toBe(
        ErrorCode.TRANSACTION_ABORTABLE,
      );
      // The same for TxnOffsetCommit without AddOffsetsToTxn: v4 (and v3 below it).
      const txnOffsetCommit = (version: number) =>
        raw.request(TXN_OFFSET_COMMIT_API, version, {
          transactionalId: "verify-tx",
          groupId: "verify-group",
          producerId: init.producerId,
          producerEpoch: init.producerEpoch,
          generationIdOrMemberEpoch: -1,
          memberId: "",
          groupInstanceId: null,
          topics: [
            {
              name: "verify",
              topicId: ZERO_UUID,
              partitions: [
                { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "" },
              ],
            },
          ],
        });
      // The group's offsets partition loads first (COORDINATOR_LOAD_IN_PROGRESS, bounded retries).
      const commitErrorOf = async (version: number) => {
        for (let attempt = 0; ; attempt++) {
          const error = (await txnOffsetCommit(version)).topics[0]?.partitions[0]?.errorCode;
          if (error !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || attempt === 100) return error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      expect(await commitErrorOf(3)).toBe(ErrorCode.INVALID_TXN_STATE);
      expect(await commitErrorOf(4)).toBe(ErrorCode.TRANSACTION_ABORTABLE);
      expect(errorOf(await produce(null, init.producerEpoch))).toBe(
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      );
      // A newer instance bumps the epoch: the old epoch is fenced.
      await raw.request(INIT_PRODUCER_ID_API, 4, {
        enable2Pc: false,
        keepPreparedTxn: false,
        transactionalId: "verify-tx",
        transactionTimeoutMs: 10_000,
        producerId: -1n,
        producerEpoch: -1,
      });
      expect(errorOf(await produce("verify-tx", init.producerEpoch))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
      const fenced = await raw.request(INIT_PRODUCER_ID_API, 4, {
        enable2Pc: false,
        keepPreparedTxn: false,
        transactionalId: "verify-tx",
        transactionTimeoutMs: 10_000,
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
      });
      expect(fenced.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
      const fencedOld = await raw.request(INIT_PRODUCER_ID_API, 3, {
        enable2Pc: false,
        keepPreparedTxn: false,
        transactionalId: "verify-tx",
        transactionTimeoutMs: 10_000,
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
      });
      expect(fencedOld.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
      const tooLong = await raw.request(INIT_PRODUCER_ID_API, 4, {
        enable2Pc: false,
        keepPreparedTxn: false,
        transactionalId: "verify-tx",
        transactionTimeoutMs: 900_001,
        producerId: -1n,
        producerEpoch: -1,
      });
      expect(tooLong.errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    } finally {
      await raw.close();
      await broker.stop();
    }
  });
});

describe("a broker restart between PrepareCommit and CompleteCommit", () => {
  it("completes the commit on start: markers written, data visible to read_committed", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-txn-restart-"));
    const settings = { ...SETTINGS, "log.dirs": dir };
    try {
      let broker = await startBroker(settings);
      const topic = "restart-txn";
      const kafka = kafkaFor(broker, "restart");
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      await admin.disconnect();
      const producer = kafka.producer({
        transactionalId: "restart-tx",
        maxInFlightRequests: 1,
        idempotent: true,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ value: "a" }, { value: "b" }] });
      // The coordinator decided to commit and wrote PrepareCommit, then the broker went down
      // before any marker: write exactly that record, as EndTxn's first step does.
      const service = broker.broker.context.transactions;
      const meta = service.coordinator.metadata("restart-tx")!;
      expect(meta.state).toBe(TxnState.Ongoing);
      const partitions = broker.broker.context.partitions;
      const found = partitions.lookup("__transaction_state", service.coordinator.partitionFor("restart-tx"));
      if (!found.ok) throw new Error("no __transaction_state partition");
      const { PartitionTxnStateLog } = await import("../../../src/server/txn/coordinator-service.js");
      await new PartitionTxnStateLog(partitions).append(
        service.coordinator.partitionFor("restart-tx"),
        encodeTxnKey("restart-tx"),
        encodeTxnValue({
          producerId: meta.producerId,
          previousProducerId: meta.previousProducerId,
          nextProducerId: -1n,
          producerEpoch: meta.producerEpoch,
          txnTimeoutMs: meta.txnTimeoutMs,
          state: TxnState.PrepareCommit,
          partitions: meta.partitions,
          txnStartTimestampMs: meta.txnStartTimestampMs,
          txnLastUpdateTimestampMs: Date.now(),
          clientTransactionVersion: 0,
        }),
      );
      const before = await kafkaFor(broker, "lso").admin();
      await before.connect();
      const stableBefore = await before.fetchTopicOffsets(topic);
      await before.disconnect();
      expect(stableBefore[0]?.offset).toBe("0");
      await broker.stop();
      producer.disconnect().catch(() => {});

      broker = await startBroker(settings);
      try {
        const restarted = broker.broker.context.transactions.coordinator;
        await waitFor(
          "the commit to complete",
          () => restarted.metadata("restart-tx")?.state === TxnState.CompleteCommit,
        );
        const values = await readAll(broker, topic, false, 2);
        expect(values).toEqual(["a", "b"]);
        const admin2 = kafkaFor(broker, "after").admin();
        await admin2.connect();
        const stable = await admin2.fetchTopicOffsets(topic);
        await admin2.disconnect();
        expect(stable[0]?.offset).toBe("3");
      } finally {
        await broker.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("transactional offsets across a broker restart", () => {
  it("keeps offsets of an open transaction pending through a restart and shows them once it commits", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-txn-offsets-"));
    let broker = await startBroker({ ...SETTINGS, "log.dirs": dir });
    const listeners = `PLAINTEXT://127.0.0.1:${broker.port}`;
    try {
      const topic = "txn-offsets";
      const kafka = kafkaFor(broker, "offsets");
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const producer = kafka.producer({
        transactionalId: "offsets-tx",
        maxInFlightRequests: 1,
        idempotent: true,
      });
      await producer.connect();
      const txn = await producer.transaction();
      await txn.send({ topic, messages: [{ value: "x" }] });
      await txn.sendOffsets({
        consumerGroupId: "offsets-group",
        topics: [{ topic, partitions: [{ partition: 0, offset: "42" }] }],
      });
      const committedOffset = async () =>
        (await admin.fetchOffsets({ groupId: "offsets-group", topics: [topic] }))[0]?.partitions[0]?.offset;
      expect(await committedOffset()).toBe("-1");
      await admin.disconnect();
      await broker.stop();

      broker = await startBroker({ ...SETTINGS, "log.dirs": dir, listeners });
      const service = broker.broker.context.transactions;
      await service.ensureReady();
      const meta = service.coordinator.metadata("offsets-tx")!;
      expect(meta.state).toBe(TxnState.Ongoing);
      expect(service.offsets.pendingOf(meta.producerId)?.get("offsets-group")?.size).toBe(1);
      const admin2 = kafkaFor(broker, "offsets-2").admin();
      await admin2.connect();
      expect(
        (await admin2.fetchOffsets({ groupId: "offsets-group", topics: [topic] }))[0]?.partitions[0]?.offset,
      ).toBe("-1");
      // The same producer, reconnected, commits its transaction.
      await txn.commit();
      await waitFor("the offsets to become visible", async () => {
        const o = await admin2.fetchOffsets({ groupId: "offsets-group", topics: [topic] });
        return o[0]?.partitions[0]?.offset === "42";
      });
      await producer.disconnect();
      await admin2.disconnect();
      await broker.stop();

      // And after another restart the committed offset is read back from the log.
      broker = await startBroker({ ...SETTINGS, "log.dirs": dir, listeners });
      const admin3 = kafkaFor(broker, "offsets-3").admin();
      await admin3.connect();
      await waitFor("the committed offset after a restart", async () => {
        const o = await admin3
          .fetchOffsets({ groupId: "offsets-group", topics: [topic] })
          .catch(() => undefined);
        return o?.[0]?.partitions[0]?.offset === "42";
      });
      await admin3.disconnect();
    } finally {
      await broker.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

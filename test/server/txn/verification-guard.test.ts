/**
 * The verification guard (Kafka's VerificationGuard, KIP-890): a transactional batch verified
 * with the coordinator must not be appended if its transaction ended while it was being verified
 * (the abort's marker appended to the partition meanwhile), since it would open a transaction
 * nobody ends. On one broker, with the coordinator's verification answered NONE and the
 * transaction aborted before the produce continues: the batch is refused with INVALID_TXN_STATE
 * and the partition keeps no open transaction; without the race the same batch is taken.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  ADD_PARTITIONS_TO_TXN_API,
  CREATE_TOPICS_API,
  INIT_PRODUCER_ID_API,
  PRODUCE_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { RawClient } from "../partitions/raw-client.js";

let broker: BrokerHandle;
let raw: RawClient;
const TOPIC = "guarded";
const TID = "guard-tid";

beforeAll(async () => {
  broker = await startBroker({
    "num.partitions": 1,
    "transaction.state.log.num.partitions": 1,
  });
  raw = await RawClient.connect(broker.port, broker.host);
  const created = await raw.request(CREATE_TOPICS_API, 7, {
    topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5_000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  await raw?.close();
  await broker?.stop();
});

async function beginTransaction(): Promise<{ producerId: bigint; producerEpoch: number }> {
  const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
    transactionalId: TID,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
    enable2Pc: false,
    keepPreparedTxn: false,
  });
  expect(init.errorCode).toBe(0);
  const added = await raw.request(ADD_PARTITIONS_TO_TXN_API, 3, {
    transactions: [],
    v3AndBelowTransactionalId: TID,
    v3AndBelowProducerId: init.producerId,
    v3AndBelowProducerEpoch: init.producerEpoch,
    v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }],
  });
  expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
  return { producerId: init.producerId, producerEpoch: init.producerEpoch };
}

async function produce(p: { producerId: bigint; producerEpoch: number }, value: string): Promise<number> {
  const res = await raw.request(PRODUCE_API, 11, {
    transactionalId: TID,
    acks: -1,
    timeoutMs: 5_000,
    topicData: [
      {
        name: TOPIC,
        topicId: ZERO_UUID,
        partitionData: [
          {
            index: 0,
            records: buildRecordBatch({
              producerId: p.producerId,
              producerEpoch: p.producerEpoch,
              baseSequence: 0,
              transactional: true,
              records: [{ timestamp: Date.now(), key: null, value }],
            }),
          },
        ],
      },
    ],
  });
  return res.responses[0]!.partitionResponses[0]!.errorCode;
}

describe("the verification guard", () => {
  it("refuses a verified batch whose transaction was aborted while it was being verified", async () => {
    const services = broker.broker.context.transactions;
    const verification = services.verification;
    const original = verification.verifyTransactionalProduce.bind(verification);
    const p = await beginTransaction();
    try {
      // The coordinator says yes, then the transaction is aborted (its marker lands on the
      // partition) before the produce goes on: the batch's guard is gone.
      verification.verifyTransactionalProduce = async (...args) => {
        const verdict = await original(...args);
        const ended = await services.coordinator.endTxn(TID, p.producerId, p.producerEpoch, false);
        expect(ended.errorCode).toBe(ErrorCode.NONE);
        return verdict;
      };
      expect(await produce(p, "late")).toBe(ErrorCode.INVALID_TXN_STATE);
    } finally {
      verification.verifyTransactionalProduce = original;
    }
    const partition = broker.broker.context.partitions.held(TOPIC, 0)!;
    expect(partition.producerState(Date.now()).ongoingTransactions().size).toBe(0);
    expect(partition.verificationGuards.size).toBe(0);

    // Without the race the next transaction's batch goes in.
    const q = await beginTransaction();
    expect(await produce(q, "on time")).toBe(ErrorCode.NONE);
    expect(partition.producerState(Date.now()).ongoingTransactions().has(q.producerId)).toBe(true);
  });
});

/**
 * The data path against a broker running as a child process (the CLI), killed and restarted
 * while a kafkajs idempotent producer keeps sending: every acknowledged message must be in the
 * log exactly once and in order, and the producer must carry on with its id and sequence after
 * the restart (producer state restored from snapshot + log).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FETCH_API, INIT_PRODUCER_ID_API, PRODUCE_API } from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest } from "../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { buildRecordBatch, decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { type ChildBroker, kafkaForChildBroker, killChildBroker, startChildBroker } from "./child-broker.js";
import { RawClient } from "./partitions/raw-client.js";

const OVERRIDES = ["num.partitions=1"];

describe("data path with the broker as a child process", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-data-path-proc-"));
  let running: ChildBroker | undefined;

  afterAll(async () => {
    await killChildBroker(running);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps an idempotent producer's messages exactly once across a broker crash and restart", async () => {
    running = await startChildBroker(dataDir, 0, OVERRIDES);
    const port = running.port;
    const kafka = kafkaForChildBroker(port);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "events", numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    // A second, raw idempotent producer on another topic, to check after the crash that the
    // broker still knows its sequences (a retry is a duplicate, a gap is refused), which only
    // holds if producer state was rebuilt from the log.
    const rawAdmin = kafka.admin();
    await rawAdmin.connect();
    await rawAdmin.createTopics({ topics: [{ topic: "raw", numPartitions: 1 }] });
    await rawAdmin.disconnect();
    let raw = await RawClient.connect(port);
    const { producerId } = await raw.request(INIT_PRODUCER_ID_API, 4, {
      enable2Pc: false,
      keepPreparedTxn: false,
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    const rawSend = (client: RawClient, seq: number) =>
      client
        .request(PRODUCE_API, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 10_000,
          topicData: [
            {
              name: "raw",
              topicId: ZERO_UUID,
              partitionData: [
                {
                  index: 0,
                  records: buildRecordBatch({
                    producerId,
                    producerEpoch: 0,
                    baseSequence: seq,
                    records: [{ timestamp: Date.now(), key: null, value: `r${seq}` }],
                  }),
                },
              ],
            },
          ],
        })
        .then((r) => r.responses[0]!.partitionResponses[0]!);
    for (let seq = 0; seq < 3; seq++) expect((await rawSend(raw, seq)).baseOffset).toBe(BigInt(seq));
    await raw.close();

    const total = 150;
    const killAt = 60;
    for (let i = 0; i < total; i++) {
      if (i === killAt) {
        // A crash (no clean shutdown), then a restart on the same port and data.
        running.child.kill("SIGKILL");
        await running.exited;
        const restarting = startChildBroker(dataDir, port, OVERRIDES).then((r) => {
          running = r;
        });
        // The producer retries while the broker is down.
        await Promise.all([producer.send({ topic: "events", messages: [{ value: `m${i}` }] }), restarting]);
        continue;
      }
      await producer.send({ topic: "events", messages: [{ value: `m${i}` }] });
    }
    await producer.disconnect();

    raw = await RawClient.connect(port);
    expect(await rawSend(raw, 1)).toMatchObject({ errorCode: 0, baseOffset: 1n });
    expect((await rawSend(raw, 7)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await rawSend(raw, 3)).toMatchObject({ errorCode: 0, baseOffset: 3n });

    const res = await raw.request(FETCH_API, 11, {
      ...defaultFetchRequest(),
      maxBytes: 10 * 1024 * 1024,
      topics: [
        {
          topic: "events",
          topicId: ZERO_UUID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 0n,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 10 * 1024 * 1024,
              replicaDirectoryId: ZERO_UUID,
              highWatermark: -1n,
            },
          ],
        },
      ],
    });
    await raw.close();
    const records = res.responses[0]!.partitions[0]!.records!;
    const values = decodeRecordBatches(records, { decompressedBytesMax: 1 << 26 }).flatMap((b) =>
      b.records.map((r) => r.value?.toString()),
    );
    expect(values).toEqual(Array.from({ length: total }, (_, i) => `m${i}`));

    running.child.kill("SIGTERM");
    expect(await running.exited).toBe(0);
  }, 120_000);
});

/**
 * The data path end to end against a broker started in-process: kafkajs for what real clients do
 * (admin, produce with every codec, offsets, delete records), and a raw client for the fields a
 * client library does not let a test choose (acks=0, sessions, epochs, sequences, versions).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import {
  type Admin,
  CompressionCodecs,
  CompressionTypes,
  ConfigResourceTypes,
  Kafka,
  logLevel,
  type Producer,
} from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { compress, decompress } from "../../src/protocol/compression/index.js";
import {
  DELETE_RECORDS_API,
  FETCH_API,
  INIT_PRODUCER_ID_API,
  LIST_OFFSETS_API,
  OFFSET_FOR_LEADER_EPOCH_API,
  PRODUCE_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest, type FetchRequest } from "../../src/protocol/generated/fetch-request.js";
import type { FetchResponse } from "../../src/protocol/generated/fetch-response.js";
import type { ProduceResponse } from "../../src/protocol/generated/produce-response.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { buildRecordBatch, decodeRecordBatches } from "../../src/protocol/records/record-batch.js";
import { RawClient } from "./partitions/raw-client.js";

// kafkajs ships gzip only; lz4 and zstd use Krill's own codecs on the client side (the broker never
// decompresses, so this checks that the bytes are stored and served unchanged).
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder: { buffer: Buffer }) => compress(3, encoder.buffer),
  decompress: (buffer: Buffer) => decompress(3, buffer, { outputBytesMax: 64 * 1024 * 1024 }),
});
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: (encoder: { buffer: Buffer }) => compress(4, encoder.buffer),
  decompress: (buffer: Buffer) => decompress(4, buffer, { outputBytesMax: 64 * 1024 * 1024 }),
});
CompressionCodecs[CompressionTypes.Snappy] = () => ({
  compress: (encoder: { buffer: Buffer }) => compress(2, encoder.buffer),
  decompress: (buffer: Buffer) => decompress(2, buffer, { outputBytesMax: 64 * 1024 * 1024 }),
});

const DECODE = { decompressedBytesMax: 64 * 1024 * 1024 };

function fetchRequest(
  topic: string,
  partitions: { partition: number; offset: bigint }[],
  over: Partial<FetchRequest> = {},
): FetchRequest {
  return {
    ...defaultFetchRequest(),
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 * 1024 * 1024,
    topics: [
      {
        topic,
        topicId: ZERO_UUID,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: -1,
          fetchOffset: p.offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: 10 * 1024 * 1024,
          replicaDirectoryId: ZERO_UUID,
          highWatermark: -1n,
        })),
      },
    ],
    ...over,
  };
}

function produceRequest(topic: string, partition: number, records: Buffer, acks = -1) {
  return {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, topicId: ZERO_UUID, partitionData: [{ index: partition, records }] }],
  };
}

function batch(
  values: string[],
  options: { producerId?: bigint; producerEpoch?: number; baseSequence?: number; timestamp?: number } = {},
) {
  const ts = options.timestamp ?? Date.now();
  return buildRecordBatch({
    producerId: options.producerId ?? -1n,
    producerEpoch: options.producerEpoch ?? -1,
    baseSequence: options.baseSequence ?? -1,
    records: values.map((v) => ({ timestamp: ts, key: null, value: v })),
  });
}

function partitionOf(res: ProduceResponse) {
  return res.responses[0]!.partitionResponses[0]!;
}

function fetchedValues(res: FetchResponse, partitionIndex = 0): string[] {
  const p = res.responses.flatMap((t) => t.partitions).find((x) => x.partitionIndex === partitionIndex);
  if (p?.records === null || p?.records === undefined) return [];
  return decodeRecordBatches(p.records, DECODE).flatMap((b) =>
    b.records.map((r) => r.value?.toString() ?? "<null>"),
  );
}

describe("data path", () => {
  let dataDir: string;
  let broker: BrokerHandle;
  let kafka: Kafka;
  let admin: Admin;
  let raw: RawClient;

  async function start(): Promise<void> {
    broker = await startBroker({ "log.dirs": dataDir, "num.partitions": 1 });
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    admin = kafka.admin();
    await admin.connect();
    raw = await RawClient.connect(broker.port, broker.host);
  }

  async function stop(): Promise<void> {
    await raw?.close();
    await admin?.disconnect();
    await broker?.stop();
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "krill-data-path-"));
    await start();
    await admin.createTopics({
      topics: [
        { topic: "plain", numPartitions: 2 },
        { topic: "small", numPartitions: 1, configEntries: [{ name: "max.message.bytes", value: "2000" }] },
        {
          topic: "appendtime",
          numPartitions: 1,
          configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }],
        },
        { topic: "idem", numPartitions: 1 },
        { topic: "poll", numPartitions: 2 },
        {
          topic: "compacted",
          numPartitions: 1,
          configEntries: [{ name: "cleanup.policy", value: "compact" }],
        },
        { topic: "hostile", numPartitions: 1 },
        { topic: "strict", numPartitions: 1, configEntries: [{ name: "min.insync.replicas", value: "2" }] },
      ],
    });
  });

  afterAll(async () => {
    await stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("stores what kafkajs produces with every codec, keys, null values, headers and large messages", async () => {
    const producer: Producer = kafka.producer();
    await producer.connect();
    const big = "x".repeat(900_000);
    const codecs = [
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ];
    for (const compression of codecs) {
      await producer.send({
        topic: "plain",
        compression,
        messages: [
          {
            partition: 0,
            key: `k${compression}`,
            value: `v${compression}`,
            headers: { h: `x${compression}` },
          },
          { partition: 0, key: null, value: null },
        ],
      });
    }
    await producer.send({ topic: "plain", messages: [{ partition: 0, value: big }] });
    await producer.disconnect();

    const res = await raw.request(FETCH_API, 11, fetchRequest("plain", [{ partition: 0, offset: 0n }]));
    expect(res.errorCode).toBe(0);
    const part = res.responses[0]!.partitions[0]!;
    expect(part.errorCode).toBe(0);
    expect(part.highWatermark).toBe(11n);
    const batches = decodeRecordBatches(part.records!, DECODE);
    expect(batches.map((b) => b.compression)).toEqual([0, 1, 2, 3, 4, 0]);
    const records = batches.flatMap((b) => b.records);
    expect(records.map((r) => Number(r.offset))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(records[2]?.key?.toString()).toBe("k1");
    expect(records[2]?.headers[0]?.value?.toString()).toBe("x1");
    expect(records[3]?.key).toBeNull();
    expect(records[3]?.value).toBeNull();
    expect(records[10]?.value?.length).toBe(big.length);

    const offsets = await admin.fetchTopicOffsets("plain");
    expect(offsets.find((o) => o.partition === 0)).toMatchObject({ high: "11", low: "0" });
  });

  it("refuses records without a key on a compacted topic, listing them as Kafka does", async () => {
    const ts = Date.now();
    const mixed = buildRecordBatch({
      records: [
        { timestamp: ts, key: "k0", value: "a" },
        { timestamp: ts, key: null, value: "b" },
        { timestamp: ts, key: "k2", value: "c" },
        { timestamp: ts, key: null, value: "d" },
      ],
      compression: "gzip",
    });
    const refused = partitionOf(await raw.request(PRODUCE_API, 9, produceRequest("compacted", 0, mixed)));
    const why = "Compacted topic cannot accept message without key in topic partition compacted-0";
    expect(refused).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
      baseOffset: -1n,
      recordErrors: [
        { batchIndex: 1, batchIndexErrorMessage: why },
        { batchIndex: 3, batchIndexErrorMessage: why },
      ],
      errorMessage:
        "One or more records have been rejected due to 2 record errors in total, and only showing the " +
        `first three errors at most: [RecordError(batchIndex=1, message='${why}'), RecordError(batchIndex=3, message='${why}')]`,
    });
    const keyed = buildRecordBatch({ records: [{ timestamp: ts, key: "k", value: "v" }] });
    const accepted = partitionOf(await raw.request(PRODUCE_API, 9, produceRequest("compacted", 0, keyed)));
    expect(accepted).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
  });

  it("answers produce errors per partition", async () => {
    const tooBig = batch(["y".repeat(3000)]);
    expect(partitionOf(await raw.request(PRODUCE_API, 9, produceRequest("small", 0, tooBig))).errorCode).toBe(
      ErrorCode.MESSAGE_TOO_LARGE,
    );
    const unknown = await raw.request(PRODUCE_API, 9, produceRequest("nope", 0, batch(["a"])));
    expect(partitionOf(unknown).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const badAcks = await raw.request(PRODUCE_API, 9, produceRequest("plain", 1, batch(["a"]), 2));
    expect(partitionOf(badAcks).errorCode).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    const corrupt = batch(["a"]);
    corrupt[corrupt.length - 1]! ^= 1;
    expect(
      partitionOf(await raw.request(PRODUCE_API, 9, produceRequest("plain", 1, corrupt))).errorCode,
    ).toBe(ErrorCode.CORRUPT_MESSAGE);
    const future = batch(["late", "later"], { timestamp: Date.now() + 10 * 365 * 86_400_000 });
    const stale = partitionOf(await raw.request(PRODUCE_API, 9, produceRequest("plain", 1, future)));
    expect(stale.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(stale.recordErrors.map((e) => e.batchIndex)).toEqual([0, 1]);
    const internal = await raw.request(PRODUCE_API, 9, produceRequest("__consumer_offsets", 0, batch(["a"])));
    expect(partitionOf(internal).errorCode).not.toBe(0);
    // Nothing above reached the log.
    const offsets = await raw.request(LIST_OFFSETS_API, 7, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [
        {
          name: "plain",
          partitions: [{ partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    expect(offsets.topics[0]!.partitions[0]!.offset).toBe(0n);
  });

  it("answers hostile produce payloads with an error code and keeps the connection", async () => {
    const valid = batch(["a", "b", "c"], { producerId: 999n, producerEpoch: 0, baseSequence: 0 });
    const known = new Set<number>([
      ErrorCode.NONE,
      ErrorCode.CORRUPT_MESSAGE,
      ErrorCode.INVALID_RECORD,
      ErrorCode.MESSAGE_TOO_LARGE,
      ErrorCode.INVALID_TIMESTAMP,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      ErrorCode.INVALID_PRODUCER_EPOCH,
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // One to three bytes of a valid batch changed (header fields outside the CRC included).
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), {
              minLength: 1,
              maxLength: 3,
            })
            .map((edits) => {
              const b = Buffer.from(valid);
              for (const [i, x] of edits) b[i] = b[i]! ^ x;
              return b;
            }),
          // Truncated batches and arbitrary bytes.
          fc.nat(valid.length - 1).map((n) => Buffer.from(valid.subarray(0, n))),
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        ),
        async (records) => {
          const res = await raw.request(PRODUCE_API, 9, produceRequest("hostile", 0, records));
          expect(known).toContain(partitionOf(res).errorCode);
        },
      ),
      { numRuns: 150 },
    );
    expect(raw.closed).toBe(false);
  });

  // Kafka's Partition.effectiveMinIsr caps min.insync.replicas at the replication factor
  // (KAFKA-15583), so a single-replica topic with min.insync.replicas=2 takes acks=all writes;
  // NOT_ENOUGH_REPLICAS with a real ISR is covered by test/server/replication/.
  it("caps min.insync.replicas at the replication factor for acks=-1, as Kafka", async () => {
    const all = await raw.request(PRODUCE_API, 9, produceRequest("strict", 0, batch(["a"]), -1));
    expect(partitionOf(all)).toMatchObject({ errorCode: 0, baseOffset: 0n });
    const one = await raw.request(PRODUCE_API, 9, produceRequest("strict", 0, batch(["a"]), 1));
    expect(partitionOf(one)).toMatchObject({ errorCode: 0, baseOffset: 1n });
  });

  it("stamps LogAppendTime and returns it", async () => {
    const before = Date.now();
    const res = partitionOf(
      await raw.request(PRODUCE_API, 9, produceRequest("appendtime", 0, batch(["a"], { timestamp: 1000 }))),
    );
    expect(res.errorCode).toBe(0);
    expect(Number(res.logAppendTimeMs)).toBeGreaterThanOrEqual(before);
    const fetched = await raw.request(
      FETCH_API,
      11,
      fetchRequest("appendtime", [{ partition: 0, offset: 0n }]),
    );
    const [b] = decodeRecordBatches(fetched.responses[0]!.partitions[0]!.records!, DECODE);
    expect(b?.timestampType).toBe("LogAppendTime");
    expect(b?.header.maxTimestamp).toBe(res.logAppendTimeMs);
  });

  it("follows dynamic broker config changes (log.message.timestamp.type)", async () => {
    const other = await startBroker({});
    try {
      const a = new Kafka({ brokers: [other.bootstrap], logLevel: logLevel.NOTHING }).admin();
      await a.connect();
      await a.createTopics({ topics: [{ topic: "dyn", numPartitions: 1 }] });
      const client = await RawClient.connect(other.port, other.host);
      const before = partitionOf(
        await client.request(PRODUCE_API, 9, produceRequest("dyn", 0, batch(["a"]))),
      );
      expect(before.logAppendTimeMs).toBe(-1n);
      await a.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.BROKER,
            name: String(other.broker.context.nodeId),
            configEntries: [{ name: "log.message.timestamp.type", value: "LogAppendTime" }],
          },
        ],
      });
      const after = partitionOf(await client.request(PRODUCE_API, 9, produceRequest("dyn", 0, batch(["b"]))));
      expect(after.errorCode).toBe(0);
      expect(after.logAppendTimeMs).toBeGreaterThan(0n);
      await client.close();
      await a.disconnect();
    } finally {
      await other.stop();
    }
  });

  it("sends no response for acks=0 and keeps answering later requests", async () => {
    raw.send(PRODUCE_API, 9, produceRequest("plain", 1, batch(["quiet"]), 0));
    const res = await raw.request(FETCH_API, 11, fetchRequest("plain", [{ partition: 1, offset: 0n }]));
    expect(fetchedValues(res, 1)).toEqual(["quiet"]);
  });

  it("long-polls: a fetch waiting for min_bytes is answered by an append", async () => {
    const end = await raw.request(LIST_OFFSETS_API, 7, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [
        {
          name: "poll",
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    const offset = end.topics[0]!.partitions[0]!.offset;
    const consumer = await RawClient.connect(broker.port, broker.host);
    // A 60 s wait inside a test whose timeout is shorter: only the append can answer it in time.
    const waiting = consumer.request(
      FETCH_API,
      11,
      fetchRequest("poll", [{ partition: 0, offset }], { maxWaitMs: 60_000, minBytes: 1 }),
    );
    await new Promise((r) => setTimeout(r, 100));
    const produced = await raw.request(PRODUCE_API, 9, produceRequest("poll", 0, batch(["wake"])));
    expect(partitionOf(produced).errorCode).toBe(0);
    expect(fetchedValues(await waiting)).toEqual(["wake"]);
    await consumer.close();
  }, 10_000);

  it("answers a long-polling fetch at once when the broker stops", async () => {
    const other = await startBroker({});
    try {
      const client = await RawClient.connect(other.port, other.host);
      const k = new Kafka({ brokers: [other.bootstrap], logLevel: logLevel.NOTHING }).admin();
      await k.connect();
      await k.createTopics({ topics: [{ topic: "quiet", numPartitions: 1 }] });
      await k.disconnect();
      let answered = false;
      const waiting = client
        .request(
          FETCH_API,
          11,
          fetchRequest("quiet", [{ partition: 0, offset: 0n }], { maxWaitMs: 60_000, minBytes: 1 }),
        )
        .then((r) => {
          answered = true;
          return r;
        });
      await new Promise((r) => setTimeout(r, 100));
      expect(answered).toBe(false);
      await other.stop();
      // Answered (empty) during the drain; without that the socket server cuts the connection
      // after its grace period and this request fails.
      expect((await waiting).responses[0]!.partitions[0]!.records!.length).toBe(0);
      await client.close();
    } finally {
      await other.stop();
    }
  });

  it("serves incremental fetch sessions with only changed partitions", async () => {
    const full = await raw.request(
      FETCH_API,
      11,
      fetchRequest(
        "poll",
        [
          { partition: 0, offset: 0n },
          { partition: 1, offset: 0n },
        ],
        { sessionId: 0, sessionEpoch: 0 },
      ),
    );
    expect(full.sessionId).toBeGreaterThan(0);
    expect(full.responses[0]!.partitions).toHaveLength(2);
    const [hw0, hw1] = full.responses[0]!.partitions.map((p) => p.highWatermark);
    // The client moves both fetch offsets to the end: nothing changed, so nothing is sent.
    const empty = await raw.request(FETCH_API, 11, {
      ...fetchRequest("poll", [
        { partition: 0, offset: hw0! },
        { partition: 1, offset: hw1! },
      ]),
      sessionId: full.sessionId,
      sessionEpoch: 1,
    });
    expect(empty.errorCode).toBe(0);
    expect(empty.responses).toEqual([]);
    await raw.request(PRODUCE_API, 9, produceRequest("poll", 1, batch(["p1"])));
    const changed = await raw.request(FETCH_API, 11, {
      ...fetchRequest("poll", []),
      topics: [],
      sessionId: full.sessionId,
      sessionEpoch: 2,
    });
    const parts = changed.responses.flatMap((t) => t.partitions);
    expect(parts.map((p) => p.partitionIndex)).toEqual([1]);
    expect(fetchedValues(changed, 1)).toEqual(["p1"]);
    const wrongEpoch = await raw.request(FETCH_API, 11, {
      ...fetchRequest("poll", []),
      topics: [],
      sessionId: full.sessionId,
      sessionEpoch: 7,
    });
    expect(wrongEpoch.errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
  });

  it("fetches by topic id (v13+) and bounds the response by max_bytes with at least one batch", async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: ["plain"] });
    expect(topics).toHaveLength(1);
    const image = broker.broker.context.image();
    const topicId = image.topicsByName.get("plain")!.topicId;
    const byId = await raw.request(FETCH_API, 13, {
      ...fetchRequest("", [{ partition: 0, offset: 0n }], { maxBytes: 1 }),
      topics: [
        {
          topic: "",
          topicId,
          partitions: [0, 1].map((partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1,
            replicaDirectoryId: ZERO_UUID,
            highWatermark: -1n,
          })),
        },
      ],
    });
    expect(byId.responses[0]!.topicId).toBe(topicId);
    const [p0, p1] = byId.responses[0]!.partitions;
    // One whole batch despite the 1-byte limits, then nothing more.
    expect(decodeRecordBatches(p0!.records!, DECODE)).toHaveLength(1);
    expect(p1!.records!.length).toBe(0);
    const unknown = await raw.request(FETCH_API, 13, {
      ...fetchRequest("", []),
      topics: [
        {
          topic: "",
          topicId: "AAAAAAAAAAAAAAAAAAAAAQ",
          partitions: byId.responses[0]!.partitions.map(() => ({
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 100,
            replicaDirectoryId: ZERO_UUID,
            highWatermark: -1n,
          })).slice(0, 1),
        },
      ],
    });
    expect(unknown.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    const outOfRange = await raw.request(
      FETCH_API,
      11,
      fetchRequest("plain", [{ partition: 0, offset: 1000n }]),
    );
    expect(outOfRange.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it("lists offsets by timestamp and max timestamp, and answers OffsetForLeaderEpoch", async () => {
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) {
      await raw.request(
        PRODUCE_API,
        9,
        produceRequest("idem", 0, batch([`t${i}`], { timestamp: t0 + i * 1000 })),
      );
    }
    const list = (timestamp: bigint) =>
      raw
        .request(LIST_OFFSETS_API, 7, {
          replicaId: -1,
          isolationLevel: 0,
          timeoutMs: 0,
          topics: [
            {
              name: "idem",
              partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }],
            },
          ],
        })
        .then((r) => r.topics[0]!.partitions[0]!);
    expect((await list(BigInt(t0 + 500))).offset).toBe(1n);
    expect((await list(-2n)).offset).toBe(0n);
    expect((await list(-1n)).offset).toBe(3n);
    expect(await list(-3n)).toMatchObject({ offset: 2n, timestamp: BigInt(t0 + 2000) });
    expect((await list(BigInt(Date.now() + 60_000))).offset).toBe(-1n);
    const byTime = await admin.fetchTopicOffsetsByTimestamp("idem", t0 + 1500);
    expect(byTime[0]?.offset).toBe("2");

    const epochs = await raw.request(OFFSET_FOR_LEADER_EPOCH_API, 4, {
      replicaId: -2,
      topics: [{ topic: "idem", partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    });
    expect(epochs.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 3n });
  });

  it("deletes records up to an offset and refuses compacted topics and offsets past the end", async () => {
    const del = (topic: string, offset: bigint) =>
      raw
        .request(DELETE_RECORDS_API, 2, {
          timeoutMs: 1000,
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset }] }],
        })
        .then((r) => r.topics[0]!.partitions[0]!);
    expect(await del("plain", 2n)).toMatchObject({ errorCode: 0, lowWatermark: 2n });
    expect((await del("plain", 10_000n)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await del("compacted", 0n)).errorCode).toBe(ErrorCode.POLICY_VIOLATION);
    const gone = await raw.request(FETCH_API, 11, fetchRequest("plain", [{ partition: 0, offset: 0n }]));
    expect(gone.responses[0]!.partitions[0]).toMatchObject({
      errorCode: ErrorCode.OFFSET_OUT_OF_RANGE,
      logStartOffset: 2n,
    });
    await admin.deleteTopicRecords({ topic: "plain", partitions: [{ partition: 0, offset: "3" }] });
    expect((await admin.fetchTopicOffsets("plain")).find((o) => o.partition === 0)?.low).toBe("3");
  });

  it("deduplicates idempotent retries, rejects gaps and stale epochs, and keeps that across a restart", async () => {
    const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
      enable2Pc: false,
      keepPreparedTxn: false,
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    expect(init.errorCode).toBe(0);
    const producerId = init.producerId;
    const again = await raw.request(INIT_PRODUCER_ID_API, 4, {
      enable2Pc: false,
      keepPreparedTxn: false,
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    expect(again.producerId).not.toBe(producerId);

    const send = (seq: number, values: string[], epoch = 0) =>
      raw
        .request(
          PRODUCE_API,
          9,
          produceRequest("idem", 0, batch(values, { producerId, producerEpoch: epoch, baseSequence: seq })),
        )
        .then(partitionOf);
    const first = await send(0, ["a", "b"]);
    expect(first.errorCode).toBe(0);
    const second = await send(2, ["c"]);
    expect(second.errorCode).toBe(0);
    expect((await send(0, ["a", "b"])).baseOffset).toBe(first.baseOffset);
    expect((await send(5, ["gap"])).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await send(3, ["d"], 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect((await send(0, ["e"], 1)).errorCode).toBe(0);
    expect((await send(3, ["stale"], 0)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);

    // Restart on the same data: producer state comes back from the snapshot and the log.
    await stop();
    await start();
    const retry = await send(0, ["e"], 1);
    expect(retry.errorCode).toBe(0);
    const lastOffset = await raw.request(LIST_OFFSETS_API, 7, {
      replicaId: -1,
      isolationLevel: 0,
      timeoutMs: 0,
      topics: [
        {
          name: "idem",
          partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
        },
      ],
    });
    expect(retry.baseOffset).toBe(lastOffset.topics[0]!.partitions[0]!.offset - 1n);
    expect((await send(1, ["f"], 1)).errorCode).toBe(0);
    expect((await send(3, ["gap"], 1)).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const fresh = await raw.request(INIT_PRODUCER_ID_API, 4, {
      enable2Pc: false,
      keepPreparedTxn: false,
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    expect(fresh.producerId).toBeGreaterThan(again.producerId);
  }, 30_000);
});

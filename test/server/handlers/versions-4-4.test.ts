/**
 * The versions Kafka 4.4.0 added to APIs Krill already served, one test per new version, through
 * the generated codecs on the wire: ApiVersions v5 (KIP-1242 cluster and node check), Metadata
 * v13 (top-level error code), ListOffsets v11 (earliest pending upload), DescribeLogDirs v5
 * (cordoned flag), DescribeCluster v2 (fenced brokers), ListTransactions v2 (id pattern),
 * Produce v12-13 (v13: topic ids), Fetch v18 (a follower's high watermark, KIP-1166) and
 * WriteTxnMarkers v2 (the marker's transaction version, KIP-1228).
 */

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  ADD_PARTITIONS_TO_TXN_API,
  API_VERSIONS_API,
  CREATE_TOPICS_API,
  DESCRIBE_CLUSTER_API,
  DESCRIBE_LOG_DIRS_API,
  FETCH_API,
  INIT_PRODUCER_ID_API,
  LIST_OFFSETS_API,
  LIST_TRANSACTIONS_API,
  METADATA_API,
  PRODUCE_API,
  WRITE_TXN_MARKERS_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { defaultFetchRequest } from "../../../src/protocol/generated/fetch-request.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { buildRecordBatch, decodeRecordBatches } from "../../../src/protocol/records/record-batch.js";
import { registerAndUnfence, registration } from "../../metadata/cluster-helpers.js";
import { RawClient } from "../partitions/raw-client.js";

let broker: BrokerHandle;
let raw: RawClient;

beforeAll(async () => {
  broker = await startBroker({ "num.partitions": 1, "transaction.state.log.num.partitions": 1 });
  raw = await RawClient.connect(broker.port, broker.host);
  const created = await raw.request(CREATE_TOPICS_API, 7, {
    topics: [{ name: "v44", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5_000,
    validateOnly: false,
  });
  expect(created.topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  await raw?.close();
  await broker?.stop();
});

function served(apiKey: number): number {
  return broker.broker.context.registry.get(apiKey)!.maxVersion;
}

describe("ApiVersions v5 (KIP-1242)", () => {
  const ask = (clusterId: string | null, nodeId: number, name = "krill-test") =>
    raw.request(API_VERSIONS_API, 5, {
      clientSoftwareName: name,
      clientSoftwareVersion: "1.0",
      clusterId,
      nodeId,
    });

  it("answers with the API list when the cluster and node match, or neither is named", async () => {
    expect(served(18)).toBe(5);
    const { clusterId, nodeId } = broker.broker.context;
    for (const [cluster, node] of [
      [clusterId, nodeId],
      [null, -1],
    ] as const) {
      const res = await ask(cluster, node);
      expect(res.errorCode).toBe(ErrorCode.NONE);
      expect(res.apiKeys.find((k) => k.apiKey === 18)).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 5 });
    }
  });

  it("REBOOTSTRAP_REQUIRED for another cluster or node; INVALID_REQUEST for one without the other", async () => {
    const { clusterId, nodeId } = broker.broker.context;
    const cases: [string | null, number, number][] = [
      ["another-cluster", nodeId, ErrorCode.REBOOTSTRAP_REQUIRED],
      [clusterId, nodeId + 1, ErrorCode.REBOOTSTRAP_REQUIRED],
      [clusterId, -5, ErrorCode.REBOOTSTRAP_REQUIRED],
      ["", nodeId, ErrorCode.REBOOTSTRAP_REQUIRED],
      [null, nodeId, ErrorCode.INVALID_REQUEST],
      [clusterId, -1, ErrorCode.INVALID_REQUEST],
    ];
    for (const [cluster, node, errorCode] of cases) {
      const res = await ask(cluster, node);
      expect({ cluster, node, errorCode: res.errorCode, apiKeys: res.apiKeys }).toEqual({
        cluster,
        node,
        errorCode,
        apiKeys: [],
      });
    }
    // A software name Kafka's pattern refuses is INVALID_REQUEST first, without the list (v3+).
    for (const version of [3, 5]) {
      const res = await raw.request(API_VERSIONS_API, version, {
        clientSoftwareName: "-bad",
        clientSoftwareVersion: "1",
        clusterId: "another-cluster",
        nodeId: 1,
      });
      expect([res.errorCode, res.apiKeys]).toEqual([ErrorCode.INVALID_REQUEST, []]);
    }
    expect(raw.closed).toBe(false);
  });
});

describe("Metadata v13", () => {
  it("carries the top-level error code, NONE, beside the same answer as v12", async () => {
    expect(served(3)).toBe(13);
    const req = {
      topics: [{ name: "v44", topicId: "AAAAAAAAAAAAAAAAAAAAAA" }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    };
    const v13 = await raw.request(METADATA_API, 13, req);
    const v12 = await raw.request(METADATA_API, 12, req);
    expect(v13.errorCode).toBe(ErrorCode.NONE);
    expect(v13.topics).toEqual(v12.topics);
    expect(v13.brokers).toEqual(v12.brokers);
  });
});

describe("ListOffsets v11", () => {
  const ask = async (version: number, timestamp: bigint) =>
    (
      await raw.request(LIST_OFFSETS_API, version, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 0,
        topics: [{ name: "v44", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
      })
    ).topics[0]!.partitions[0]!;

  it("earliest pending upload (-6) is -1 without tiered storage from v11, UNSUPPORTED_VERSION below", async () => {
    expect(served(2)).toBe(11);
    expect(await ask(11, -6n)).toMatchObject({ errorCode: ErrorCode.NONE, offset: -1n, timestamp: -1n });
    expect((await ask(10, -6n)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect((await ask(11, -7n)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(await ask(11, -1n)).toMatchObject({ errorCode: ErrorCode.NONE, offset: 0n });
  });
});

describe("DescribeLogDirs v5", () => {
  it("reports each directory as not cordoned, with v4's sizes", async () => {
    expect(served(35)).toBe(5);
    const res = await raw.request(DESCRIBE_LOG_DIRS_API, 5, { topics: null });
    expect(res.results.length).toBeGreaterThan(0);
    for (const dir of res.results) {
      expect(dir.isCordoned).toBe(false);
      expect(dir.totalBytes).toBeGreaterThan(0n);
    }
    expect(res.results.flatMap((d) => d.topics.map((t) => t.name))).toContain("v44");
  });
});

describe("DescribeCluster v2 (KIP-1073)", () => {
  it("lists fenced brokers only when asked, with is_fenced", async () => {
    expect(served(60)).toBe(2);
    const context = broker.broker.context;
    // Registered, never heartbeating: fenced.
    await context.controller.registerBroker(
      registration(context.nodeId + 1, {
        clusterId: context.clusterId,
        incarnationId: "AAAAAAAAAAAAAAAAAAAAAQ",
        listeners: [{ name: "PLAINTEXT", host: "127.0.0.9", port: 9, securityProtocol: 0 }],
      }),
    );
    const ask = (version: number, includeFencedBrokers: boolean) =>
      raw.request(DESCRIBE_CLUSTER_API, version, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
        includeFencedBrokers,
      });
    const withFenced = await ask(2, true);
    expect(withFenced.brokers.map((b) => [b.brokerId, b.isFenced])).toEqual([
      [context.nodeId, false],
      [context.nodeId + 1, true],
    ]);
    expect(withFenced.brokers[1]).toMatchObject({ host: "127.0.0.9", port: 9 });
    expect((await ask(2, false)).brokers.map((b) => b.brokerId)).toEqual([context.nodeId]);
    expect((await ask(1, false)).brokers.map((b) => b.brokerId)).toEqual([context.nodeId]);
  });
});

describe("ListTransactions v2 (KIP-1152)", () => {
  it("filters by a whole-id regular expression; a bad one is INVALID_REGULAR_EXPRESSION", async () => {
    expect(served(66)).toBe(2);
    for (const transactionalId of ["orders-1", "orders-2", "payments-1"]) {
      const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
        transactionalId,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
        enable2Pc: false,
        keepPreparedTxn: false,
      });
      expect(init.errorCode).toBe(ErrorCode.NONE);
    }
    const list = async (transactionalIdPattern: string | null, version = 2) => {
      const res = await raw.request(LIST_TRANSACTIONS_API, version, {
        stateFilters: [],
        producerIdFilters: [],
        durationFilter: -1n,
        transactionalIdPattern,
      });
      return { errorCode: res.errorCode, ids: res.transactionStates.map((t) => t.transactionalId).sort() };
    };
    const all = { errorCode: 0, ids: ["orders-1", "orders-2", "payments-1"] };
    expect(await list("orders-.*")).toEqual({ errorCode: 0, ids: ["orders-1", "orders-2"] });
    // Whole-id match, as RE2J's Matcher.matches: a pattern matching part of an id selects nothing.
    expect(await list("orders")).toEqual({ errorCode: 0, ids: [] });
    expect(await list(".*-1")).toEqual({ errorCode: 0, ids: ["orders-1", "payments-1"] });
    expect(await list(null)).toEqual(all);
    expect(await list("")).toEqual(all);
    // v1 has no pattern field: everything.
    expect(await list(null, 1)).toEqual(all);
    for (const bad of ["orders-(", "(a)\\1", "(?=o)orders-1"]) {
      expect(await list(bad)).toEqual({ errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, ids: [] });
    }
  });
});

const batch = (...values: string[]) =>
  buildRecordBatch({
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    records: values.map((value) => ({ timestamp: Date.now(), key: null, value })),
  });

function topicId(name: string): string {
  return broker.broker.context.image().topicsByName.get(name)!.topicId;
}

describe("Produce v12-13", () => {
  const produce = (version: number, topic: { name: string; topicId: string }, records: Buffer) =>
    raw.request(PRODUCE_API, version, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5_000,
      topicData: [{ ...topic, partitionData: [{ index: 0, records }] }],
    });

  it("v12 appends as v11; v13 names the topic by id and answers with the id", async () => {
    expect(served(0)).toBe(13);
    const v12 = await produce(12, { name: "v44", topicId: ZERO_UUID }, batch("a"));
    expect(v12.responses[0]).toMatchObject({ name: "v44", partitionResponses: [{ errorCode: 0 }] });
    const id = topicId("v44");
    const v13 = await produce(13, { name: "", topicId: id }, batch("b", "c"));
    const answer = v13.responses[0]!;
    expect(answer.topicId).toBe(id);
    expect(answer.partitionResponses[0]).toMatchObject({ index: 0, errorCode: 0 });
    expect(answer.partitionResponses[0]!.baseOffset).toBe(
      v12.responses[0]!.partitionResponses[0]!.baseOffset + 1n,
    );
  });

  it("v13 with an unknown topic id: UNKNOWN_TOPIC_ID for each partition, nothing appended", async () => {
    const before = broker.broker.context.partitions.lookup("v44", 0);
    const end = before.ok ? before.partition.highWatermark : -1;
    const res = await produce(13, { name: "", topicId: "AAAAAAAAAAAAAAAAAAAAAQ" }, batch("lost"));
    expect(res.responses[0]!.topicId).toBe("AAAAAAAAAAAAAAAAAAAAAQ");
    expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
    const after = broker.broker.context.partitions.lookup("v44", 0);
    expect(after.ok && after.partition.highWatermark).toBe(end);
  });
});

describe("Fetch v18 (KIP-1166)", () => {
  // A partition led here with a second replica on a broker registered (unfenced) for the purpose,
  // so this test can fetch as that follower.
  const TOPIC = "v44-replicated";
  const follower = () => broker.broker.context.nodeId + 2;
  const fetch = (replicaId: number, fetchOffset: bigint, highWatermark: bigint, maxWaitMs: number) =>
    raw.request(FETCH_API, 18, {
      ...defaultFetchRequest(),
      replicaState: { replicaId, replicaEpoch: -1n },
      maxWaitMs,
      minBytes: 1 << 20,
      maxBytes: 1 << 20,
      topics: [
        {
          topic: "",
          topicId: topicId(TOPIC),
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset,
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
              replicaDirectoryId: ZERO_UUID,
              highWatermark,
            },
          ],
        },
      ],
    });

  it("a follower behind the leader's high watermark is answered at once, not held for min_bytes", async () => {
    expect(served(1)).toBe(18);
    const context = broker.broker.context;
    await registerAndUnfence(context.controller, follower(), () => context.image().offset, {
      clusterId: context.clusterId,
      incarnationId: "AAAAAAAAAAAAAAAAAAAAAg",
      listeners: [{ name: "PLAINTEXT", host: "127.0.0.9", port: 10, securityProtocol: 0 }],
    });
    const created = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [
        {
          name: TOPIC,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [broker.broker.context.nodeId, follower()] }],
          configs: [],
        },
      ],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
    const produced = await raw.request(PRODUCE_API, 11, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5_000,
      topicData: [{ name: TOPIC, topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch("x") }] }],
    });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    // The follower has the record (fetches from its log end, 1) and last saw high watermark 0. This
    // fetch moves the leader's high watermark to 1; max_wait 10 minutes and min_bytes 1 MiB: only
    // the KIP-1166 rule answers it before the test's timeout.
    const res = await fetch(follower(), 1n, 0n, 600_000);
    const p = res.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(ErrorCode.NONE);
    // The answer carries the high watermark read before the fetch was recorded, as Kafka's
    // Partition.fetchRecords reads then updates; the follower's next fetch learns the new one.
    expect(p.highWatermark).toBe(0n);
    const again = await fetch(follower(), 1n, 0n, 600_000);
    expect(again.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1n });
  });

  it("a follower already at the leader's high watermark, or a consumer, waits for min_bytes as before", async () => {
    const waited = await fetch(follower(), 1n, 1n, 300);
    expect(waited.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1n });
    const consumer = await fetch(-1, 0n, 0n, 300);
    const p = consumer.responses[0]!.partitions[0]!;
    expect(p.errorCode).toBe(ErrorCode.NONE);
    const values = decodeRecordBatches(p.records!, { decompressedBytesMax: 1 << 20 }).flatMap((b) =>
      b.records.map((r) => r.value?.toString()),
    );
    expect(values).toEqual(["x"]);
  });
});

describe("ApiVersions features (kafka-features describe)", () => {
  it("v4 lists every feature Kafka 4.4 knows at Krill's ranges; finalized only levels above 0", async () => {
    const res = await raw.request(API_VERSIONS_API, 4, {
      clientSoftwareName: "t",
      clientSoftwareVersion: "1",
      clusterId: null,
      nodeId: -1,
    });
    expect(res.supportedFeatures.map((f) => [f.name, f.minVersion, f.maxVersion])).toEqual([
      ["eligible.leader.replicas.version", 0, 0],
      ["group.version", 0, 1],
      ["kraft.version", 0, 1],
      ["metadata.version", 7, 25],
      ["share.version", 0, 0],
      ["streams.version", 0, 0],
      ["transaction.version", 0, 2],
    ]);
    expect(res.finalizedFeatures.map((f) => [f.name, f.minVersionLevel, f.maxVersionLevel])).toEqual([
      ["group.version", 1, 1],
      ["kraft.version", 1, 1],
      ["metadata.version", 25, 25],
      ["transaction.version", 2, 2],
    ]);
    expect(res.finalizedFeaturesEpoch).toBe(BigInt(broker.broker.context.image().offset));
  });
});

describe("WriteTxnMarkers v2 (KIP-1228)", () => {
  it("a transactions-v2 marker needs an epoch newer than the producer's; v1 accepts the producer's own", async () => {
    expect(served(27)).toBe(2);
    const init = await raw.request(INIT_PRODUCER_ID_API, 4, {
      transactionalId: "markers-tx",
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
      enable2Pc: false,
      keepPreparedTxn: false,
    });
    const { producerId, producerEpoch } = init;
    const added = await raw.request(ADD_PARTITIONS_TO_TXN_API, 3, {
      transactions: [],
      v3AndBelowTransactionalId: "markers-tx",
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: "v44", partitions: [0] }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
    const records = buildRecordBatch({
      producerId,
      producerEpoch,
      baseSequence: 0,
      transactional: true,
      records: [{ timestamp: Date.now(), key: null, value: "in-txn" }],
    });
    const produced = await raw.request(PRODUCE_API, 11, {
      transactionalId: "markers-tx",
      acks: -1,
      timeoutMs: 5_000,
      topicData: [{ name: "v44", topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
    });
    expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    const marker = (version: number, epoch: number, transactionVersion: number) =>
      raw
        .request(WRITE_TXN_MARKERS_API, version, {
          markers: [
            {
              producerId,
              producerEpoch: epoch,
              transactionResult: false,
              coordinatorEpoch: 0,
              topics: [{ name: "v44", partitionIndexes: [0] }],
              transactionVersion,
            },
          ],
        })
        .then((r) => r.markers[0]!.topics[0]!.partitions[0]!.errorCode);
    // The producer's own epoch, in a v2 marker while the transaction is open: refused.
    expect(await marker(2, producerEpoch, 2)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    // The bumped epoch, as a transactions-v2 coordinator writes it: accepted, and its retry too.
    expect(await marker(2, producerEpoch + 1, 2)).toBe(ErrorCode.NONE);
    expect(await marker(2, producerEpoch + 1, 2)).toBe(ErrorCode.NONE);
    // Legacy markers (v1, or v2 with transaction version 0) keep Kafka's older rule: not older.
    expect(await marker(1, producerEpoch + 1, 0)).toBe(ErrorCode.NONE);
    expect(await marker(2, producerEpoch, 1)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });
});

/**
 * The KRaft RPCs on the wire: a pure mapping between the core's flat messages (types.ts) and the
 * generated codecs of Vote (52), BeginQuorumEpoch (53), EndQuorumEpoch (54), DescribeQuorum (55),
 * FetchSnapshot (59) and Fetch (1), shaped as Kafka's RaftUtil builds them: one topic
 * (`__cluster_metadata`, by name, and for Fetch by Kafka's topic id `Uuid.METADATA_TOPIC_ID`), one
 * partition (0).
 *
 * Versions: requests are built for the version the connection negotiates (the highest both sides
 * serve, as Kafka's KafkaNetworkChannel leaves it to its NetworkClient): against Kafka 4.4 and
 * Krill that is Vote v2, BeginQuorumEpoch v1, EndQuorumEpoch v1, Fetch v18, FetchSnapshot v1,
 * DescribeQuorum v2. A pre-vote cannot be written below Vote v2 (the codec refuses it).
 *
 * Errors: INCONSISTENT_CLUSTER_ID and a request for another topic or partition (INVALID_REQUEST,
 * UNKNOWN_TOPIC_OR_PARTITION for DescribeQuorum) are top-level answers without partitions, as
 * Kafka answers them; everything else the core answers is partition-level. A top-level error read
 * from the wire becomes a response with that error and no leader (-1, epoch -1).
 *
 * Records: a RaftBatch is one magic-2 batch with the epoch as partitionLeaderEpoch, written by
 * kraft-records.ts exactly as the log stores it (data: keys null, every timestamp the append time;
 * LeaderChangeMessage: a control batch). Decoding checks every CRC and ignores a partial batch at
 * the end of a Fetch answer, which Kafka's consumers ignore too.
 */
import assert from "node:assert/strict";
import { KrillError } from "../errors.js";
import { dataBatch, leaderChangeBatch } from "../metadata/kraft-records.js";
import { METADATA_TOPIC } from "../metadata/metadata-log.js";
import { METADATA_BATCH_BYTES_MAX } from "../metadata/segment-log.js";
import {
  type ApiDescriptor,
  BEGIN_QUORUM_EPOCH_API,
  DESCRIBE_QUORUM_API,
  END_QUORUM_EPOCH_API,
  FETCH_API,
  FETCH_SNAPSHOT_API,
  VOTE_API,
} from "../protocol/generated/apis.js";
import type { BeginQuorumEpochRequest as WireBeginQuorumEpochRequest } from "../protocol/generated/begin-quorum-epoch-request.js";
import type { BeginQuorumEpochResponse as WireBeginQuorumEpochResponse } from "../protocol/generated/begin-quorum-epoch-response.js";
import type { DescribeQuorumRequest as WireDescribeQuorumRequest } from "../protocol/generated/describe-quorum-request.js";
import type {
  DescribeQuorumResponse as WireDescribeQuorumResponse,
  DescribeQuorumResponseReplicaState as WireReplicaState,
} from "../protocol/generated/describe-quorum-response.js";
import type { EndQuorumEpochRequest as WireEndQuorumEpochRequest } from "../protocol/generated/end-quorum-epoch-request.js";
import type { EndQuorumEpochResponse as WireEndQuorumEpochResponse } from "../protocol/generated/end-quorum-epoch-response.js";
import type { FetchRequest as WireFetchRequest } from "../protocol/generated/fetch-request.js";
import type { FetchResponse as WireFetchResponse } from "../protocol/generated/fetch-response.js";
import type { FetchSnapshotRequest as WireFetchSnapshotRequest } from "../protocol/generated/fetch-snapshot-request.js";
import type { FetchSnapshotResponse as WireFetchSnapshotResponse } from "../protocol/generated/fetch-snapshot-response.js";
import { decodeLeaderChangeMessage } from "../protocol/generated/leader-change-message.js";
import type { VoteRequest as WireVoteRequest } from "../protocol/generated/vote-request.js";
import type { VoteResponse as WireVoteResponse } from "../protocol/generated/vote-response.js";
import { Reader } from "../protocol/primitives/reader.js";
import { METADATA_TOPIC_ID, ZERO_UUID } from "../protocol/primitives/uuid.js";
import { probeBatch } from "../protocol/records/batch-iterator.js";
import { ControlRecordType, parseControlRecordKey } from "../protocol/records/control-records.js";
import { decodeRecordBatch } from "../protocol/records/record-batch.js";
import {
  Errors,
  type FetchResponse,
  type FetchSnapshotResponse,
  type RaftBatch,
  type RaftRecord,
  type RaftRequest,
  type RaftResponse,
  type ReplicaDescription,
} from "./types.js";

export const METADATA_PARTITION = 0;
export { METADATA_TOPIC, METADATA_TOPIC_ID };

const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** Fetch v18's HighWatermark default: the fetcher does not know the field (KIP-1166). */
const HIGH_WATERMARK_UNSUPPORTED = 9223372036854775807n;

/** A listener of a voter, for the NodeEndpoints / LeaderEndpoints / Nodes fields. */
export interface RaftEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

/** Voters' controller-listener endpoints, by node id (controller.quorum.voters). */
export type RaftEndpoints = ReadonlyMap<number, RaftEndpoint>;

export type RaftApiName = RaftRequest["api"];

/** The generated descriptor of each quorum RPC. */
export const RAFT_APIS = {
  Vote: VOTE_API,
  BeginQuorumEpoch: BEGIN_QUORUM_EPOCH_API,
  EndQuorumEpoch: END_QUORUM_EPOCH_API,
  Fetch: FETCH_API,
  FetchSnapshot: FETCH_SNAPSHOT_API,
  DescribeQuorum: DESCRIBE_QUORUM_API,
} as const satisfies Record<RaftApiName, ApiDescriptor>;

const API_BY_KEY = new Map<number, RaftApiName>(
  Object.entries(RAFT_APIS).map(([name, api]) => [api.apiKey, name as RaftApiName]),
);

/** The quorum RPC an api key names, or undefined for any other API. */
export function raftApiName(apiKey: number): RaftApiName | undefined {
  return API_BY_KEY.get(apiKey);
}

// ---- requests: core -> wire (outbound) -------------------------------------------------------

/**
 * The wire body of `request` at `version`. `endpoints` gives BeginQuorumEpoch v1 its
 * LeaderEndpoints (the leader's controller listeners).
 */
export function toWireRequest(request: RaftRequest, version: number, endpoints?: RaftEndpoints): unknown {
  switch (request.api) {
    case "Vote":
      return {
        clusterId: request.clusterId,
        voterId: request.voterId,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                replicaEpoch: request.replicaEpoch,
                replicaId: request.replicaId,
                replicaDirectoryId: ZERO_UUID,
                voterDirectoryId: ZERO_UUID,
                lastOffsetEpoch: request.lastOffsetEpoch,
                lastOffset: BigInt(request.lastOffset),
                preVote: request.preVote,
              },
            ],
          },
        ],
      } satisfies WireVoteRequest;
    case "BeginQuorumEpoch": {
      const leader = endpoints?.get(request.leaderId);
      return {
        clusterId: request.clusterId,
        voterId: request.voterId,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                voterDirectoryId: ZERO_UUID,
                leaderId: request.leaderId,
                leaderEpoch: request.leaderEpoch,
              },
            ],
          },
        ],
        leaderEndpoints:
          version >= 1 && leader !== undefined
            ? [{ name: leader.name, host: leader.host, port: leader.port }]
            : [],
      } satisfies WireBeginQuorumEpochRequest;
    }
    case "EndQuorumEpoch":
      return {
        clusterId: request.clusterId,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                leaderId: request.leaderId,
                leaderEpoch: request.leaderEpoch,
                // v0 names successors by id, v1 as (id, directory id) candidates; Kafka fills
                // the field of the version it writes.
                preferredSuccessors: version === 0 ? [...request.preferredCandidates] : [],
                preferredCandidates:
                  version >= 1
                    ? request.preferredCandidates.map((id) => ({
                        candidateId: id,
                        candidateDirectoryId: ZERO_UUID,
                      }))
                    : [],
              },
            ],
          },
        ],
        leaderEndpoints: [],
      } satisfies WireEndQuorumEpochRequest;
    case "Fetch":
      return {
        clusterId: request.clusterId,
        replicaId: version <= 14 ? request.replicaId : -1,
        replicaState: { replicaId: version >= 15 ? request.replicaId : -1, replicaEpoch: -1n },
        maxWaitMs: request.maxWaitMs,
        minBytes: 0,
        maxBytes: request.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic: version < 13 ? METADATA_TOPIC : "",
            topicId: version >= 13 ? METADATA_TOPIC_ID : ZERO_UUID,
            partitions: [
              {
                partition: METADATA_PARTITION,
                currentLeaderEpoch: request.currentLeaderEpoch,
                fetchOffset: BigInt(request.fetchOffset),
                lastFetchedEpoch: request.lastFetchedEpoch,
                logStartOffset: -1n,
                partitionMaxBytes: 0,
                replicaDirectoryId: ZERO_UUID,
                highWatermark: version >= 18 ? BigInt(request.highWatermark) : HIGH_WATERMARK_UNSUPPORTED,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: "",
      } satisfies WireFetchRequest;
    case "FetchSnapshot":
      return {
        clusterId: request.clusterId,
        replicaId: request.replicaId,
        maxBytes: request.maxBytes,
        topics: [
          {
            name: METADATA_TOPIC,
            partitions: [
              {
                partition: METADATA_PARTITION,
                currentLeaderEpoch: request.currentLeaderEpoch,
                snapshotId: { endOffset: BigInt(request.snapshotId.offset), epoch: request.snapshotId.epoch },
                position: BigInt(request.position),
                replicaDirectoryId: ZERO_UUID,
              },
            ],
          },
        ],
      } satisfies WireFetchSnapshotRequest;
    case "DescribeQuorum":
      return {
        topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: METADATA_PARTITION }] }],
      } satisfies WireDescribeQuorumRequest;
  }
}

// ---- requests: wire -> core (inbound) --------------------------------------------------------

/** An inbound request the core can take, or the top-level answer it gets without the core. */
export type InboundRequest =
  | { readonly ok: true; readonly request: RaftRequest }
  | { readonly ok: false; readonly response: unknown };

/** The core's request in a decoded wire request of `api` at `version` (Kafka's checks on topic and partition). */
export function fromWireRequest(api: RaftApiName, body: unknown, version: number): InboundRequest {
  switch (api) {
    case "Vote": {
      const r = body as WireVoteRequest;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (p === null) return invalid(api, Errors.INVALID_REQUEST);
      return ok({
        api,
        clusterId: r.clusterId,
        voterId: r.voterId,
        replicaEpoch: p.replicaEpoch,
        replicaId: p.replicaId,
        lastOffsetEpoch: p.lastOffsetEpoch,
        lastOffset: offset(p.lastOffset),
        preVote: p.preVote,
      });
    }
    case "BeginQuorumEpoch": {
      const r = body as WireBeginQuorumEpochRequest;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (p === null) return invalid(api, Errors.INVALID_REQUEST);
      return ok({
        api,
        clusterId: r.clusterId,
        voterId: r.voterId,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
      });
    }
    case "EndQuorumEpoch": {
      const r = body as WireEndQuorumEpochRequest;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (p === null) return invalid(api, Errors.INVALID_REQUEST);
      return ok({
        api,
        clusterId: r.clusterId,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        preferredCandidates:
          version >= 1 ? p.preferredCandidates.map((c) => c.candidateId) : p.preferredSuccessors,
      });
    }
    case "Fetch": {
      const r = body as WireFetchRequest;
      // Kafka matches the topic by id only (RaftUtil.hasValidTopicPartition): a raft Fetch is v13+.
      const p = singlePartition(
        r.topics,
        (t) => t.topicId === METADATA_TOPIC_ID,
        (x) => x.partition,
      );
      if (p === null) return invalid(api, Errors.INVALID_REQUEST);
      return ok({
        api,
        clusterId: r.clusterId,
        replicaId: version >= 15 ? r.replicaState.replicaId : r.replicaId,
        maxWaitMs: r.maxWaitMs,
        maxBytes: r.maxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        fetchOffset: offset(p.fetchOffset),
        lastFetchedEpoch: p.lastFetchedEpoch,
        // A fetcher without the field (v17-) is never answered early on the high watermark alone.
        highWatermark:
          p.highWatermark === HIGH_WATERMARK_UNSUPPORTED ? Number.MAX_SAFE_INTEGER : offset(p.highWatermark),
      });
    }
    case "FetchSnapshot": {
      const r = body as WireFetchSnapshotRequest;
      const p = singlePartition(
        r.topics,
        (t) => t.name === METADATA_TOPIC,
        (x) => x.partition,
      );
      if (p === null) return invalid(api, Errors.INVALID_REQUEST);
      return ok({
        api,
        clusterId: r.clusterId,
        replicaId: r.replicaId,
        maxBytes: r.maxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        snapshotId: { offset: offset(p.snapshotId.endOffset), epoch: p.snapshotId.epoch },
        position: offset(p.position),
      });
    }
    case "DescribeQuorum": {
      const r = body as WireDescribeQuorumRequest;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (p === null) {
        // Kafka answers each partition asked for with UNKNOWN_TOPIC_OR_PARTITION.
        const response: WireDescribeQuorumResponse = {
          errorCode: Errors.NONE,
          errorMessage: null,
          topics: r.topics.map((t) => ({
            topicName: t.topicName,
            partitions: t.partitions.map((q) =>
              describePartitionError(q.partitionIndex, UNKNOWN_TOPIC_OR_PARTITION),
            ),
          })),
          nodes: [],
        };
        return { ok: false, response };
      }
      return ok({ api });
    }
  }
}

function ok(request: RaftRequest): InboundRequest {
  return { ok: true, request };
}

function invalid(api: RaftApiName, errorCode: number): InboundRequest {
  return { ok: false, response: topLevelErrorResponse(api, errorCode) };
}

/** The one partition of the one topic a quorum request must name, or null. */
function singlePartition<T extends { partitions: readonly unknown[] }>(
  topics: readonly T[],
  isMetadataTopic: (t: T) => boolean,
  index: (p: T["partitions"][number]) => number,
): T["partitions"][number] | null {
  if (topics.length !== 1 || !isMetadataTopic(topics[0]!)) return null;
  const partitions = topics[0]!.partitions;
  if (partitions.length !== 1 || index(partitions[0]) !== METADATA_PARTITION) return null;
  return partitions[0];
}

/** An int64 offset from the wire as the core's number (offsets are JS safe integers). */
function offset(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new KrillError("DECODE_ERROR", `offset ${v} is beyond the safe integer range`);
  }
  return Number(v);
}

// ---- responses: core -> wire (inbound requests answered) -------------------------------------

/** A response with only a top-level error (Kafka's RaftUtil.errorResponse). */
export function topLevelErrorResponse(api: RaftApiName, errorCode: number): unknown {
  switch (api) {
    case "Vote":
      return { errorCode, topics: [], nodeEndpoints: [] } satisfies WireVoteResponse;
    case "BeginQuorumEpoch":
      return { errorCode, topics: [], nodeEndpoints: [] } satisfies WireBeginQuorumEpochResponse;
    case "EndQuorumEpoch":
      return { errorCode, topics: [], nodeEndpoints: [] } satisfies WireEndQuorumEpochResponse;
    case "Fetch":
      return {
        throttleTimeMs: 0,
        errorCode,
        sessionId: 0,
        responses: [],
        nodeEndpoints: [],
      } satisfies WireFetchResponse;
    case "FetchSnapshot":
      return {
        throttleTimeMs: 0,
        errorCode,
        topics: [],
        nodeEndpoints: [],
      } satisfies WireFetchSnapshotResponse;
    case "DescribeQuorum":
      return { errorCode, errorMessage: null, topics: [], nodes: [] } satisfies WireDescribeQuorumResponse;
  }
}

/**
 * The wire body answering with `response` at `version`. `endpoints` fills NodeEndpoints (the
 * leader's, when it is known) and DescribeQuorum v2's Nodes (every voter's), as Kafka does.
 */
export function toWireResponse(response: RaftResponse, version: number, endpoints?: RaftEndpoints): unknown {
  if (response.errorCode === Errors.INCONSISTENT_CLUSTER_ID) {
    return topLevelErrorResponse(response.api, response.errorCode);
  }
  const leader = response.leaderId >= 0 ? endpoints?.get(response.leaderId) : undefined;
  const nodeEndpoints =
    leader === undefined ? [] : [{ nodeId: response.leaderId, host: leader.host, port: leader.port }];
  const leaderAndEpoch = {
    errorCode: response.errorCode,
    leaderId: response.leaderId,
    leaderEpoch: response.leaderEpoch,
  };
  switch (response.api) {
    case "Vote":
      return {
        errorCode: Errors.NONE,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [
              { partitionIndex: METADATA_PARTITION, ...leaderAndEpoch, voteGranted: response.voteGranted },
            ],
          },
        ],
        nodeEndpoints: version >= 1 ? nodeEndpoints : [],
      } satisfies WireVoteResponse;
    case "BeginQuorumEpoch":
    case "EndQuorumEpoch":
      return {
        errorCode: Errors.NONE,
        topics: [
          {
            topicName: METADATA_TOPIC,
            partitions: [{ partitionIndex: METADATA_PARTITION, ...leaderAndEpoch }],
          },
        ],
        nodeEndpoints: version >= 1 ? nodeEndpoints : [],
      } satisfies WireBeginQuorumEpochResponse & WireEndQuorumEpochResponse;
    case "Fetch":
      return {
        throttleTimeMs: 0,
        errorCode: Errors.NONE,
        sessionId: 0,
        responses: [
          {
            topic: version < 13 ? METADATA_TOPIC : "",
            topicId: version >= 13 ? METADATA_TOPIC_ID : ZERO_UUID,
            partitions: [
              {
                partitionIndex: METADATA_PARTITION,
                errorCode: response.errorCode,
                highWatermark: BigInt(response.highWatermark),
                lastStableOffset: -1n,
                logStartOffset: BigInt(response.logStartOffset),
                divergingEpoch:
                  response.divergingEpoch === null
                    ? { epoch: -1, endOffset: -1n }
                    : {
                        epoch: response.divergingEpoch.epoch,
                        endOffset: BigInt(response.divergingEpoch.endOffset),
                      },
                currentLeader: { leaderId: response.leaderId, leaderEpoch: response.leaderEpoch },
                snapshotId:
                  response.snapshotId === null
                    ? { endOffset: -1n, epoch: -1 }
                    : { endOffset: BigInt(response.snapshotId.offset), epoch: response.snapshotId.epoch },
                abortedTransactions: null,
                preferredReadReplica: -1,
                records: encodeRaftBatches(response.batches),
              },
            ],
          },
        ],
        nodeEndpoints: version >= 16 ? nodeEndpoints.map((e) => ({ ...e, rack: null })) : [],
      } satisfies WireFetchResponse;
    case "FetchSnapshot":
      return {
        throttleTimeMs: 0,
        errorCode: Errors.NONE,
        topics: [
          {
            name: METADATA_TOPIC,
            partitions: [
              {
                index: METADATA_PARTITION,
                errorCode: response.errorCode,
                snapshotId: {
                  endOffset: BigInt(response.snapshotId.offset),
                  epoch: response.snapshotId.epoch,
                },
                currentLeader: { leaderId: response.leaderId, leaderEpoch: response.leaderEpoch },
                size: BigInt(response.size),
                position: BigInt(response.position),
                unalignedRecords: response.unalignedRecords,
              },
            ],
          },
        ],
        nodeEndpoints: version >= 1 ? nodeEndpoints : [],
      } satisfies WireFetchSnapshotResponse;
    case "DescribeQuorum": {
      const replica = (d: ReplicaDescription) => ({
        replicaId: d.replicaId,
        replicaDirectoryId: ZERO_UUID,
        logEndOffset: BigInt(d.logEndOffset),
        lastFetchTimestamp: BigInt(d.lastFetchTimestamp),
        lastCaughtUpTimestamp: BigInt(d.lastCaughtUpTimestamp),
      });
      const partition =
        response.errorCode === Errors.NONE
          ? {
              partitionIndex: METADATA_PARTITION,
              errorCode: Errors.NONE,
              errorMessage: null,
              leaderId: response.leaderId,
              leaderEpoch: response.leaderEpoch,
              highWatermark: BigInt(response.highWatermark),
              currentVoters: response.currentVoters.map(replica),
              observers: response.observers.map(replica),
            }
          : describePartitionError(METADATA_PARTITION, response.errorCode);
      const nodes =
        version >= 2 && response.errorCode === Errors.NONE
          ? response.currentVoters.flatMap((v) => {
              const e = endpoints?.get(v.replicaId);
              return e === undefined
                ? []
                : [{ nodeId: v.replicaId, listeners: [{ name: e.name, host: e.host, port: e.port }] }];
            })
          : [];
      return {
        errorCode: Errors.NONE,
        errorMessage: null,
        topics: [{ topicName: METADATA_TOPIC, partitions: [partition] }],
        nodes,
      } satisfies WireDescribeQuorumResponse;
    }
  }
}

/** DescribeQuorum's partition-level error (Kafka's DescribeQuorumResponse.singletonErrorResponse). */
function describePartitionError(partitionIndex: number, errorCode: number) {
  return {
    partitionIndex,
    errorCode,
    errorMessage: errorMessageOf(errorCode),
    leaderId: -1,
    leaderEpoch: -1,
    highWatermark: -1n,
    currentVoters: [],
    observers: [],
  };
}

function errorMessageOf(errorCode: number): string | null {
  if (errorCode === Errors.NOT_LEADER_OR_FOLLOWER) {
    return "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition.";
  }
  if (errorCode === UNKNOWN_TOPIC_OR_PARTITION) return "This server does not host this topic-partition.";
  return null;
}

// ---- responses: wire -> core (answers to our requests) ---------------------------------------

/**
 * The core's response in a decoded wire response to a request of `api`. A top-level error, or an
 * answer about another topic or partition (INVALID_REQUEST), comes back without a leader.
 */
export function fromWireResponse(api: RaftApiName, body: unknown): RaftResponse {
  const top = (errorCode: number) => ({ errorCode, leaderId: -1, leaderEpoch: -1 });
  switch (api) {
    case "Vote": {
      const r = body as WireVoteResponse;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (r.errorCode !== Errors.NONE || p === null) {
        return { api, ...top(r.errorCode || Errors.INVALID_REQUEST), voteGranted: false };
      }
      return {
        api,
        errorCode: p.errorCode,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        voteGranted: p.voteGranted,
      };
    }
    case "BeginQuorumEpoch":
    case "EndQuorumEpoch": {
      const r = body as WireBeginQuorumEpochResponse;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (r.errorCode !== Errors.NONE || p === null)
        return { api, ...top(r.errorCode || Errors.INVALID_REQUEST) };
      return { api, errorCode: p.errorCode, leaderId: p.leaderId, leaderEpoch: p.leaderEpoch };
    }
    case "Fetch": {
      const r = body as WireFetchResponse;
      const p = singlePartition(
        r.responses,
        (t) => t.topicId === METADATA_TOPIC_ID,
        (x) => x.partitionIndex,
      );
      if (r.errorCode !== Errors.NONE || p === null) {
        return {
          api,
          ...top(r.errorCode || Errors.INVALID_REQUEST),
          highWatermark: -1,
          logStartOffset: -1,
          divergingEpoch: null,
          snapshotId: null,
          batches: [],
        } satisfies FetchResponse;
      }
      return {
        api,
        errorCode: p.errorCode,
        leaderId: p.currentLeader.leaderId,
        leaderEpoch: p.currentLeader.leaderEpoch,
        highWatermark: offset(p.highWatermark),
        logStartOffset: offset(p.logStartOffset),
        divergingEpoch:
          p.divergingEpoch.epoch < 0 && p.divergingEpoch.endOffset < 0n
            ? null
            : { epoch: p.divergingEpoch.epoch, endOffset: offset(p.divergingEpoch.endOffset) },
        snapshotId:
          p.snapshotId.epoch < 0 && p.snapshotId.endOffset < 0n
            ? null
            : { offset: offset(p.snapshotId.endOffset), epoch: p.snapshotId.epoch },
        batches: p.records === null ? [] : decodeRaftBatches(p.records),
      } satisfies FetchResponse;
    }
    case "FetchSnapshot": {
      const r = body as WireFetchSnapshotResponse;
      const p = singlePartition(
        r.topics,
        (t) => t.name === METADATA_TOPIC,
        (x) => x.index,
      );
      if (r.errorCode !== Errors.NONE || p === null) {
        return {
          api,
          ...top(r.errorCode || Errors.INVALID_REQUEST),
          snapshotId: { offset: -1, epoch: -1 },
          size: -1,
          position: -1,
          unalignedRecords: Buffer.alloc(0),
        } satisfies FetchSnapshotResponse;
      }
      return {
        api,
        errorCode: p.errorCode,
        leaderId: p.currentLeader.leaderId,
        leaderEpoch: p.currentLeader.leaderEpoch,
        snapshotId: { offset: offset(p.snapshotId.endOffset), epoch: p.snapshotId.epoch },
        size: offset(p.size),
        position: offset(p.position),
        unalignedRecords: p.unalignedRecords ?? Buffer.alloc(0),
      } satisfies FetchSnapshotResponse;
    }
    case "DescribeQuorum": {
      const r = body as WireDescribeQuorumResponse;
      const p = singlePartition(
        r.topics,
        (t) => t.topicName === METADATA_TOPIC,
        (x) => x.partitionIndex,
      );
      if (r.errorCode !== Errors.NONE || p === null) {
        return {
          api,
          ...top(r.errorCode || Errors.INVALID_REQUEST),
          highWatermark: -1,
          currentVoters: [],
          observers: [],
        };
      }
      const replica = (s: WireReplicaState): ReplicaDescription => ({
        replicaId: s.replicaId,
        logEndOffset: offset(s.logEndOffset),
        lastFetchTimestamp: offset(s.lastFetchTimestamp),
        lastCaughtUpTimestamp: offset(s.lastCaughtUpTimestamp),
      });
      return {
        api,
        errorCode: p.errorCode,
        leaderId: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        highWatermark: offset(p.highWatermark),
        currentVoters: p.currentVoters.map(replica),
        observers: p.observers.map(replica),
      };
    }
  }
}

// ---- record batches --------------------------------------------------------------------------

/** One stored/wire batch for a RaftBatch (all data records, or one LeaderChangeMessage). */
export function encodeRaftBatch(batch: RaftBatch): Buffer {
  const first = batch.records[0];
  assert.ok(first !== undefined, "a batch holds at least one record");
  if (first.type === "data") {
    const values = batch.records.map((r) => {
      assert.ok(r.type === "data", "a batch mixes data and control records");
      return r.value;
    });
    return dataBatch(values, batch.baseOffset, batch.epoch, batch.appendTimeMs);
  }
  assert.equal(batch.records.length, 1, "a LeaderChangeMessage batch holds one record");
  const bytes = leaderChangeBatch(
    first.leaderId,
    first.voters,
    batch.epoch,
    batch.appendTimeMs,
    first.grantingVoters,
  );
  // baseOffset is outside the CRC (which covers attributes onwards): set it in place.
  bytes.writeBigInt64BE(BigInt(batch.baseOffset), 0);
  return bytes;
}

/** The Fetch records of `batches`: their batches back to back (empty for none, as Kafka's MemoryRecords.EMPTY). */
export function encodeRaftBatches(batches: readonly RaftBatch[]): Buffer {
  if (batches.length === 0) return Buffer.alloc(0);
  return Buffer.concat(batches.map(encodeRaftBatch));
}

/**
 * The RaftBatches in Fetch records: every whole batch, CRC checked; a partial batch at the end is
 * left out. Throws KrillError CORRUPT_RECORD for a corrupt batch or a control record other than
 * LeaderChangeMessage (Krill's quorum has static voters).
 */
export function decodeRaftBatches(records: Buffer): RaftBatch[] {
  const out: RaftBatch[] = [];
  let position = 0;
  while (position < records.length) {
    const probe = probeBatch(records, position, records.length, METADATA_BATCH_BYTES_MAX);
    if (probe.kind === "incomplete") break;
    if (probe.kind === "corrupt") {
      throw new KrillError("CORRUPT_RECORD", `metadata batch at byte ${position}: ${probe.reason}`);
    }
    const b = decodeRecordBatch(records, {
      position,
      decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
      batchSizeMax: METADATA_BATCH_BYTES_MAX,
    });
    const raftRecords: RaftRecord[] = b.records.map((r) => {
      if (!b.isControl) {
        if (r.value === null)
          throw new KrillError("CORRUPT_RECORD", `metadata record ${r.offset} has no value`);
        return { type: "data", value: Buffer.from(r.value) };
      }
      const { type } = parseControlRecordKey(r.key);
      if (type !== ControlRecordType.LEADER_CHANGE || r.value === null) {
        throw new KrillError(
          "CORRUPT_RECORD",
          `control record of type ${type} at offset ${r.offset} (Krill's quorum has static voters and takes only LeaderChangeMessage)`,
        );
      }
      const m = decodeLeaderChangeMessage(new Reader(r.value), 0);
      return {
        type: "leaderChange",
        leaderId: m.leaderId,
        voters: m.voters.map((v) => v.voterId),
        grantingVoters: m.grantingVoters.map((v) => v.voterId),
      };
    });
    out.push({
      baseOffset: offset(b.header.baseOffset),
      epoch: b.header.partitionLeaderEpoch,
      appendTimeMs: offset(b.header.maxTimestamp),
      records: raftRecords,
    });
    position += probe.sizeBytes;
  }
  return out;
}

/** The node an inbound request comes from, as Kafka reads it (-1 for DescribeQuorum, which names none). */
export function raftRequestSource(request: RaftRequest): number {
  switch (request.api) {
    case "Vote":
    case "Fetch":
    case "FetchSnapshot":
      return request.replicaId;
    case "BeginQuorumEpoch":
    case "EndQuorumEpoch":
      return request.leaderId;
    case "DescribeQuorum":
      return -1;
  }
}

/**
 * The values and ports of the KRaft core (src/raft): what it replicates, the messages it
 * exchanges, and everything non-deterministic it is given through its constructor (clock, random
 * source, network channel; the log and the quorum-state store are in log.ts and quorum-state.ts).
 * Nothing here does I/O. The same core runs on real timers, sockets and files in a broker and on
 * a seeded event queue in the simulation (test/raft/simulation.ts).
 */
import type { Clock } from "../clock.js";

/** A position in the replicated log: an offset and the epoch of the leader that wrote it. */
export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

export function compareOffsetAndEpoch(a: OffsetAndEpoch, b: OffsetAndEpoch): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.offset - b.offset;
}

/**
 * One record of `__cluster_metadata-0`. `data` carries the state machine's bytes (a metadata
 * record); `leaderChange` is Kafka's LeaderChangeMessage control record, written by every new
 * leader as the first record of its epoch so that it can commit something of its own epoch.
 */
export type RaftRecord =
  | { readonly type: "data"; readonly value: Buffer }
  | {
      readonly type: "leaderChange";
      readonly leaderId: number;
      readonly voters: readonly number[];
      readonly grantingVoters: readonly number[];
    };

/** A batch as the log stores it: consecutive offsets from baseOffset, all of one epoch. */
export interface RaftBatch {
  readonly baseOffset: number;
  readonly epoch: number;
  readonly appendTimeMs: number;
  readonly records: readonly RaftRecord[];
}

export function batchEndOffset(batch: RaftBatch): number {
  return batch.baseOffset + batch.records.length;
}

/**
 * The broker's Clock (src/clock.ts) with timers: the core never waits, it is called back. The
 * random source is the broker's `Random` (src/random.ts): election timeouts, backoffs, and which
 * voter an observer asks first.
 */
export interface RaftClock extends Clock {
  /** Calls `fn` once after `delayMs`; the handle cancels it. */
  setTimer(delayMs: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
}

// Kafka wire error codes the quorum uses (src/protocol/generated/error-codes.ts has them all).
export const Errors = {
  NONE: 0,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  INVALID_REQUEST: 42,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  INCONSISTENT_CLUSTER_ID: 104,
  INVALID_VOTER_KEY: 125,
} as const;

// The messages, flat: one partition (__cluster_metadata-0) per request, with Kafka's field
// names from the 4.4 specs (VoteRequest v2, FetchRequest v18, ...). The network adapter maps
// them onto the generated codecs' nested topics/partitions shapes; top-level errors
// (INCONSISTENT_CLUSTER_ID, INVALID_REQUEST for a wrong partition) go in the top-level error code.

export interface VoteRequest {
  readonly api: "Vote";
  readonly clusterId: string | null;
  /** The voter the request is meant for (Kafka's VoterId, v1+). */
  readonly voterId: number;
  readonly replicaEpoch: number;
  readonly replicaId: number;
  readonly lastOffsetEpoch: number;
  readonly lastOffset: number;
  /** KIP-996: a pre-vote asks "would you vote for me" without bumping or persisting anything. */
  readonly preVote: boolean;
}

export interface BeginQuorumEpochRequest {
  readonly api: "BeginQuorumEpoch";
  readonly clusterId: string | null;
  readonly voterId: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface EndQuorumEpochRequest {
  readonly api: "EndQuorumEpoch";
  readonly clusterId: string | null;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Voters by descending fetch offset: the first may start its election at once. */
  readonly preferredCandidates: readonly number[];
}

export interface FetchRequest {
  readonly api: "Fetch";
  readonly clusterId: string | null;
  /** ReplicaState.ReplicaId: a voter or an observer (-1 for a plain consumer). */
  readonly replicaId: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
  /** Fetch v18 (KIP-1166): the high watermark the fetcher knows; a newer one completes a parked fetch. */
  readonly highWatermark: number;
}

export interface FetchSnapshotRequest {
  readonly api: "FetchSnapshot";
  readonly clusterId: string | null;
  readonly replicaId: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly snapshotId: OffsetAndEpoch;
  readonly position: number;
}

export interface DescribeQuorumRequest {
  readonly api: "DescribeQuorum";
}

export type RaftRequest =
  | VoteRequest
  | BeginQuorumEpochRequest
  | EndQuorumEpochRequest
  | FetchRequest
  | FetchSnapshotRequest
  | DescribeQuorumRequest;

/** Every response names the responder's view of the quorum, so stale nodes catch up. */
interface ResponseBase {
  readonly errorCode: number;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface VoteResponse extends ResponseBase {
  readonly api: "Vote";
  readonly voteGranted: boolean;
}

export interface BeginQuorumEpochResponse extends ResponseBase {
  readonly api: "BeginQuorumEpoch";
}

export interface EndQuorumEpochResponse extends ResponseBase {
  readonly api: "EndQuorumEpoch";
}

export interface FetchResponse extends ResponseBase {
  readonly api: "Fetch";
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Set when the fetcher's (lastFetchedEpoch, fetchOffset) is not on the leader's log. */
  readonly divergingEpoch: { readonly epoch: number; readonly endOffset: number } | null;
  /** Set when the fetcher must load this snapshot first (FetchSnapshot). */
  readonly snapshotId: OffsetAndEpoch | null;
  readonly batches: readonly RaftBatch[];
}

export interface FetchSnapshotResponse extends ResponseBase {
  readonly api: "FetchSnapshot";
  readonly snapshotId: OffsetAndEpoch;
  readonly size: number;
  readonly position: number;
  readonly unalignedRecords: Buffer;
}

/** DescribeQuorum's ReplicaState, as kafka-metadata-quorum --replication prints it. */
export interface ReplicaDescription {
  readonly replicaId: number;
  readonly logEndOffset: number;
  readonly lastFetchTimestamp: number;
  readonly lastCaughtUpTimestamp: number;
}

export interface DescribeQuorumResponse extends ResponseBase {
  readonly api: "DescribeQuorum";
  readonly highWatermark: number;
  readonly currentVoters: readonly ReplicaDescription[];
  readonly observers: readonly ReplicaDescription[];
}

export type RaftResponse =
  | VoteResponse
  | BeginQuorumEpochResponse
  | EndQuorumEpochResponse
  | FetchResponse
  | FetchSnapshotResponse
  | DescribeQuorumResponse;

/**
 * The network as the core sees it. `send` and `respond` return at once; what comes back is
 * handed to RaftClient.handleResponse (or handleSendFailure when the connection failed) later,
 * as a separate event. Requests to a node arrive at its RaftClient.handleRequest.
 */
export interface RaftChannel {
  send(destinationId: number, correlationId: number, request: RaftRequest): void;
  respond(destinationId: number, correlationId: number, response: RaftResponse): void;
}

/**
 * The quorum RPCs of a node that is its own one-voter quorum: no `controller.quorum.voters` naming
 * other nodes, so its metadata log is `LocalMetadataLog` and no `RaftClient` runs. Kafka runs its
 * raft client there too, as the leader of a quorum of one, and answers Vote, BeginQuorumEpoch,
 * EndQuorumEpoch, Fetch, FetchSnapshot and DescribeQuorum as that leader; this answers them the
 * same way, with RaftClient's checks in RaftClient's order, the voters being this node alone:
 *
 * - a cluster id other than this node's: INCONSISTENT_CLUSTER_ID (at the top level on the wire);
 * - malformed fields (negative offsets or ids, a last epoch past the request's epoch): INVALID_REQUEST;
 * - an epoch below this node's: FENCED_LEADER_EPOCH; for Fetch and FetchSnapshot, an epoch above
 *   it: UNKNOWN_LEADER_EPOCH;
 * - Vote: a request meant for another voter is INVALID_VOTER_KEY; any other is answered without
 *   the vote (a leader never grants one; the candidate is not a voter of this quorum);
 * - BeginQuorumEpoch and EndQuorumEpoch from a leader other than this node, or for an epoch it did
 *   not lead: INVALID_REQUEST (the leader is not a voter), as RaftClient answers them;
 * - DescribeQuorum: this node leads, its log end is the high watermark (every append is committed
 *   once fsynced), it is the only voter and there are no observers.
 *
 * Where Kafka would do more: a Vote (not a pre-vote) for a higher epoch makes Kafka's lone leader
 * step down to unattached and elect itself again in a new epoch; this node keeps its epoch. And
 * Kafka's lone leader serves Fetch and FetchSnapshot of its epoch to observers (broker-only nodes);
 * this node does not replicate its local log, so it answers those BROKER_NOT_AVAILABLE, which is
 * what Kafka's raft client answers while it cannot serve (shutting down), naming itself as leader.
 */
import { KrillError } from "../errors.js";
import type { ApiDescriptor } from "../protocol/generated/apis.js";
import type { QuorumEndpoint } from "./quorum-endpoint.js";
import { Errors, type FetchResponse, type RaftRequest, type RaftResponse } from "./types.js";
import type { RaftEndpoint, RaftEndpoints } from "./wire.js";

/** What the local metadata log knows: the epoch this start leads, and the log's offsets. */
export interface SingleVoterLog {
  readonly epoch: number;
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface SingleVoterEndpointOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly log: () => SingleVoterLog;
  readonly nowMs: () => number;
}

export class SingleVoterEndpoint implements QuorumEndpoint {
  readonly nodeId: number;
  readonly #options: SingleVoterEndpointOptions;
  #endpoints: RaftEndpoints = new Map();

  constructor(options: SingleVoterEndpointOptions) {
    this.nodeId = options.nodeId;
    this.#options = options;
  }

  /** This node's controller listener, once bound (for NodeEndpoints and DescribeQuorum's Nodes). */
  setEndpoint(endpoint: RaftEndpoint | undefined): void {
    this.#endpoints = endpoint === undefined ? new Map() : new Map([[this.nodeId, endpoint]]);
  }

  get endpoints(): RaftEndpoints {
    return this.#endpoints;
  }

  get leaderId(): number {
    return this.nodeId;
  }

  get epoch(): number {
    return this.#options.log().epoch;
  }

  handleInbound(_sourceId: number, request: RaftRequest): Promise<RaftResponse> {
    return Promise.resolve(this.answer(request));
  }

  requestLeader<Req, Res>(_api: ApiDescriptor<Req, Res>, _body: Req, _version: number): Promise<Res> {
    return Promise.reject(
      new KrillError("NETWORK_EXCEPTION", `node ${this.nodeId} is the only voter and the leader`),
    );
  }

  /** The answer to `request`, as Kafka's leader of a one-voter quorum gives it. */
  answer(request: RaftRequest): RaftResponse {
    const log = this.#options.log();
    const base = (errorCode: number) => ({ errorCode, leaderId: this.nodeId, leaderEpoch: log.epoch });
    const otherCluster = (clusterId: string | null) =>
      clusterId !== null && clusterId !== this.#options.clusterId;
    switch (request.api) {
      case "Vote": {
        const reply = (errorCode: number) =>
          ({ api: "Vote", ...base(errorCode), voteGranted: false }) as const;
        const r = request;
        if (otherCluster(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
        const illegalEpoch = r.preVote
          ? r.lastOffsetEpoch > r.replicaEpoch
          : r.lastOffsetEpoch >= r.replicaEpoch;
        if (r.lastOffset < 0 || r.lastOffsetEpoch < 0 || illegalEpoch || r.replicaId < 0) {
          return reply(Errors.INVALID_REQUEST);
        }
        if (r.replicaEpoch < log.epoch) return reply(Errors.FENCED_LEADER_EPOCH);
        if (r.voterId >= 0 && r.voterId !== this.nodeId) return reply(Errors.INVALID_VOTER_KEY);
        return reply(Errors.NONE);
      }
      case "BeginQuorumEpoch":
      case "EndQuorumEpoch": {
        const reply = (errorCode: number) => ({ api: request.api, ...base(errorCode) }) as RaftResponse;
        const r = request;
        if (otherCluster(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
        if (r.leaderEpoch < log.epoch) return reply(Errors.FENCED_LEADER_EPOCH);
        if (r.leaderId !== this.nodeId || r.leaderEpoch !== log.epoch) return reply(Errors.INVALID_REQUEST);
        if (r.api === "BeginQuorumEpoch" && r.voterId >= 0 && r.voterId !== this.nodeId) {
          return reply(Errors.INVALID_VOTER_KEY);
        }
        return reply(Errors.NONE);
      }
      case "Fetch": {
        const reply = (errorCode: number): FetchResponse => ({
          api: "Fetch",
          ...base(errorCode),
          highWatermark: -1,
          logStartOffset: log.startOffset,
          divergingEpoch: null,
          snapshotId: null,
          batches: [],
        });
        const r = request;
        if (otherCluster(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
        if (
          r.maxWaitMs < 0 ||
          r.fetchOffset < 0 ||
          r.lastFetchedEpoch < 0 ||
          r.lastFetchedEpoch > r.currentLeaderEpoch
        ) {
          return reply(Errors.INVALID_REQUEST);
        }
        return reply(leaderOnlyError(r.currentLeaderEpoch, log.epoch));
      }
      case "FetchSnapshot": {
        const r = request;
        const reply = (errorCode: number) =>
          ({
            api: "FetchSnapshot",
            ...base(errorCode),
            snapshotId: r.snapshotId,
            size: 0,
            position: 0,
            unalignedRecords: Buffer.alloc(0),
          }) as const;
        if (otherCluster(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
        return reply(leaderOnlyError(r.currentLeaderEpoch, log.epoch));
      }
      case "DescribeQuorum": {
        const now = this.#options.nowMs();
        return {
          api: "DescribeQuorum",
          ...base(Errors.NONE),
          highWatermark: log.endOffset,
          currentVoters: [
            {
              replicaId: this.nodeId,
              logEndOffset: log.endOffset,
              lastFetchTimestamp: now,
              lastCaughtUpTimestamp: now,
            },
          ],
          observers: [],
        };
      }
    }
  }
}

/** Kafka's validateLeaderOnlyRequest for the leader of `epoch` that does not serve its log. */
function leaderOnlyError(requestEpoch: number, epoch: number): number {
  if (requestEpoch < epoch) return Errors.FENCED_LEADER_EPOCH;
  if (requestEpoch > epoch) return Errors.UNKNOWN_LEADER_EPOCH;
  return Errors.BROKER_NOT_AVAILABLE;
}

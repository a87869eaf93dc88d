/**
 * What the controller listener's handlers (src/server/handlers: Vote, BeginQuorumEpoch,
 * EndQuorumEpoch, FetchSnapshot, DescribeQuorum, and Fetch of `__cluster_metadata`) need from this
 * node's quorum member: hand it an inbound request and get the core's answer. The network channel
 * (network-channel.ts) provides it; the broker exposes it to handlers as `ctx.broker.raftEndpoint`.
 */
import type { ApiDescriptor } from "../protocol/generated/apis.js";
import type { RaftRequest, RaftResponse } from "./types.js";
import type { RaftEndpoints } from "./wire.js";

export interface QuorumEndpoint {
  /**
   * An inbound request from node `sourceId` (see `raftRequestSource`). Resolves with the core's
   * answer, which may come later (a Fetch waits up to its MaxWaitMs for records). Rejects with
   * KrillError NETWORK_EXCEPTION when the quorum member is closed or not started,
   * REQUEST_QUEUE_FULL when too many requests wait for answers, REQUEST_TIMED_OUT when the core
   * did not answer within the request timeout.
   */
  handleInbound(sourceId: number, request: RaftRequest): Promise<RaftResponse>;
  /** The voters' controller-listener endpoints, for the answers' NodeEndpoints and Nodes. */
  readonly endpoints: RaftEndpoints;
  /** This node, and the leader it knows (-1: none) and its epoch. */
  readonly nodeId: number;
  readonly leaderId: number;
  readonly epoch: number;
  /**
   * Sends a request to the known leader's controller listener at `version` (a broker listener's
   * DescribeQuorum goes there, as Kafka's brokers forward it to the active controller). Rejects as
   * NodeClient does, or with NETWORK_EXCEPTION when no other node is known as the leader.
   */
  requestLeader<Req, Res>(api: ApiDescriptor<Req, Res>, body: Req, version: number): Promise<Res>;
}

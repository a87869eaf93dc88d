/**
 * DescribeQuorum (key 55), versions 0-2: the quorum's leader, epoch, high watermark and every
 * voter's and observer's log end offset and last fetch / caught-up times (`kafka-metadata-quorum
 * describe --status` and `--replication`).
 *
 * - On a controller listener: answered by this node's quorum member; only the leader knows the
 *   replicas, any other answers NOT_LEADER_OR_FOLLOWER (Kafka's ControllerApis, raft client).
 * - On a broker listener: answered by the leader, as Kafka's brokers forward it to the active
 *   controller (`KafkaApis.handleDescribeQuorumRequest`): here when this node leads, else sent to
 *   the leader's controller listener at the request's version. With no leader known, this node's
 *   own answer (NOT_LEADER_OR_FOLLOWER). A single node answers as the leader and only voter of
 *   its quorum of one (src/raft/single-voter-endpoint.ts), on either listener.
 * DESCRIBE on the cluster is needed (CLUSTER_AUTHORIZATION_FAILED), as Kafka's ControllerApis.
 * v2 adds directory ids (zero: static voters) and the voters' listeners (Nodes).
 */
import { isKrillError } from "../../errors.js";
import { AclOperation } from "../../metadata/acls.js";
import { DESCRIBE_QUORUM_API } from "../../protocol/generated/apis.js";
import type { DescribeQuorumResponse } from "../../protocol/generated/describe-quorum-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { topLevelErrorResponse } from "../../raft/wire.js";
import { authorizeCluster } from "../auth.js";
import { listenerKind } from "../dispatcher.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DESCRIBE_QUORUM_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  async handle(ctx, request): Promise<DescribeQuorumResponse> {
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return topLevelErrorResponse(
        "DescribeQuorum",
        ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      ) as DescribeQuorumResponse;
    }
    const quorum = ctx.broker.raftEndpoint;
    const local = quorum === undefined || quorum.leaderId < 0 || quorum.leaderId === quorum.nodeId;
    if (listenerKind(ctx.broker, ctx.connection) === "controller" || local) {
      return answerRaftRequest(ctx, "DescribeQuorum", request);
    }
    try {
      return await quorum.requestLeader(DESCRIBE_QUORUM_API, request, ctx.apiVersion);
    } catch (err) {
      if (!isKrillError(err)) throw err;
      ctx.logger.info(
        { leaderId: quorum.leaderId, reason: err.message },
        "DescribeQuorum not answered by the leader",
      );
      // The leader moved or is unreachable: this node's own answer names who it thinks leads.
      return answerRaftRequest(ctx, "DescribeQuorum", request);
    }
  },
});

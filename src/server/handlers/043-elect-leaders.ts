/**
 * ElectLeaders (key 43), versions 0-2: `kafka-leader-election`. Preferred (0) or, from v1,
 * unclean (1) elections for the named partitions, or for every partition when the list is null
 * (then partitions that need no election are left out of the answer). The controller decides
 * (replication-control.ts): ELECTION_NOT_NEEDED when the preferred replica already leads or the
 * partition has a leader, PREFERRED_LEADER_NOT_AVAILABLE / ELIGIBLE_LEADERS_NOT_AVAILABLE when no
 * acceptable replica can take it, UNKNOWN_TOPIC_OR_PARTITION for unknown partitions. v0 has no
 * election type (preferred) and no top-level error.
 */

import { AclOperation } from "../../metadata/acls.js";
import { ELECTION_TYPE } from "../../metadata/replication-control.js";
import { ELECT_LEADERS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ELECT_LEADERS_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  async handle(ctx, request) {
    // Kafka's handleElectLeaders: ALTER on the cluster, else every named partition (and the
    // response, v1+) CLUSTER_AUTHORIZATION_FAILED.
    if (!authorizeCluster(ctx, AclOperation.ALTER)) {
      return {
        throttleTimeMs: 0,
        errorCode: ctx.apiVersion >= 1 ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : 0,
        replicaElectionResults: (request.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({
            partitionId,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: null,
          })),
        })),
      };
    }
    const electionType = ctx.apiVersion >= 1 ? request.electionType : ELECTION_TYPE.PREFERRED;
    const result = await ctx.broker.controller.electLeaders(
      electionType,
      request.topicPartitions === null
        ? null
        : request.topicPartitions.map((t) => ({ topic: t.topic, partitions: t.partitions })),
    );
    return {
      throttleTimeMs: 0,
      errorCode: ctx.apiVersion >= 1 ? result.errorCode : 0,
      replicaElectionResults: result.results.map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((p) => ({
          partitionId: p.partitionId,
          errorCode: p.errorCode,
          errorMessage: p.errorMessage,
        })),
      })),
    };
  },
});

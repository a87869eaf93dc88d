/**
 * AlterPartition (key 56), versions 2-3, on the controller listener: a partition leader proposes
 * a new ISR (replication-control.ts checks broker, leader and partition epochs and eligibility).
 * v2 names the new ISR without broker epochs; it is passed on with epoch -1 (not checked), as
 * Kafka does.
 */

import { AclOperation } from "../../metadata/acls.js";
import type { AlterPartitionResponse } from "../../protocol/generated/alter-partition-response.js";
import { ALTER_PARTITION_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: ALTER_PARTITION_API,
  minVersion: 2,
  maxVersion: 3,
  ordering: "concurrent",
  handle(ctx, request) {
    // Kafka's ControllerApis: CLUSTER_ACTION.
    if (!authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, topics: [] };
    }
    const withEpochs =
      ctx.apiVersion >= 3
        ? request
        : {
            ...request,
            topics: request.topics.map((t) => ({
              ...t,
              partitions: t.partitions.map((p) => ({
                ...p,
                newIsrWithEpochs: p.newIsr.map((brokerId) => ({ brokerId, brokerEpoch: -1n })),
              })),
            })),
          };
    return runOnController(
      ctx,
      (controller) => controller.alterPartition(withEpochs),
      (): AlterPartitionResponse => ({ throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] }),
    );
  },
});

/**
 * Heartbeat (key 12), versions 0-4: keeps a classic member's session alive and tells it when a
 * rebalance is under way (REBALANCE_IN_PROGRESS), or that its generation or membership is gone
 * (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID).
 * Per-version notes: v1 adds throttle time; v3 adds group_instance_id; v4 is flexible.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { HEARTBEAT_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { HeartbeatResponse } from "../../protocol/generated/heartbeat-response.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "serial",
  async handle(ctx, request): Promise<HeartbeatResponse> {
    // Kafka's handleHeartbeatRequest: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    const coordinator = await ctx.broker.groups.ready();
    const errorCode = coordinator.heartbeat(
      request.groupId,
      request.memberId,
      request.groupInstanceId,
      request.generationId,
    );
    return { throttleTimeMs: 0, errorCode };
  },
});

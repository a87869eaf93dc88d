/**
 * LeaveGroup (key 13), versions 0-5: members leave a classic group at once (no session timeout
 * to wait for), which starts a rebalance for the others. From v3 a request names several members,
 * each by member id or, for administrative removal of static members, by group instance id alone;
 * each gets its own error code.
 * Per-version notes: v0-2 name one member and carry its error at top level; v3 batches members;
 * v4 is flexible; v5 adds a reason per member.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { LEAVE_GROUP_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { LeaveGroupResponse } from "../../protocol/generated/leave-group-response.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: LEAVE_GROUP_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request): Promise<LeaveGroupResponse> {
    // Kafka's handleLeaveGroupRequest: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    }
    const coordinator = await ctx.broker.groups.ready();
    if (ctx.apiVersion < 3) {
      const result = coordinator.leaveGroup(request.groupId, [
        { memberId: request.memberId, groupInstanceId: null },
      ]);
      const errorCode =
        result.errorCode !== ErrorCode.NONE ? result.errorCode : (result.members[0]?.errorCode ?? 0);
      return { throttleTimeMs: 0, errorCode, members: [] };
    }
    const result = coordinator.leaveGroup(
      request.groupId,
      request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
    );
    return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
  },
});

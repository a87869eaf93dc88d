/**
 * SyncGroup (key 14), versions 0-5: the leader hands in the assignment, which is stored in
 * __consumer_offsets before anyone gets theirs; followers wait (parked) for it. In a stable group
 * any member gets its current assignment back at once.
 * Per-version notes: v3 adds group_instance_id; v4 is flexible; v5 adds protocol type and name,
 * checked against the group's (INCONSISTENT_GROUP_PROTOCOL) and returned.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { SYNC_GROUP_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { SyncGroupResponse } from "../../protocol/generated/sync-group-response.js";
import { defaultSyncGroupResponse } from "../../protocol/generated/sync-group-response.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: SYNC_GROUP_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request): Promise<SyncGroupResponse> {
    // Kafka's handleSyncGroupRequest: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { ...defaultSyncGroupResponse(), errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    }
    const coordinator = await ctx.broker.groups.ready();
    return { throttleTimeMs: 0, ...(await coordinator.syncGroup(request)) };
  },
});

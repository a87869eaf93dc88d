/**
 * JoinGroup (key 11), versions 0-9: a member joins a classic group and waits (the request is
 * parked) until the join phase completes; the leader receives every member's metadata. See
 * src/server/group/classic-protocol.ts for the rebalance rules and error codes.
 * Per-version notes: v0 has no rebalance timeout (the session timeout is used); v4+ requires a
 * known member id (KIP-394: MEMBER_ID_REQUIRED first); v5 adds group_instance_id (static
 * membership); v6 is flexible; v7 returns the protocol type and allows a null protocol name
 * (older versions get ""); v8 adds a reason; v9 adds skip_assignment for a static leader that
 * rejoins without a rebalance.
 */

import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { JOIN_GROUP_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { JoinGroupResponse } from "../../protocol/generated/join-group-response.js";
import { defaultJoinGroupResponse } from "../../protocol/generated/join-group-response.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: JOIN_GROUP_API,
  minVersion: 0,
  maxVersion: 9,
  ordering: "serial",
  async handle(ctx, request): Promise<JoinGroupResponse> {
    // Kafka's handleJoinGroupRequest: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        ...defaultJoinGroupResponse(),
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolName: ctx.apiVersion >= 7 ? null : "",
      };
    }
    const coordinator = await ctx.broker.groups.ready();
    const result = await coordinator.joinGroup(request, {
      apiVersion: ctx.apiVersion,
      clientId: ctx.clientId ?? "",
      clientHost: `/${ctx.connection.remoteAddress}`,
    });
    return {
      throttleTimeMs: 0,
      ...result,
      protocolName: ctx.apiVersion < 7 ? (result.protocolName ?? "") : result.protocolName,
    };
  },
});

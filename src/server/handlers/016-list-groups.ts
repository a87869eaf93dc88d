/**
 * ListGroups (key 16), versions 0-5: every group this broker coordinates (all of them: one node),
 * including offsets-only ("simple") groups, which Kafka lists with an empty protocol type.
 * Per-version notes: v1 adds throttle time; v3 is flexible; v4 adds the states filter and the
 * group state; v5 (KIP-848) adds the types filter ("classic", "consumer") and the group type.
 * Filters are case-insensitive; an empty filter matches every group.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { LIST_GROUPS_API } from "../../protocol/generated/apis.js";
import type { ListGroupsResponse } from "../../protocol/generated/list-groups-response.js";
import { authorize, authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: LIST_GROUPS_API,
  minVersion: 0,
  maxVersion: 5,
  ordering: "serial",
  async handle(ctx, request): Promise<ListGroupsResponse> {
    const coordinator = await ctx.broker.groups.ready();
    const states = ctx.apiVersion >= 4 ? request.statesFilter : [];
    const types = ctx.apiVersion >= 5 ? request.typesFilter : [];
    const result = coordinator.listGroups(states, types);
    // Kafka's handleListGroupsRequest: every group with DESCRIBE on the cluster, else those the
    // client may DESCRIBE.
    const groups = authorizeCluster(ctx, AclOperation.DESCRIBE, { logIfDenied: false })
      ? result.groups
      : result.groups.filter((g) =>
          authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId, { logIfDenied: false }),
        );
    return { throttleTimeMs: 0, errorCode: result.errorCode, groups };
  },
});

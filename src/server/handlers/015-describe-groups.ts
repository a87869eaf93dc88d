/**
 * DescribeGroups (key 15), versions 0-6: state, protocol and members of classic groups. Member
 * metadata and assignments are only filled in for a Stable group (Kafka's rule: in other states
 * they are not settled). A group that does not exist, or is not a classic group, is described as
 * Dead, with no error before v6.
 * Per-version notes: v1 adds throttle time; v3 authorized operations (Krill has no ACLs, so all
 * group operations when asked); v4 group_instance_id; v5 is flexible; v6 (KIP-1043) answers such
 * a group GROUP_ID_NOT_FOUND with Kafka's message ("Group G not found." or "Group G is not a
 * classic group.").
 */
import { DESCRIBE_GROUPS_API } from "../../protocol/generated/apis.js";
import type { DescribeGroupsResponse } from "../../protocol/generated/describe-groups-response.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED } from "./003-metadata.js";

/** READ (3), DELETE (6), DESCRIBE (8): the operations that apply to a group. */
const GROUP_OPERATIONS_ALL = (1 << 3) | (1 << 6) | (1 << 8);

/** A described group's authorized operations (also ConsumerGroupDescribe's): all, when asked. */
export function groupAuthorizedOperations(requested: boolean): number {
  return requested ? GROUP_OPERATIONS_ALL : AUTHORIZED_OPERATIONS_OMITTED;
}

export const handler = defineHandler({
  api: DESCRIBE_GROUPS_API,
  minVersion: 0,
  maxVersion: 6,
  ordering: "serial",
  async handle(ctx, request): Promise<DescribeGroupsResponse> {
    const coordinator = await ctx.broker.groups.ready();
    const operations = groupAuthorizedOperations(request.includeAuthorizedOperations);
    return {
      throttleTimeMs: 0,
      groups: coordinator
        .describeGroups(request.groups, ctx.apiVersion >= 6)
        .map((g) => ({ ...g, authorizedOperations: operations })),
    };
  },
});

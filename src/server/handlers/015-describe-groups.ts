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
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DESCRIBE_GROUPS_API } from "../../protocol/generated/apis.js";
import {
  type DescribeGroupsResponse,
  defaultDescribeGroupsResponseDescribedGroup,
} from "../../protocol/generated/describe-groups-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizedOperations, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED } from "./003-metadata.js";

/**
 * Kafka's handleDescribeGroupsRequest: a group the client may not DESCRIBE is answered
 * GROUP_AUTHORIZATION_FAILED; authorized operations (v3+, when asked) are the group's operations
 * the authorizer allows, every supported one without an authorizer.
 */
export const handler = defineHandler({
  api: DESCRIBE_GROUPS_API,
  minVersion: 0,
  maxVersion: 6,
  ordering: "serial",
  async handle(ctx, request): Promise<DescribeGroupsResponse> {
    const allowed = filterAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, request.groups);
    const denied = request.groups
      .filter((g) => !allowed.has(g))
      .map((groupId) => ({
        ...defaultDescribeGroupsResponseDescribedGroup(),
        groupId,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      }));
    const coordinator = await ctx.broker.groups.ready();
    const described = coordinator
      .describeGroups(
        request.groups.filter((g) => allowed.has(g)),
        ctx.apiVersion >= 6,
      )
      .map((g) => ({
        ...g,
        authorizedOperations:
          request.includeAuthorizedOperations && g.errorCode === ErrorCode.NONE
            ? authorizedOperations(ctx, ResourceType.GROUP, g.groupId)
            : AUTHORIZED_OPERATIONS_OMITTED,
      }));
    return { throttleTimeMs: 0, groups: [...denied, ...described] };
  },
});

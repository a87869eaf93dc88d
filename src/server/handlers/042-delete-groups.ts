/**
 * DeleteGroups (key 42), versions 0-3: removes empty groups and their committed offsets
 * (tombstones in __consumer_offsets). A group with members gets NON_EMPTY_GROUP; an unknown one
 * GROUP_ID_NOT_FOUND.
 * Per-version notes: v1 changes only throttling; v2 is flexible; v3 adds a per-group error
 * message, which Kafka 4.4 fills only when a streams-topology plugin fails to delete (Krill has
 * none), so it is null here as it is from Kafka for these errors.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DELETE_GROUPS_API } from "../../protocol/generated/apis.js";
import type { DeleteGroupsResponse } from "../../protocol/generated/delete-groups-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DELETE_GROUPS_API,
  minVersion: 0,
  maxVersion: 3,
  ordering: "serial",
  async handle(ctx, request): Promise<DeleteGroupsResponse> {
    // Kafka's handleDeleteGroupsRequest: DELETE on each group.
    const deletable = filterAuthorized(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupsNames);
    const denied = request.groupsNames
      .filter((g) => !deletable.has(g))
      .map((groupId) => ({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null }));
    const coordinator = await ctx.broker.groups.ready();
    const deleted = await coordinator.deleteGroups(request.groupsNames.filter((g) => deletable.has(g)));
    return {
      throttleTimeMs: 0,
      results: [...deleted.map((r) => ({ ...r, errorMessage: null })), ...denied],
    };
  },
});

/**
 * DeleteGroups (key 42), versions 0-3: removes empty groups and their committed offsets
 * (tombstones in __consumer_offsets). A group with members gets NON_EMPTY_GROUP; an unknown one
 * GROUP_ID_NOT_FOUND.
 * Per-version notes: v1 changes only throttling; v2 is flexible; v3 adds a per-group error
 * message, which Kafka 4.4 fills only when a streams-topology plugin fails to delete (Krill has
 * none), so it is null here as it is from Kafka for these errors.
 */
import { DELETE_GROUPS_API } from "../../protocol/generated/apis.js";
import type { DeleteGroupsResponse } from "../../protocol/generated/delete-groups-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DELETE_GROUPS_API,
  minVersion: 0,
  maxVersion: 3,
  ordering: "serial",
  async handle(ctx, request): Promise<DeleteGroupsResponse> {
    const coordinator = await ctx.broker.groups.ready();
    return {
      throttleTimeMs: 0,
      results: (await coordinator.deleteGroups(request.groupsNames)).map((r) => ({
        ...r,
        errorMessage: null,
      })),
    };
  },
});

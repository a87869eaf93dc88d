/**
 * OffsetFetch (key 9), versions 1-10 (Kafka 4 removed v0, KIP-896): a group's committed offsets
 * for the partitions asked, or all of them (topics null, v2+). A partition without a committed offset answers offset -1 with no
 * error, and so does a group that does not exist. While __consumer_offsets loads the answer is
 * COORDINATOR_LOAD_IN_PROGRESS (per group from v8, top level from v2, per partition before).
 * Per-version notes: v2 adds the top-level error and null topics; v3 throttle time; v5 the leader
 * epoch; v6 is flexible; v7 require_stable (a partition with an offset in an open transaction
 * answers UNSTABLE_OFFSET_COMMIT); v8 batches groups; v9 adds member id and epoch (KIP-848),
 * checked for consumer groups; v10 names topics by id instead of name: an id that names no topic
 * answers UNKNOWN_TOPIC_ID for each partition asked, and all offsets (topics null) come with the
 * ids of their topics.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { OFFSET_FETCH_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetFetchRequestGroup } from "../../protocol/generated/offset-fetch-request.js";
import type {
  OffsetFetchResponse,
  OffsetFetchResponseTopics,
} from "../../protocol/generated/offset-fetch-response.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { authorize, filterAuthorized } from "../auth.js";
import type { GroupCoordinator } from "../group/group-coordinator.js";
import { defineHandler, type RequestContext } from "../registry.js";

/** Before v10 topics are named, and the response's topic ids (which those versions omit) are zero. */
function withoutTopicIds<T extends { name: string }>(topics: T[]): (T & { topicId: string })[] {
  return topics.map((t) => ({ ...t, topicId: ZERO_UUID }));
}

/**
 * One group of a v10 request, whose topics are named by id: ids are resolved through the metadata
 * image (an unknown one answers UNKNOWN_TOPIC_ID), and the answer carries each topic's id.
 */
function fetchByTopicId(
  ctx: RequestContext,
  coordinator: GroupCoordinator,
  group: OffsetFetchRequestGroup,
): { errorCode: number; topics: OffsetFetchResponseTopics[] } {
  const image = ctx.broker.image();
  const asked = group.topics?.map((t) => ({ ...t, name: image.topicsById.get(t.topicId)?.name ?? "" }));
  const r = coordinator.fetchOffsets(
    group.groupId,
    asked?.filter((t) => t.name !== "") ?? null,
    group.memberId,
    group.memberEpoch,
  );
  if (asked === undefined) {
    // All offsets: only those of topics that still exist can be named by id.
    const topics: OffsetFetchResponseTopics[] = [];
    for (const t of r.topics) {
      const topicId = image.topicsByName.get(t.name)?.topicId;
      if (topicId !== undefined) topics.push({ ...t, topicId });
    }
    return { errorCode: r.errorCode, topics };
  }
  if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, topics: [] };
  const found = new Map(r.topics.map((t) => [t.name, t]));
  return {
    errorCode: ErrorCode.NONE,
    topics: asked.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      partitions:
        t.name === ""
          ? t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              committedOffset: -1n,
              committedLeaderEpoch: -1,
              metadata: "",
              errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
            }))
          : found.get(t.name)!.partitions,
    })),
  };
}

/**
 * require_stable (v7+): a partition with an offset in an open transaction answers
 * UNSTABLE_OFFSET_COMMIT, so the client retries until the transaction ends (KIP-447).
 */
function markUnstable(
  ctx: RequestContext,
  groupId: string,
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[],
): void {
  const pending = ctx.broker.transactions.offsets;
  for (const t of topics) {
    for (const p of t.partitions) {
      if (p.errorCode === ErrorCode.NONE && pending.hasPending(groupId, t.name, p.partitionIndex)) {
        p.errorCode = ErrorCode.UNSTABLE_OFFSET_COMMIT;
      }
    }
  }
}

/**
 * Kafka's checks: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED), DESCRIBE on each topic:
 * a named topic the client may not describe is answered TOPIC_AUTHORIZATION_FAILED per partition,
 * and left out when all offsets are asked for.
 */
function describableOffsets<T extends { name: string; partitions: object[] }>(
  ctx: RequestContext,
  topics: T[],
  all: boolean,
): T[] {
  if (ctx.broker.authorizer === undefined) return topics;
  const named = topics.filter((t) => t.name !== "").map((t) => t.name);
  const ok = filterAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, named, { logIfDenied: !all });
  const visible = (t: T) => t.name === "" || ok.has(t.name);
  if (all) return topics.filter(visible);
  return topics.map((t) =>
    visible(t)
      ? t
      : {
          ...t,
          partitions: t.partitions.map((p) => ({
            ...p,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: "",
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          })),
        },
  );
}

const GROUP_DENIED = { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };

export const handler = defineHandler({
  api: OFFSET_FETCH_API,
  minVersion: 1,
  maxVersion: 10,
  ordering: "serial",
  async handle(ctx, request): Promise<OffsetFetchResponse> {
    const coordinator = await ctx.broker.groups.ready();
    const groupAllowed = (groupId: string) =>
      authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId);
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        errorCode: ErrorCode.NONE,
        groups: request.groups.map((g) => {
          if (!groupAllowed(g.groupId)) return { groupId: g.groupId, ...GROUP_DENIED };
          const all = g.topics === null;
          if (ctx.apiVersion >= 10) {
            const r = fetchByTopicId(ctx, coordinator, g);
            if (request.requireStable) markUnstable(ctx, g.groupId, r.topics);
            return {
              groupId: g.groupId,
              errorCode: r.errorCode,
              topics: describableOffsets(ctx, r.topics, all),
            };
          }
          const r = coordinator.fetchOffsets(g.groupId, g.topics, g.memberId, g.memberEpoch);
          if (request.requireStable) markUnstable(ctx, g.groupId, r.topics);
          return {
            groupId: g.groupId,
            errorCode: r.errorCode,
            topics: describableOffsets(ctx, withoutTopicIds(r.topics), all),
          };
        }),
      };
    }
    const asked = ctx.apiVersion >= 2 ? request.topics : (request.topics ?? []);
    const r = groupAllowed(request.groupId)
      ? coordinator.fetchOffsets(request.groupId, asked, null, -1)
      : GROUP_DENIED;
    if (r.errorCode !== ErrorCode.NONE && ctx.apiVersion < 2) {
      // v1 has no top-level error: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        groups: [],
        topics: (request.topics ?? []).map((t) => ({
          name: t.name,
          topicId: ZERO_UUID,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1n,
            committedLeaderEpoch: -1,
            metadata: "",
            errorCode: r.errorCode,
          })),
        })),
      };
    }
    if (ctx.apiVersion >= 7 && request.requireStable) markUnstable(ctx, request.groupId, r.topics);
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      groups: [],
      topics: describableOffsets(ctx, withoutTopicIds(r.topics), asked === null),
    };
  },
});

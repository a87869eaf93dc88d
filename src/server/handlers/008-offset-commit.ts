/**
 * OffsetCommit (key 8), versions 2-10 (Kafka 4 removed v0-1, KIP-896): stores a group's consumed
 * positions in __consumer_offsets and answers once they are written. Members commit with their
 * generation (classic) or member epoch (KIP-848), checked by the coordinator; generation -1 with
 * no member id is a standalone commit, accepted for empty groups and creating a "simple" group if
 * needed (kcat, the Java admin client, consumers using assign()). Partitions that do not exist
 * (unknown topics, or indexes beyond the topic's partitions) get UNKNOWN_TOPIC_OR_PARTITION and
 * are not stored, as Kafka does; metadata longer than offset.metadata.max.bytes gets
 * OFFSET_METADATA_TOO_LARGE; a group holding offsets for group.max.offsets partitions gets
 * GROUP_MAX_SIZE_REACHED for others.
 * Per-version notes: v2-4 carry a retention time (an explicit expiry); v5 drops it; v6 adds the
 * leader epoch; v7 the group instance id; v8 is flexible; v9 (KIP-848) answers GROUP_ID_NOT_FOUND
 * instead of ILLEGAL_GENERATION for a missing group; v10 names topics by id instead of name, and
 * an id that names no topic answers UNKNOWN_TOPIC_ID.
 * Authorization: READ on the group (else every partition GROUP_AUTHORIZATION_FAILED), READ on
 * each topic (TOPIC_AUTHORIZATION_FAILED; such topics are not committed).
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { OFFSET_COMMIT_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetCommitResponse } from "../../protocol/generated/offset-commit-response.js";
import { authorize, failedTopic, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: OFFSET_COMMIT_API,
  minVersion: 2,
  maxVersion: 10,
  ordering: "serial",
  async handle(ctx, request): Promise<OffsetCommitResponse> {
    // Kafka's handleOffsetCommitRequest: READ on the group, then READ on each topic.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => failedTopic(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)),
      };
    }
    const coordinator = await ctx.broker.groups.ready();
    const image = ctx.broker.image();
    // v10 names topics by id: Kafka's KafkaApis resolves each id to its name first.
    const byId = ctx.apiVersion >= 10;
    const topicsIn = byId
      ? request.topics.map((t) => ({ ...t, name: image.topicsById.get(t.topicId)?.name ?? "" }))
      : request.topics;
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      topicsIn.filter((t) => t.name !== "").map((t) => t.name),
    );
    const allowed = (t: { name: string }) => t.name === "" || readable.has(t.name);
    const committed = await coordinator.commitOffsets(
      { ...request, topics: topicsIn.filter(allowed) },
      ctx.apiVersion,
      (topic, partition) => topic !== "" && image.hasPartition(topic, partition),
    );
    let next = 0;
    const topics = topicsIn.map((t) =>
      allowed(t) ? committed[next++]! : failedTopic(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
    );
    if (byId) {
      // An id that names no topic: its partitions answered UNKNOWN_TOPIC_OR_PARTITION above.
      for (const [i, t] of topics.entries()) {
        if (topicsIn[i]!.name !== "") continue;
        for (const p of t.partitions) p.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});

/**
 * OffsetCommit (key 8), versions 2-9 (Kafka 4 removed v0-1, KIP-896): stores a group's consumed positions in __consumer_offsets
 * and answers once they are written. Members commit with their generation (classic) or member
 * epoch (KIP-848), checked by the coordinator; generation -1 with no member id is a standalone
 * commit, accepted for empty groups and creating a "simple" group if needed (kcat, the Java
 * admin client, consumers using assign()). Topics that do not exist get
 * UNKNOWN_TOPIC_OR_PARTITION, as Kafka does; metadata longer than offset.metadata.max.bytes gets
 * OFFSET_METADATA_TOO_LARGE.
 * Per-version notes: v2-4
 * carry a retention time (an explicit expiry); v5 drops it; v6 adds the leader epoch; v7 the
 * group instance id; v8 is flexible; v9 (KIP-848) answers GROUP_ID_NOT_FOUND instead of
 * ILLEGAL_GENERATION for a missing group.
 */
import { OFFSET_COMMIT_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetCommitResponse } from "../../protocol/generated/offset-commit-response.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: OFFSET_COMMIT_API,
  minVersion: 2,
  maxVersion: 9,
  ordering: "serial",
  async handle(ctx, request): Promise<OffsetCommitResponse> {
    const coordinator = await ctx.broker.groups.ready();
    const image = ctx.broker.image();
    const known = request.topics.filter((t) => image.topicsByName.has(t.name));
    const committed =
      known.length === 0 && request.topics.length > 0
        ? []
        : await coordinator.commitOffsets({ ...request, topics: known }, ctx.apiVersion);
    const byTopic = new Map(committed.map((t) => [t.name, t]));
    // Answer in request order; a topic named twice gets its results once per mention.
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => {
        const result = image.topicsByName.has(t.name) ? byTopic.get(t.name) : undefined;
        if (result !== undefined) return { ...result, topicId: ZERO_UUID };
        return {
          name: t.name,
          topicId: ZERO_UUID,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          })),
        };
      }),
    };
  },
});

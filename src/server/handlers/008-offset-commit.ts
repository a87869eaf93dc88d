/**
 * OffsetCommit (key 8), versions 2-9 (Kafka 4 removed v0-1, KIP-896): stores a group's consumed positions in __consumer_offsets
 * and answers once they are written. Members commit with their generation (classic) or member
 * epoch (KIP-848), checked by the coordinator; generation -1 with no member id is a standalone
 * commit, accepted for empty groups and creating a "simple" group if needed (kcat, the Java
 * admin client, consumers using assign()). Partitions that do not exist (unknown topics, or
 * indexes beyond the topic's partitions) get UNKNOWN_TOPIC_OR_PARTITION and are not stored, as
 * Kafka does; metadata longer than offset.metadata.max.bytes gets OFFSET_METADATA_TOO_LARGE; a
 * group holding offsets for group.max.offsets partitions gets GROUP_MAX_SIZE_REACHED for others.
 * Per-version notes: v1 adds generation, member id and a per-partition commit timestamp; v2-4
 * carry a retention time (an explicit expiry); v5 drops it; v6 adds the leader epoch; v7 the
 * group instance id; v8 is flexible; v9 (KIP-848) answers GROUP_ID_NOT_FOUND instead of
 * ILLEGAL_GENERATION for a missing group.
 */
import { OFFSET_COMMIT_API } from "../../protocol/generated/apis.js";
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
    const topics = await coordinator.commitOffsets(request, ctx.apiVersion, (topic, partition) =>
      image.hasPartition(topic, partition),
    );
    return { throttleTimeMs: 0, topics };
  },
});

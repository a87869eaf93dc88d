/**
 * TxnOffsetCommit (api key 28), versions 0-4: offsets committed as part of a transaction
 * (sendOffsetsToTransaction). They are written to the group's __consumer_offsets partition in a
 * transactional batch and become visible to OffsetFetch only when the transaction commits
 * (src/server/txn/txn-offsets.ts). v2 adds the leader epoch; v3 adds member id, group instance id
 * and generation, which are checked against the group when given (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID). The group's offsets partition must be in the
 * producer's transaction (AddOffsetsToTxn first), else INVALID_TXN_STATE. Partitions are checked
 * as OffsetCommit checks them: UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist,
 * OFFSET_METADATA_TOO_LARGE, GROUP_MAX_SIZE_REACHED beyond group.max.offsets.
 */
import { TXN_OFFSET_COMMIT_API } from "../../protocol/generated/apis.js";
import type { TxnOffsetCommitResponse } from "../../protocol/generated/txn-offset-commit-response.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: TXN_OFFSET_COMMIT_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "serial",
  async handle(ctx, request): Promise<TxnOffsetCommitResponse> {
    // Starts loading both coordinators; until the group coordinator is loaded, every partition
    // that exists is answered COORDINATOR_LOAD_IN_PROGRESS (its validateTxnOffsetCommit).
    ctx.broker.groups.kick();
    const service = ctx.broker.transactions;
    service.kick();
    const image = ctx.broker.image();
    const topics = await service.offsets.commit(request, ctx.apiVersion, (topic, partition) =>
      image.hasPartition(topic, partition),
    );
    return { throttleTimeMs: 0, topics };
  },
});

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
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { TXN_OFFSET_COMMIT_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { TxnOffsetCommitResponse } from "../../protocol/generated/txn-offset-commit-response.js";
import { authorize, failedTopic, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: TXN_OFFSET_COMMIT_API,
  minVersion: 0,
  maxVersion: 4,
  ordering: "serial",
  async handle(ctx, request): Promise<TxnOffsetCommitResponse> {
    // Kafka's handleTxnOffsetCommitRequest: WRITE on the transactional id, READ on the group (each
    // answered for every partition), READ on each topic (TOPIC_AUTHORIZATION_FAILED, not committed).
    const denied = !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId)
      ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
      : !authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : undefined;
    if (denied !== undefined) {
      return { throttleTimeMs: 0, topics: request.topics.map((t) => failedTopic(t, denied)) };
    }
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    // Starts loading both coordinators; until the group coordinator is loaded, every partition
    // that exists is answered COORDINATOR_LOAD_IN_PROGRESS (its validateTxnOffsetCommit).
    ctx.broker.groups.kick();
    const service = ctx.broker.transactions;
    service.kick();
    const image = ctx.broker.image();
    const committed = await service.offsets.commit(
      { ...request, topics: request.topics.filter((t) => readable.has(t.name)) },
      ctx.apiVersion,
      (topic, partition) => image.hasPartition(topic, partition),
    );
    let next = 0;
    const topics = request.topics.map((t) =>
      readable.has(t.name) ? committed[next++]! : failedTopic(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
    );
    return { throttleTimeMs: 0, topics };
  },
});

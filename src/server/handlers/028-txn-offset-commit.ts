/**
 * TxnOffsetCommit (api key 28), versions 0-6: offsets committed as part of a transaction
 * (sendOffsetsToTransaction). They are written to the group's __consumer_offsets partition in a
 * transactional batch and become visible to OffsetFetch only when the transaction commits
 * (src/server/txn/txn-offsets.ts). v2 adds the leader epoch; v3 adds member id, group instance id
 * and generation, which are checked against the group when given (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID). Below v5 the group's offsets partition must be in the
 * producer's transaction (AddOffsetsToTxn first), else INVALID_TXN_STATE (TRANSACTION_ABORTABLE
 * from v4, which knows that error, as Kafka answers it); v5 (transactions v2,
 * KIP-890 part 2) adds it itself, as an implicit AddOffsetsToTxn. v6 names topics by id
 * (KIP-1319): an id that names no topic answers UNKNOWN_TOPIC_ID for its partitions. Partitions are
 * checked as OffsetCommit checks them: UNKNOWN_TOPIC_OR_PARTITION for partitions that do not
 * exist, OFFSET_METADATA_TOO_LARGE, GROUP_MAX_SIZE_REACHED beyond group.max.offsets.
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
  maxVersion: 6,
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
    // Starts loading both coordinators; until the group coordinator is loaded, every partition
    // that exists is answered COORDINATOR_LOAD_IN_PROGRESS (its validateTxnOffsetCommit).
    ctx.broker.groups.kick();
    const service = ctx.broker.transactions;
    service.kick();
    const image = ctx.broker.image();
    // v6 names topics by id: resolved to names first, as Kafka's KafkaApis does.
    const byId = ctx.apiVersion >= 6;
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
    const committed = await service.offsets.commit(
      { ...request, topics: topicsIn.filter(allowed) },
      ctx.apiVersion,
      (topic, partition) => topic !== "" && image.hasPartition(topic, partition),
    );
    let next = 0;
    const topics = topicsIn.map((t) =>
      allowed(t)
        ? committed[next++]!
        : { ...failedTopic(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED), topicId: t.topicId },
    );
    if (byId) {
      for (const [i, t] of topics.entries()) {
        t.topicId = topicsIn[i]!.topicId;
        if (topicsIn[i]!.name !== "") continue;
        for (const p of t.partitions) p.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
      }
    }
    return { throttleTimeMs: 0, topics };
  },
});

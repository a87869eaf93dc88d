/**
 * DeleteTopics (key 20), versions 1-6 (Kafka 4 dropped v0, KIP-896).
 *
 * v1-5 name topics in topic_names; v6 lists topics by name or by id (one of the two: both set is
 * INVALID_REQUEST). Unknown names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids UNKNOWN_TOPIC_ID,
 * and everything TOPIC_DELETION_DISABLED when delete.topic.enable is false. The reply comes once
 * the topic is gone from the metadata image and its partition logs are removed.
 * On a controller listener it runs only on the active controller, else every topic is answered
 * NOT_CONTROLLER; on a broker listener it is forwarded when the controller is elsewhere
 * (controller-apis.ts).
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { DELETE_TOPICS_API } from "../../protocol/generated/apis.js";
import type { DeleteTopicsResponseDeletableTopicResult } from "../../protocol/generated/delete-topics-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { authorizeCluster, filterAuthorized } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import {
  controllerMutationQuota,
  THROTTLING_QUOTA_EXCEEDED,
  THROTTLING_QUOTA_EXCEEDED_MESSAGE,
} from "../quotas/controller-mutation.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: DELETE_TOPICS_API,
  minVersion: 1,
  maxVersion: 6,
  ordering: "concurrent",
  async handle(ctx, request) {
    const invalid: DeleteTopicsResponseDeletableTopicResult[] = [];
    const targets: { name: string | null; topicId: string | null }[] = [];
    if (ctx.apiVersion >= 6) {
      for (const t of request.topics) {
        const hasId = t.topicId !== ZERO_UUID;
        if (t.name !== null && hasId) {
          invalid.push({
            name: t.name,
            topicId: t.topicId,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: "Both topic name and topic id were given.",
          });
        } else if (t.name === null && !hasId) {
          invalid.push({
            name: null,
            topicId: ZERO_UUID,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: "Neither topic name nor topic id was given.",
          });
        } else {
          targets.push({ name: t.name, topicId: hasId ? t.topicId : null });
        }
      }
    } else {
      for (const name of request.topicNames) targets.push({ name, topicId: null });
    }
    // Kafka's ControllerApis.deleteTopics: DELETE on the cluster, else DESCRIBE and DELETE on each
    // topic; a topic named by id that the client may not describe is answered without its name.
    if (!authorizeCluster(ctx, AclOperation.DELETE, { logIfDenied: false })) {
      const image = ctx.broker.image();
      const nameOf = (t: { name: string | null; topicId: string | null }) =>
        t.name ?? (t.topicId === null ? undefined : image.topicsById.get(t.topicId)?.name);
      const named = targets.map(nameOf).filter((n) => n !== undefined);
      const describable = filterAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, named);
      const deletable = filterAuthorized(ctx, AclOperation.DELETE, ResourceType.TOPIC, named);
      const allowed = targets.filter((t) => {
        const name = nameOf(t);
        if (name === undefined || deletable.has(name)) return true;
        invalid.push({
          name: t.name !== null || describable.has(name) ? name : null,
          topicId: t.topicId ?? ZERO_UUID,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: "Topic authorization failed.",
        });
        return false;
      });
      targets.splice(0, targets.length, ...allowed);
    }
    // controller_mutation_rate, strict from v5: a topic takes its partition count in tokens.
    const takeTokens = controllerMutationQuota(ctx, 5);
    const image = ctx.broker.image();
    const unthrottled = targets.filter((t) => {
      const topic =
        t.topicId !== null ? image.topicsById.get(t.topicId) : image.topicsByName.get(t.name ?? "");
      if (takeTokens(topic?.partitions.length ?? 0)) return true;
      invalid.push({
        name: t.name,
        topicId: t.topicId ?? ZERO_UUID,
        errorCode: THROTTLING_QUOTA_EXCEEDED,
        errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE,
      });
      return false;
    });
    targets.splice(0, targets.length, ...unthrottled);
    const results = await runOnController(
      ctx,
      (controller) => controller.deleteTopics(targets, { timeoutMs: request.timeoutMs }),
      (message) =>
        targets.map((t) => ({
          name: t.name,
          topicId: t.topicId ?? ZERO_UUID,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: message,
        })),
    );
    return {
      throttleTimeMs: 0,
      responses: [
        ...results.map((r) => ({
          name: r.name,
          topicId: r.topicId,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
        })),
        ...invalid,
      ],
    };
  },
});

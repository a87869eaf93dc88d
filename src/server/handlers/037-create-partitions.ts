/**
 * CreatePartitions (key 37), versions 0-3.
 *
 * Raises a topic's partition count (never lowers it: INVALID_PARTITIONS, as is asking for the
 * current count). New partitions get replicas round-robin over the brokers with the topic's
 * replication factor, or the manual assignment given (one list per new partition, else
 * INVALID_REPLICA_ASSIGNMENT). Unknown topics get UNKNOWN_TOPIC_OR_PARTITION, a topic named twice
 * INVALID_REQUEST. validate_only writes nothing.
 * On a controller listener it runs only on the active controller, else every topic is answered
 * NOT_CONTROLLER; on a broker listener it is forwarded when the controller is elsewhere
 * (controller-apis.ts).
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { CREATE_PARTITIONS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { filterAuthorized } from "../auth.js";
import { runOnController } from "../controller-apis.js";
import {
  controllerMutationQuota,
  THROTTLING_QUOTA_EXCEEDED,
  THROTTLING_QUOTA_EXCEEDED_MESSAGE,
} from "../quotas/controller-mutation.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: CREATE_PARTITIONS_API,
  minVersion: 0,
  maxVersion: 3,
  ordering: "concurrent",
  async handle(ctx, request) {
    // Kafka's CreatePartitions: ALTER on each topic ("The topic authorization is failed.").
    const alterable = filterAuthorized(
      ctx,
      AclOperation.ALTER,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    const denied: { name: string; errorCode: number; errorMessage: string }[] = request.topics
      .filter((t) => !alterable.has(t.name))
      .map((t) => ({
        name: t.name,
        errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        errorMessage: "The topic authorization is failed.",
      }));
    // controller_mutation_rate, strict from v3: a topic takes the partitions it adds in tokens.
    const takeTokens = controllerMutationQuota(ctx, 3);
    const image = ctx.broker.image();
    const allowed = request.topics.filter((t) => {
      if (!alterable.has(t.name)) return false;
      const current = image.topicsByName.get(t.name)?.partitions.length ?? t.count;
      if (takeTokens(Math.max(0, t.count - current))) return true;
      denied.push({
        name: t.name,
        errorCode: THROTTLING_QUOTA_EXCEEDED,
        errorMessage: THROTTLING_QUOTA_EXCEEDED_MESSAGE,
      });
      return false;
    });
    const results = await runOnController(
      ctx,
      (controller) =>
        controller.createPartitions(
          allowed.map((t) => ({
            name: t.name,
            count: t.count,
            assignments: t.assignments === null ? null : t.assignments.map((a) => a.brokerIds),
          })),
          request.validateOnly,
          { timeoutMs: request.timeoutMs },
        ),
      (message) =>
        allowed.map((t) => ({
          name: t.name,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: message,
        })),
    );
    return { throttleTimeMs: 0, results: [...results, ...denied] };
  },
});

/**
 * ConsumerGroupHeartbeat (key 68), versions 0-1: the KIP-848 consumer protocol. The member
 * joins with epoch 0, then heartbeats; the coordinator computes assignments server-side
 * (group.consumer.assignors: uniform, range) and moves each member towards its target one step
 * at a time, revoking before assigning. Epoch -1 leaves; -2 is a static member's temporary leave.
 * Errors as Kafka: INVALID_REQUEST for malformed fields, UNSUPPORTED_ASSIGNOR,
 * FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID,
 * GROUP_ID_NOT_FOUND for a group used by classic members, GROUP_MAX_SIZE_REACHED.
 * Per-version notes: v1 adds subscribed_topic_regex (matched against whole topic names; internal
 * topics never match).
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { CONSUMER_GROUP_HEARTBEAT_API } from "../../protocol/generated/apis.js";
import type { ConsumerGroupHeartbeatResponse } from "../../protocol/generated/consumer-group-heartbeat-response.js";
import { defaultConsumerGroupHeartbeatResponse } from "../../protocol/generated/consumer-group-heartbeat-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: CONSUMER_GROUP_HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "serial",
  async handle(ctx, request): Promise<ConsumerGroupHeartbeatResponse> {
    // Kafka's handleConsumerGroupHeartbeat: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        ...defaultConsumerGroupHeartbeatResponse(),
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        errorMessage: "Group authorization failed.",
      };
    }
    const coordinator = await ctx.broker.groups.ready();
    const result = await coordinator.consumerGroupHeartbeat(
      ctx.apiVersion >= 1 ? request : { ...request, subscribedTopicRegex: null },
      {
        apiVersion: ctx.apiVersion,
        clientId: ctx.clientId ?? "",
        clientHost: `/${ctx.connection.remoteAddress}`,
      },
    );
    return { throttleTimeMs: 0, ...result };
  },
});

/**
 * ConsumerGroupHeartbeat (key 68), versions 0-1: the KIP-848 consumer protocol. The member
 * joins with epoch 0, then heartbeats; the coordinator computes assignments server-side
 * (group.consumer.assignors: uniform, range) and moves each member towards its target one step
 * at a time, revoking before assigning. Epoch -1 leaves; -2 is a static member's temporary leave.
 * Errors as Kafka: INVALID_REQUEST for malformed fields, UNSUPPORTED_ASSIGNOR,
 * FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID,
 * GROUP_ID_NOT_FOUND for a group used by classic members, GROUP_MAX_SIZE_REACHED.
 * Per-version notes: v1 adds subscribed_topic_regex (matched against whole topic names; internal
 * topics never match). With group.version finalized at 0 (`kafka-features disable`) the consumer
 * protocol is off: UNSUPPORTED_VERSION, as Kafka's isConsumerGroupProtocolEnabled answers.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { finalizedLevel, GROUP_VERSION_FEATURE } from "../../metadata/features.js";
import { CONSUMER_GROUP_HEARTBEAT_API } from "../../protocol/generated/apis.js";
import {
  type ConsumerGroupHeartbeatResponse,
  defaultConsumerGroupHeartbeatResponse,
} from "../../protocol/generated/consumer-group-heartbeat-response.js";
import { ErrorCode, errorCodeInfo } from "../../protocol/generated/error-codes.js";
import { authorize } from "../auth.js";
import { defineHandler, type RequestContext } from "../registry.js";

/** Kafka's isConsumerGroupProtocolEnabled: group.version 1 or more finalized. */
export function consumerProtocolEnabled(ctx: RequestContext): boolean {
  return finalizedLevel(ctx.broker.image().features, GROUP_VERSION_FEATURE) >= 1;
}

export const handler = defineHandler({
  api: CONSUMER_GROUP_HEARTBEAT_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "serial",
  async handle(ctx, request): Promise<ConsumerGroupHeartbeatResponse> {
    // Kafka's handleConsumerGroupHeartbeat: the protocol must be on, then READ on the group.
    if (!consumerProtocolEnabled(ctx)) {
      return {
        ...defaultConsumerGroupHeartbeatResponse(),
        errorCode: ErrorCode.UNSUPPORTED_VERSION,
        errorMessage: errorCodeInfo(ErrorCode.UNSUPPORTED_VERSION)?.message ?? null,
      };
    }
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

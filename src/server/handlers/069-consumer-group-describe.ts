/**
 * ConsumerGroupDescribe (key 69), versions 0-1: KIP-848 groups with their epochs, assignor and
 * members (current and target assignments, topic names resolved from the metadata image). A
 * classic group answers GROUP_ID_NOT_FOUND "is not a consumer group", on which the admin client
 * falls back to DescribeGroups, as with Kafka.
 * Per-version notes: v1 adds each member's type (KIP-1099): 1, a consumer-protocol member, for
 * every member, since Krill runs no mixed groups (classic members inside a consumer group, which
 * would be 0). With group.version finalized at 0 every group answers UNSUPPORTED_VERSION, as
 * Kafka's handler does when the consumer protocol is off.
 */
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { CONSUMER_GROUP_DESCRIBE_API } from "../../protocol/generated/apis.js";
import {
  type ConsumerGroupDescribeResponse,
  defaultConsumerGroupDescribeResponseDescribedGroup,
} from "../../protocol/generated/consumer-group-describe-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizedOperations, filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";
import { AUTHORIZED_OPERATIONS_OMITTED } from "./003-metadata.js";
import { consumerProtocolEnabled } from "./068-consumer-group-heartbeat.js";

/** v1's member type (KIP-1099): a member using the consumer protocol (v0 omits the field). */
const MEMBER_TYPE_CONSUMER = 1;

export const handler = defineHandler({
  api: CONSUMER_GROUP_DESCRIBE_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "serial",
  async handle(ctx, request): Promise<ConsumerGroupDescribeResponse> {
    if (!consumerProtocolEnabled(ctx)) {
      return {
        throttleTimeMs: 0,
        groups: request.groupIds.map((groupId) => ({
          ...defaultConsumerGroupDescribeResponseDescribedGroup(),
          groupId,
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
        })),
      };
    }
    // Kafka's handleConsumerGroupDescribe: DESCRIBE on each group.
    const allowed = filterAuthorized(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, request.groupIds);
    const denied = request.groupIds
      .filter((g) => !allowed.has(g))
      .map((groupId) => ({
        ...defaultConsumerGroupDescribeResponseDescribedGroup(),
        groupId,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
      }));
    const coordinator = await ctx.broker.groups.ready();
    const described = coordinator
      .consumerGroupDescribe(request.groupIds.filter((g) => allowed.has(g)))
      .map((g) => ({
        ...g,
        members: g.members.map((m) => ({ ...m, memberType: MEMBER_TYPE_CONSUMER })),
        authorizedOperations:
          request.includeAuthorizedOperations && g.errorCode === ErrorCode.NONE
            ? authorizedOperations(ctx, ResourceType.GROUP, g.groupId)
            : AUTHORIZED_OPERATIONS_OMITTED,
      }));
    return { throttleTimeMs: 0, groups: [...denied, ...described] };
  },
});

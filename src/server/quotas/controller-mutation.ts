/**
 * controller_mutation_rate (KIP-599) for CreateTopics, CreatePartitions and DeleteTopics: each
 * topic takes as many tokens as the partitions it creates or deletes, from the client's token
 * bucket (client-quota-manager.ts). As Kafka's ControllerMutationQuotaManager:
 *
 * - Strict from CreateTopics v6, CreatePartitions v3 and DeleteTopics v5: while the bucket is
 *   below zero a topic is refused with THROTTLING_QUOTA_EXCEEDED (the request that takes it below
 *   zero still passes), and the response carries the time until it is back at zero.
 * - Permissive below those versions (clients that do not know the error): every topic proceeds,
 *   and the response is throttled for the time the bucket needs.
 *
 * Either way the connection is muted for the throttle (the dispatcher, request-quota.ts).
 * Requests on a controller listener are not limited. Krill takes the tokens on the node that
 * received the request, before the controller validates the topic (Kafka takes them in the active
 * controller, for valid topics only): a client spreading its requests over N brokers may reach N
 * times the rate.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { isControllerListener } from "../controller-apis.js";
import type { RequestContext } from "../registry.js";
import { quotaUser } from "./broker-quotas.js";

/** Kafka's Errors.THROTTLING_QUOTA_EXCEEDED message. */
export const THROTTLING_QUOTA_EXCEEDED_MESSAGE = "The throttling quota has been exceeded.";
export const THROTTLING_QUOTA_EXCEEDED = ErrorCode.THROTTLING_QUOTA_EXCEEDED;

/**
 * A function taking `permits` (partitions) for one topic: false when the strict quota refuses the
 * topic. Without a controller_mutation_rate quota, always true.
 */
export function controllerMutationQuota(
  ctx: RequestContext,
  strictSinceVersion: number,
): (permits: number) => boolean {
  const manager = ctx.broker.quotas?.controllerMutation;
  if (manager === undefined || !manager.enabled || isControllerListener(ctx) || ctx.quota === undefined) {
    return () => true;
  }
  const state = ctx.quota;
  const user = quotaUser(ctx.connection);
  const clientId = ctx.clientId ?? "";
  if (ctx.apiVersion >= strictSinceVersion) {
    return (permits) => {
      const throttleMs = manager.tryAcquire(user, clientId, permits, ctx.broker.clock.nowMs());
      if (throttleMs === undefined) return true;
      state.throttleMs = Math.max(state.throttleMs, throttleMs);
      return false;
    };
  }
  return (permits) => {
    const throttleMs = manager.recordAndGetThrottleMs(user, clientId, permits, ctx.broker.clock.nowMs());
    state.throttleMs = Math.max(state.throttleMs, throttleMs);
    return true;
  };
}

/**
 * The request_percentage quota and the throttle of a response, applied by the dispatcher once a
 * handler answered (Kafka's KafkaApis sendResponseMaybeThrottle and the produce/fetch paths):
 *
 * - The handler's own throttle (a byte rate: producer_byte_rate in Produce, consumer_byte_rate in
 *   Fetch) is already in the response's throttle_time_ms.
 * - The request's handling time is recorded against request_percentage (a percentage of one
 *   thread: 1 ms of handling is 0.1 percent-second), and its throttle (at most one quota window,
 *   as Kafka's ClientRequestQuotaManager) raises throttle_time_ms if larger. Krill handles
 *   requests on one event loop, so "handling time" is the time the loop spent in the handler's
 *   synchronous part (validation, appends, building the response), not time spent waiting (a
 *   long-polling Fetch, a produce waiting for replicas), as Kafka counts request-thread time and
 *   not purgatory time.
 * - Exempt, as in Kafka: SASL requests, WriteTxnMarkers and a follower's Fetch (cluster actions),
 *   requests on controller listeners, and acks=0 Produce (no response to carry it).
 *
 * The connection is muted for the resulting throttle (network/connection.ts, KIP-219).
 */
import { NO_RESPONSE, type RequestContext } from "../registry.js";
import { quotaUser } from "./broker-quotas.js";

const EXEMPT_API_KEYS: ReadonlySet<number> = new Set([
  17, // SaslHandshake
  27, // WriteTxnMarkers
  36, // SaslAuthenticate
]);

interface Throttled {
  throttleTimeMs: number;
}

function hasThrottleField(response: unknown): response is Throttled {
  return (
    typeof response === "object" &&
    response !== null &&
    typeof (response as Partial<Throttled>).throttleTimeMs === "number"
  );
}

/**
 * Records the request's handling time (`busyMs`) against request_percentage and returns the
 * throttle to mute the connection for: the larger of the handler's byte-rate throttle
 * (`ctx.quota.throttleMs`) and the request quota's, which is also written into the response's
 * throttle_time_ms.
 */
export function applyRequestQuota(
  ctx: RequestContext,
  response: unknown,
  busyMs: number,
  controllerListener: boolean,
): number {
  const quotas = ctx.broker.quotas;
  if (quotas === undefined) return 0;
  let throttleMs = ctx.quota?.throttleMs ?? 0;
  if (
    response !== NO_RESPONSE &&
    quotas.request.enabled &&
    !controllerListener &&
    ctx.quota?.exempt !== true &&
    !EXEMPT_API_KEYS.has(ctx.apiKey) &&
    hasThrottleField(response)
  ) {
    const requestThrottleMs = quotas.request.recordAndGetThrottleMs(
      quotaUser(ctx.connection),
      ctx.clientId ?? "",
      busyMs / 10,
      ctx.broker.clock.nowMs(),
    );
    throttleMs = Math.max(throttleMs, requestThrottleMs);
  }
  if (throttleMs > 0 && hasThrottleField(response)) {
    response.throttleTimeMs = Math.max(response.throttleTimeMs, throttleMs);
  }
  return throttleMs;
}

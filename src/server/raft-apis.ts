/**
 * The KRaft quorum's RPCs as the controller listener serves them (Kafka's ControllerApis hands
 * them to its raft manager): the request is mapped to the core's message (src/raft/wire.ts),
 * given to this node's quorum member (`ctx.broker.raftEndpoint`), and its answer mapped back at
 * the request's version.
 *
 * - A single node whose metadata log is local answers as the leader of a quorum of one
 *   (`SingleVoterEndpoint`), as Kafka's lone controller does. A quorum member that is not running
 *   or has too many requests waiting answers BROKER_NOT_AVAILABLE at the top level, as Kafka's
 *   raft client answers while it shuts down; a request the core did not answer within the
 *   quorum's request timeout gets REQUEST_TIMED_OUT.
 * - Offsets beyond the safe integer range make the request INVALID_REQUEST.
 * - Without CLUSTER_ACTION on the cluster (an authorizer is configured and the peer's principal,
 *   ANONYMOUS on a PLAINTEXT controller listener, is neither a super user nor granted it), the
 *   answer is CLUSTER_AUTHORIZATION_FAILED at the top level, as Kafka's ControllerApis.
 */
import { isKrillError } from "../errors.js";
import { AclOperation } from "../metadata/acls.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { RaftApiName } from "../raft/wire.js";
import { fromWireRequest, raftRequestSource, topLevelErrorResponse, toWireResponse } from "../raft/wire.js";
import { authorizeCluster } from "./auth.js";
import type { RequestContext } from "./registry.js";

/** The wire answer to a quorum request of `api` (its generated response type, `Res`). */
export async function answerRaftRequest<Res>(
  ctx: RequestContext,
  api: RaftApiName,
  body: unknown,
): Promise<Res> {
  return (await answer(ctx, api, body)) as Res;
}

async function answer(ctx: RequestContext, api: RaftApiName, body: unknown): Promise<unknown> {
  // Kafka's ControllerApis: the quorum's RPCs need CLUSTER_ACTION (DescribeQuorum checks DESCRIBE
  // in its handler, on either listener).
  if (api !== "DescribeQuorum" && !authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)) {
    return topLevelErrorResponse(api, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  }
  const endpoint = ctx.broker.raftEndpoint;
  if (endpoint === undefined) return topLevelErrorResponse(api, ErrorCode.BROKER_NOT_AVAILABLE);
  let inbound: ReturnType<typeof fromWireRequest>;
  try {
    inbound = fromWireRequest(api, body, ctx.apiVersion);
  } catch (err) {
    if (!isKrillError(err, "DECODE_ERROR")) throw err;
    ctx.logger.info({ api, reason: err.message }, "invalid quorum request");
    return topLevelErrorResponse(api, ErrorCode.INVALID_REQUEST);
  }
  if (!inbound.ok) return inbound.response;
  try {
    const response = await endpoint.handleInbound(raftRequestSource(inbound.request), inbound.request);
    return toWireResponse(response, ctx.apiVersion, endpoint.endpoints);
  } catch (err) {
    if (isKrillError(err, "REQUEST_TIMED_OUT"))
      return topLevelErrorResponse(api, ErrorCode.REQUEST_TIMED_OUT);
    if (isKrillError(err, "NETWORK_EXCEPTION") || isKrillError(err, "REQUEST_QUEUE_FULL")) {
      return topLevelErrorResponse(api, ErrorCode.BROKER_NOT_AVAILABLE);
    }
    throw err;
  }
}

/**
 * BeginQuorumEpoch (key 53), versions 0-1, on controller listeners only (the spec's listeners).
 *
 * A new leader announces its epoch; the voter becomes its follower.
 * Served by this node's quorum member through src/server/raft-apis.ts; the mapping to the core's
 * message and back is src/raft/wire.ts.
 */
import { BEGIN_QUORUM_EPOCH_API } from "../../protocol/generated/apis.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: BEGIN_QUORUM_EPOCH_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle: (ctx, request) => answerRaftRequest(ctx, "BeginQuorumEpoch", request),
});

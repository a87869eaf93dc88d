/**
 * EndQuorumEpoch (key 54), versions 0-1, on controller listeners only (the spec's listeners).
 *
 * A resigning leader names its preferred successors (v0 PreferredSuccessors, v1
 * PreferredCandidates); the first may stand at once.
 * Served by this node's quorum member through src/server/raft-apis.ts; the mapping to the core's
 * message and back is src/raft/wire.ts.
 */
import { END_QUORUM_EPOCH_API } from "../../protocol/generated/apis.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: END_QUORUM_EPOCH_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle: (ctx, request) => answerRaftRequest(ctx, "EndQuorumEpoch", request),
});

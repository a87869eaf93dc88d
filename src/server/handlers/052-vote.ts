/**
 * Vote (key 52), versions 0-2, on controller listeners only (the spec's listeners).
 *
 * A candidate asks for this voter's vote; v2's PreVote (KIP-996) asks without bumping or storing
 * anything. A granted vote is in quorum-state (fsynced) before the answer leaves.
 * Served by this node's quorum member through src/server/raft-apis.ts; the mapping to the core's
 * message and back is src/raft/wire.ts.
 */
import { VOTE_API } from "../../protocol/generated/apis.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: VOTE_API,
  minVersion: 0,
  maxVersion: 2,
  ordering: "concurrent",
  handle: (ctx, request) => answerRaftRequest(ctx, "Vote", request),
});

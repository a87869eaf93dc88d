/**
 * FetchSnapshot (key 59), versions 0-1, on controller listeners only (the spec's listeners).
 *
 * A follower downloads the leader's snapshot in chunks (SnapshotId, Position, MaxBytes).
 * Served by this node's quorum member through src/server/raft-apis.ts; the mapping to the core's
 * message and back is src/raft/wire.ts.
 */
import { FETCH_SNAPSHOT_API } from "../../protocol/generated/apis.js";
import { answerRaftRequest } from "../raft-apis.js";
import { defineHandler } from "../registry.js";

export const handler = defineHandler({
  api: FETCH_SNAPSHOT_API,
  minVersion: 0,
  maxVersion: 1,
  ordering: "concurrent",
  handle: (ctx, request) => answerRaftRequest(ctx, "FetchSnapshot", request),
});

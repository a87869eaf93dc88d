/**
 * ListOffsets (api key 2), versions 1-11 (v0's multiple "old style" offsets are not served; Kafka
 * 4 dropped it too).
 *
 * Timestamps: -2 earliest (log start), -1 latest (the high watermark, or the last stable offset for
 * read_committed, v2+), -3 max timestamp (v7+, KIP-734: the first record with the largest
 * timestamp), -4 earliest local (v8+, the log start: no tiered storage), -5 latest tiered (v9+)
 * and -6 earliest pending upload (v11+, KIP-1023): -1, as Kafka answers with remote storage off.
 * Any other negative timestamp, or a special one below its version, is UNSUPPORTED_VERSION for
 * that partition (Kafka's ReplicaManager.isListOffsetsTimestampUnsupported; the one table is
 * TIMESTAMP_MIN_VERSION below), and a partition named twice is answered once, INVALID_REQUEST,
 * as Kafka answers.
 * A timestamp >= 0 finds the first record whose timestamp reaches it (offset-lookup.ts), only
 * below the last fetchable offset; none found is offset -1, timestamp -1.
 * v4+ returns the leader epoch of the offset and checks current_leader_epoch.
 * A follower's request (replica_id >= 0, Kafka's replica fetcher after OFFSET_OUT_OF_RANGE) reads
 * latest as the log end offset; every request but the debugging one (replica_id -2) must reach the
 * leader (NOT_LEADER_OR_FOLLOWER, after the leader-epoch check), as Kafka's fetchOnlyFromLeader.
 */

import { LATEST_TIMESTAMP, MAX_TIMESTAMP } from "../../log/partition-log.js";
import { AclOperation, ResourceType } from "../../metadata/acls.js";
import { LIST_OFFSETS_API } from "../../protocol/generated/apis.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ListOffsetsResponseListOffsetsPartitionResponse } from "../../protocol/generated/list-offsets-response.js";
import { filterAuthorized } from "../auth.js";
import { defineHandler } from "../registry.js";

const EARLIEST = -2;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const EARLIEST_PENDING_UPLOAD = -6;
const READ_COMMITTED = 1;
/** ListOffsetsRequest.DEBUGGING_REPLICA_ID: may read from a follower. */
const DEBUGGING_REPLICA_ID = -2;

/** The first version that may ask for each special (negative) timestamp, as Kafka's table. */
const TIMESTAMP_MIN_VERSION: ReadonlyMap<number, number> = new Map([
  [EARLIEST, 1],
  [LATEST_TIMESTAMP, 1],
  [MAX_TIMESTAMP, 7],
  [EARLIEST_LOCAL, 8],
  [LATEST_TIERED, 9],
  [EARLIEST_PENDING_UPLOAD, 11],
]);

/** Kafka's isListOffsetsTimestampUnsupported: a negative timestamp this version may not ask for. */
export function listOffsetsTimestampUnsupported(timestamp: number, version: number): boolean {
  if (timestamp >= 0) return false;
  const minVersion = TIMESTAMP_MIN_VERSION.get(timestamp);
  return minVersion === undefined || version < minVersion;
}

export const handler = defineHandler({
  api: LIST_OFFSETS_API,
  minVersion: 1,
  maxVersion: 11,
  ordering: "serial",
  handle(ctx, request) {
    const partitions = ctx.broker.partitions;
    const readCommitted = ctx.apiVersion >= 2 && request.isolationLevel === READ_COMMITTED;
    // The leader epoch field exists from v4; older versions must leave it at its default.
    const epochOf = (epoch: number) => (ctx.apiVersion >= 4 ? epoch : -1);
    // Kafka answers per distinct partition: one named twice gets one INVALID_REQUEST entry.
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.filter((p) => {
        const key = `${p.partitionIndex}:${topic.name}`;
        if (seen.has(key)) {
          duplicates.add(key);
          return false;
        }
        seen.add(key);
        return true;
      }),
    }));
    // Kafka's handleListOffsetRequest: DESCRIBE on each topic.
    const describable = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      ResourceType.TOPIC,
      request.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p): ListOffsetsResponseListOffsetsPartitionResponse => {
          const out: ListOffsetsResponseListOffsetsPartitionResponse = {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
          if (!describable.has(topic.name)) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            return out;
          }
          if (duplicates.has(`${p.partitionIndex}:${topic.name}`)) {
            out.errorCode = ErrorCode.INVALID_REQUEST;
            return out;
          }
          const timestamp = Number(p.timestamp);
          if (listOffsetsTimestampUnsupported(timestamp, ctx.apiVersion)) {
            out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
            return out;
          }
          const found = partitions.lookupAtEpoch(
            topic.name,
            p.partitionIndex,
            p.currentLeaderEpoch,
            request.replicaId !== DEBUGGING_REPLICA_ID,
          );
          if (!found.ok) {
            out.errorCode = found.errorCode;
            return out;
          }
          const partition = found.partition;
          if (timestamp === LATEST_TIERED || timestamp === EARLIEST_PENDING_UPLOAD) return out;
          const lookupAt = timestamp === EARLIEST_LOCAL ? EARLIEST : timestamp;
          const hit = partition.fetchOffsetForTimestamp(lookupAt, readCommitted, request.replicaId >= 0);
          if (hit === undefined) return out;
          out.offset = BigInt(hit.offset);
          out.timestamp = BigInt(hit.timestamp);
          out.leaderEpoch = epochOf(hit.leaderEpoch);
          return out;
        }),
      })),
    };
  },
});

/**
 * DescribeLogDirs (key 35), versions 1-5 (Kafka 4 dropped v0, KIP-896).
 *
 * One result per configured log directory with the partitions stored there and their size on
 * disk (offset lag 0: there are no future replicas). topics null means every partition. v3 adds
 * the top-level error code; v4 the directory's total and usable bytes (from statfs; -1 when that
 * fails); v5 whether the directory is cordoned (KIP-1066), always false: Krill has no
 * cordoned.log.dirs, so every directory takes new partitions.
 */

import { statfsSync } from "node:fs";
import path from "node:path";
import { AclOperation } from "../../metadata/acls.js";
import { METADATA_TOPIC } from "../../metadata/metadata-log.js";
import { DESCRIBE_LOG_DIRS_API } from "../../protocol/generated/apis.js";
import type { DescribeLogDirsResponseDescribeLogDirsTopic } from "../../protocol/generated/describe-log-dirs-response.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { authorizeCluster } from "../auth.js";
import { defineHandler } from "../registry.js";

function diskBytes(dir: string): { total: bigint; usable: bigint } {
  try {
    const s = statfsSync(dir, { bigint: true });
    return { total: s.blocks * s.bsize, usable: s.bavail * s.bsize };
  } catch {
    return { total: -1n, usable: -1n };
  }
}

export const handler = defineHandler({
  api: DESCRIBE_LOG_DIRS_API,
  minVersion: 1,
  maxVersion: 5,
  ordering: "concurrent",
  handle(ctx, request) {
    // Kafka's handleDescribeLogDirsRequest: DESCRIBE on the cluster.
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    }
    const wanted =
      request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
    const byDir = new Map<string, Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>>();
    for (const dir of ctx.broker.logs.logDirs) byDir.set(dir, new Map());
    for (const log of ctx.broker.logs.allLogs()) {
      const { topic, partition } = log.topicPartition;
      // The metadata log's folder is not a partition of any topic clients can see.
      if (topic === METADATA_TOPIC) continue;
      if (wanted !== null && !wanted.get(topic)?.has(partition)) continue;
      const topics = byDir.get(path.dirname(log.dir));
      if (topics === undefined) continue;
      let entry = topics.get(topic);
      if (entry === undefined) {
        entry = { name: topic, partitions: [] };
        topics.set(topic, entry);
      }
      entry.partitions.push({
        partitionIndex: partition,
        partitionSize: BigInt(log.sizeBytes),
        offsetLag: 0n,
        isFutureKey: false,
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [...byDir].map(([logDir, topics]) => {
        const disk = diskBytes(logDir);
        return {
          errorCode: ErrorCode.NONE,
          logDir,
          topics: [...topics.values()],
          totalBytes: disk.total,
          usableBytes: disk.usable,
          isCordoned: false,
        };
      }),
    };
  },
});

/**
 * Offsets for partitions that do not exist (issue 19 item 3), against any broker (Krill or Apache
 * Kafka; start either with compat-tests/broker.sh): one OffsetCommit v8 (a standalone commit,
 * generation -1) for partitions 0..N-1 of a new one-partition topic, then an OffsetFetch of every
 * offset of the group. Prints how the partitions were answered, how many offsets the broker
 * returns afterwards, and, with --pid, the broker's resident memory before and after.
 *
 *   npx tsx bench/attacks/offset-commit-flood.ts --bootstrap 127.0.0.1:9092 [--partitions 100000]
 *       [--pid PID]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  CREATE_TOPICS_API,
  FIND_COORDINATOR_API,
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
} from "../../src/protocol/generated/apis.js";
import { ErrorCode, errorCodeName } from "../../src/protocol/generated/error-codes.js";
import type { OffsetCommitResponse } from "../../src/protocol/generated/offset-commit-response.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { Connection } from "./connection.js";

function rssMiB(pid: string | undefined): number | null {
  if (pid === undefined) return null;
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round(kib / 1024);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      bootstrap: { type: "string" },
      partitions: { type: "string", default: "100000" },
      pid: { type: "string" },
    },
  });
  if (values.bootstrap === undefined) throw new Error("--bootstrap host:port is required");
  const [host, port] = values.bootstrap.split(":");
  const count = Number(values.partitions);
  const suffix = Date.now();
  const topic = `offset-flood-${suffix}`;
  const groupId = `offset-flood-${suffix}`;
  const conn = await Connection.open(host!, Number(port));
  const created = await conn.send(CREATE_TOPICS_API, 5, {
    topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  if (created.topics[0]!.errorCode !== ErrorCode.NONE) throw new Error("topic creation failed");
  for (let attempt = 0; ; attempt++) {
    const found = await conn.send(FIND_COORDINATOR_API, 3, { key: groupId, keyType: 0, coordinatorKeys: [] });
    if (found.errorCode === ErrorCode.NONE) break;
    if (attempt > 300) throw new Error("no group coordinator");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const rssBeforeMiB = rssMiB(values.pid);
  const partitions = Array.from({ length: count }, (_, partitionIndex) => ({
    partitionIndex,
    committedOffset: 1n,
    committedLeaderEpoch: -1,
    committedMetadata: "",
  }));
  let commit: OffsetCommitResponse;
  for (let attempt = 0; ; attempt++) {
    commit = await conn.send(OFFSET_COMMIT_API, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: "",
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [{ name: topic, topicId: ZERO_UUID, partitions }],
    });
    // A coordinator still loading its partition answers COORDINATOR_LOAD_IN_PROGRESS: try again.
    const first = commit.topics[0]!.partitions[0]!.errorCode;
    if (first !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && first !== ErrorCode.NOT_COORDINATOR) break;
    if (attempt > 100) throw new Error("the coordinator never loaded");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const answers: Record<string, number> = {};
  for (const p of commit.topics[0]!.partitions) {
    const name = errorCodeName(p.errorCode);
    answers[name] = (answers[name] ?? 0) + 1;
  }
  const fetched = await conn.send(OFFSET_FETCH_API, 7, {
    groupId,
    topics: null,
    groups: [],
    requireStable: false,
  });
  const stored = fetched.topics.reduce((n, t) => n + t.partitions.length, 0);
  const rssAfterMiB = rssMiB(values.pid);
  conn.close();
  console.log(
    JSON.stringify({ partitions: count, answers, offsetsFetched: stored, rssBeforeMiB, rssAfterMiB }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * `krill cluster info|quorum`: kafka-cluster.sh cluster-id with the brokers (DescribeCluster), and
 * kafka-metadata-quorum.sh describe --status / --replication (DescribeQuorum of
 * __cluster_metadata-0), with their output. With `--bootstrap-controller` the requests go to a
 * controller listener (KIP-919): DescribeCluster then lists the controllers.
 */
import { DESCRIBE_CLUSTER_API, DESCRIBE_QUORUM_API } from "../protocol/generated/apis.js";
import type {
  DescribeQuorumResponse,
  DescribeQuorumResponsePartitionData,
  DescribeQuorumResponseReplicaState,
} from "../protocol/generated/describe-quorum-response.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import { type OptionSpec, UsageError } from "./args.js";
import { check } from "./client.js";
import type { CommandContext } from "./topics.js";

export const CLUSTER_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  info: [{ name: "--include-fenced-brokers" }],
  quorum: [{ name: "--replication" }, { name: "--status" }],
};

export const CLUSTER_USAGE = `Usage: krill cluster <action> [options] [--bootstrap-server HOST:PORT | --bootstrap-controller HOST:PORT]

  info [--include-fenced-brokers]     cluster id, controller and brokers (kafka-cluster.sh cluster-id)
  quorum [--status | --replication]  the metadata quorum (kafka-metadata-quorum.sh describe)`;

const METADATA_TOPIC = "__cluster_metadata";

export async function runCluster(action: string, ctx: CommandContext, controller: boolean): Promise<number> {
  if (action === "info") return clusterInfo(ctx, controller);
  if (action === "quorum") return quorum(ctx, controller);
  throw new UsageError(`unknown cluster action "${action}"; accepted: info, quorum`);
}

async function describeCluster({ admin, parsed }: CommandContext, controller: boolean) {
  const res = await admin.any(DESCRIBE_CLUSTER_API, (version) => ({
    includeClusterAuthorizedOperations: false,
    endpointType: version >= 1 ? (controller ? 2 : 1) : 1,
    includeFencedBrokers: version >= 2 && parsed.flags.has("--include-fenced-brokers"),
  }));
  check(res.errorCode, res.errorMessage, "DescribeCluster");
  return res;
}

async function clusterInfo(ctx: CommandContext, controller: boolean): Promise<number> {
  const res = await describeCluster(ctx, controller);
  ctx.io.out(`Cluster ID: ${res.clusterId}\n`);
  ctx.io.out(`Controller ID: ${res.controllerId}\n`);
  const rows = [...res.brokers]
    .sort((a, b) => a.brokerId - b.brokerId)
    .map((b) => [
      String(b.brokerId),
      b.host,
      String(b.port),
      b.rack ?? "-",
      b.isFenced ? "fenced" : "unfenced",
    ]);
  printTable(
    ctx.io.out,
    [controller ? "CONTROLLER-ID" : "BROKER-ID", "HOST", "PORT", "RACK", "STATUS"],
    rows,
  );
  return 0;
}

async function quorum(ctx: CommandContext, controller: boolean): Promise<number> {
  const res: DescribeQuorumResponse = await ctx.admin.retrying(async () => {
    const r = await ctx.admin.any(DESCRIBE_QUORUM_API, {
      topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
    });
    check(r.errorCode, r.errorMessage, "DescribeQuorum");
    const p = r.topics[0]?.partitions[0];
    if (p !== undefined) check(p.errorCode, p.errorMessage, "DescribeQuorum");
    return r;
  });
  const p = res.topics[0]?.partitions[0];
  if (p === undefined)
    throw new UsageError("the broker answered DescribeQuorum without the metadata partition");
  const leader = p.currentVoters.find((v) => v.replicaId === p.leaderId);
  if (ctx.parsed.flags.has("--replication")) {
    const rows = [
      ...replicaRows(
        p,
        leader,
        p.currentVoters.filter((v) => v.replicaId === p.leaderId),
        "Leader",
      ),
      ...replicaRows(
        p,
        leader,
        p.currentVoters.filter((v) => v.replicaId !== p.leaderId),
        "Follower",
      ),
      ...replicaRows(p, leader, p.observers, "Observer"),
    ];
    printTable(
      ctx.io.out,
      [
        "NodeId",
        "DirectoryId",
        "LogEndOffset",
        "Lag",
        "LastFetchTimestamp",
        "LastCaughtUpTimestamp",
        "Status",
      ],
      rows,
    );
    return 0;
  }
  const cluster = await describeCluster(ctx, controller);
  let maxLagFollower = p.currentVoters[0];
  for (const v of p.currentVoters)
    if (maxLagFollower === undefined || v.logEndOffset < maxLagFollower.logEndOffset) maxLagFollower = v;
  const maxFollowerLag =
    leader !== undefined && maxLagFollower !== undefined
      ? leader.logEndOffset - maxLagFollower.logEndOffset
      : -1n;
  let maxFollowerLagTimeMs = -1n;
  if (leader !== undefined && maxLagFollower === leader) maxFollowerLagTimeMs = 0n;
  else if (
    leader !== undefined &&
    maxLagFollower !== undefined &&
    leader.lastCaughtUpTimestamp >= 0n &&
    maxLagFollower.lastCaughtUpTimestamp >= 0n
  ) {
    maxFollowerLagTimeMs = leader.lastCaughtUpTimestamp - maxLagFollower.lastCaughtUpTimestamp;
  }
  const out = ctx.io.out;
  out(`ClusterId:              ${cluster.clusterId}\n`);
  out(`LeaderId:               ${p.leaderId}\n`);
  out(`LeaderEpoch:            ${p.leaderEpoch}\n`);
  out(`HighWatermark:          ${p.highWatermark}\n`);
  out(`MaxFollowerLag:         ${maxFollowerLag}\n`);
  out(`MaxFollowerLagTimeMs:   ${maxFollowerLagTimeMs}\n`);
  out(`CurrentVoters:          ${replicaList(res, p.currentVoters)}\n`);
  out(`CurrentObservers:       ${replicaList(res, p.observers)}\n`);
  return 0;
}

function replicaRows(
  p: DescribeQuorumResponsePartitionData,
  leader: DescribeQuorumResponseReplicaState | undefined,
  replicas: readonly DescribeQuorumResponseReplicaState[],
  status: string,
): string[][] {
  return replicas.map((r) => [
    String(r.replicaId),
    r.replicaDirectoryId,
    String(r.logEndOffset),
    String((leader?.logEndOffset ?? p.highWatermark) - r.logEndOffset),
    String(r.lastFetchTimestamp),
    String(r.lastCaughtUpTimestamp),
    status,
  ]);
}

/** Kafka's QuorumInfo node rendering: `{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://h:p"]}`. */
function replicaList(
  res: DescribeQuorumResponse,
  replicas: readonly DescribeQuorumResponseReplicaState[],
): string {
  const parts = replicas.map((r) => {
    let s = `{"id": ${r.replicaId}, "directoryId": ${r.replicaDirectoryId === ZERO_UUID ? "null" : `"${r.replicaDirectoryId}"`}`;
    const node = res.nodes.find((n) => n.nodeId === r.replicaId);
    if (node !== undefined && node.listeners.length > 0) {
      s += `, "endpoints": [${node.listeners.map((l) => `"${l.name}://${l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port}"`).join(", ")}]`;
    }
    return `${s}}`;
  });
  return `[${parts.join(", ")}]`;
}

/** Kafka's ToolsUtils.prettyPrintTable: each column padded to its widest value, then a tab. */
export function printTable(
  out: (text: string) => void,
  headers: readonly string[],
  rows: readonly string[][],
): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `${cells.map((c, i) => `${c.padEnd(widths[i]!)}\t`).join("")}\n`;
  out(line(headers));
  for (const r of rows) out(line(r));
}

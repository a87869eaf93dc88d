// Where the roles of a scenario (chaos/src/scenarios.ts) are now: the leader, replicas and ISR of
// one partition from Metadata (a kafkajs admin client, as the runner's), and the active controller
// from DescribeQuorum, which brokers answer for kafka-metadata-quorum (Kafka forwards it to the
// controller), sent with Krill's node-to-node client.
import type { Admin } from "kafkajs";
import pino from "pino";
import { DESCRIBE_QUORUM_API } from "../../src/protocol/generated/apis.js";
import { NodeClient } from "../../src/server/network/node-client.js";
import type { Cluster } from "./cluster.js";
import type { Roles } from "./scenarios.js";

const METADATA_TOPIC = "__cluster_metadata";
const QUORUM_TIMEOUT_MS = 3000;
const silent = pino({ level: "silent" });

/** The active controller as the first live node that answers DescribeQuorum says; undefined if none does. */
export async function activeController(cluster: Cluster): Promise<number | undefined> {
  for (const node of cluster.nodes) {
    if (node.pid() === undefined) continue;
    const client = new NodeClient({
      endpoint: { host: node.host, port: node.port },
      clientId: "chaos-roles",
      logger: silent,
      connectTimeoutMs: QUORUM_TIMEOUT_MS,
      requestTimeoutMs: QUORUM_TIMEOUT_MS,
    });
    try {
      const res = await client.request(DESCRIBE_QUORUM_API, {
        topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }],
      });
      const p = res.topics[0]?.partitions[0];
      if (res.errorCode === 0 && p !== undefined && p.errorCode === 0 && p.leaderId >= 0) return p.leaderId;
    } catch {
      // Down, paused or cut off: ask the next node.
    } finally {
      client.close();
    }
  }
  return undefined;
}

/** The roles of `topic` partition `partition` now. Throws when no broker answers Metadata. */
export async function readRoles(
  admin: Admin,
  cluster: Cluster,
  topic: string,
  partition: number,
): Promise<Roles> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition);
  if (p === undefined) throw new Error(`no metadata for ${topic}-${partition}`);
  return { leader: p.leader, replicas: p.replicas, isr: p.isr, controller: await activeController(cluster) };
}

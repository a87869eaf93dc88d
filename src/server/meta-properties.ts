/**
 * `meta.properties` in every log directory, as Kafka's storage tool writes it: the cluster id,
 * this node's id, a directory id and the format version. Kafka refuses to start on unformatted
 * directories; Krill formats them on first start (with `cluster.id` or a new random id) so a
 * single node needs no separate format step. Existing files must agree with each other and with
 * the configuration, else start-up stops: mixing directories of two clusters loses data.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseProperties } from "../config/properties.js";
import { KrillError } from "../errors.js";
import { randomTopicId } from "../metadata/controller.js";
import { META_PROPERTIES_FILE, writeMetaProperties } from "../metadata/storage-format.js";
import { type Random, SYSTEM_RANDOM } from "../random.js";

export { META_PROPERTIES_FILE };

export interface MetaProperties {
  readonly clusterId: string;
  readonly nodeId: number;
}

/** A new cluster id: a random UUID in Kafka's URL-safe base64 form. */
export function randomClusterId(random: Random): string {
  return randomTopicId(random);
}

/**
 * Reads or writes meta.properties in each directory and returns the cluster id they share.
 * `configuredClusterId` (the cluster.id key) formats new directories and must match old ones.
 */
export function ensureMetaProperties(
  dirs: readonly string[],
  nodeId: number,
  configuredClusterId: string | null,
  random: Random = SYSTEM_RANDOM,
): string {
  const found: { dir: string; meta: MetaProperties }[] = [];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, META_PROPERTIES_FILE);
    if (!existsSync(file)) continue;
    const props = parseProperties(readFileSync(file, "utf8"), file);
    const clusterId = props.get("cluster.id");
    const storedNodeId = Number(props.get("node.id") ?? props.get("broker.id"));
    if (clusterId === undefined || !Number.isInteger(storedNodeId)) {
      throw new KrillError(
        "CONFIG_INVALID",
        `${file} lacks cluster.id or node.id; remove it only if the directory is empty`,
      );
    }
    found.push({ dir, meta: { clusterId, nodeId: storedNodeId } });
  }
  for (const { dir, meta } of found) {
    if (meta.nodeId !== nodeId) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Stored node id ${meta.nodeId} in ${dir} doesn't match node.id ${nodeId}`,
      );
    }
    if (meta.clusterId !== found[0]!.meta.clusterId) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Log directories belong to different clusters: ${found[0]!.dir} has ${found[0]!.meta.clusterId}, ${dir} has ${meta.clusterId}`,
      );
    }
  }
  const existing = found[0]?.meta.clusterId;
  if (existing !== undefined && configuredClusterId !== null && configuredClusterId !== existing) {
    throw new KrillError(
      "CONFIG_INVALID",
      `cluster.id ${configuredClusterId} differs from ${existing} stored in ${found[0]!.dir}/${META_PROPERTIES_FILE}`,
    );
  }
  const clusterId = existing ?? configuredClusterId ?? randomClusterId(random);
  for (const dir of dirs) {
    const file = path.join(dir, META_PROPERTIES_FILE);
    if (existsSync(file)) continue;
    writeMetaProperties(dir, { clusterId, nodeId, directoryId: randomTopicId(random) }, new Date());
  }
  return clusterId;
}

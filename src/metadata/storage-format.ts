/**
 * Formatting storage as Kafka's `kafka-storage format` does (metadata/storage/Formatter.java), for
 * `krill format` and for the first start of an unformatted node:
 * - `meta.properties` in every log directory (cluster.id, node.id, directory.id, version=1);
 * - in the metadata directory, the bootstrap snapshot
 *   `__cluster_metadata-0/00000000000000000000-0000000000.checkpoint`, as Kafka 4.4 writes it:
 *   SnapshotHeader, then for a dynamic quorum (`--standalone`, `--initial-controllers`;
 *   kraft.version 1, KIP-853) KRaftVersionRecord and VotersRecord, then the bootstrap metadata
 *   (FeatureLevelRecord metadata.version = `--release-version`), then SnapshotFooter. The first
 *   start replays it like any snapshot, so the formatted metadata.version is the finalized one.
 * A node whose directories are not formatted is formatted on first start as `--standalone` would
 * (with no voters when `controller.quorum.voters` is set), so `make run` needs no extra step.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { BrokerConfig } from "../config/broker-config.js";
import { parseProperties } from "../config/properties.js";
import { KrillError } from "../errors.js";
import type { Random } from "../random.js";
import { randomTopicId } from "./controller.js";
import { METADATA_VERSION_FEATURE, METADATA_VERSION_LATEST, METADATA_VERSION_MIN } from "./features.js";
import { kraftControlValues, snapshotBatches, type Voter } from "./kraft-records.js";
import { METADATA_DIR_NAME } from "./metadata-log.js";
import { metadataRecordSerde } from "./record-serde.js";
import { snapshotFileName } from "./segment-log.js";

export const META_PROPERTIES_FILE = "meta.properties";
/** Kafka's Snapshots.BOOTSTRAP_SNAPSHOT_ID. */
export const BOOTSTRAP_SNAPSHOT = snapshotFileName({ endOffset: 0, epoch: 0 });

/** Kafka's MetadataVersion names and feature levels in Krill's range (MetadataVersion.java). */
const RELEASE_VERSIONS: readonly (readonly [string, number])[] = [
  ["3.3-IV3", 7],
  ["3.4-IV0", 8],
  ["3.5-IV0", 9],
  ["3.5-IV1", 10],
  ["3.5-IV2", 11],
  ["3.6-IV0", 12],
  ["3.6-IV1", 13],
  ["3.6-IV2", 14],
  ["3.7-IV0", 15],
  ["3.7-IV1", 16],
  ["3.7-IV2", 17],
  ["3.7-IV3", 18],
  ["3.7-IV4", 19],
  ["3.8-IV0", 20],
  ["3.9-IV0", 21],
  ["4.0-IV0", 22],
  ["4.0-IV1", 23],
  ["4.0-IV2", 24],
  ["4.0-IV3", 25],
];

function supportedReleases(): (readonly [string, number])[] {
  return RELEASE_VERSIONS.filter(
    ([, level]) => level >= METADATA_VERSION_MIN && level <= METADATA_VERSION_LATEST,
  );
}

/** metadata.version level of a release version ("3.7-IV4", or "3.7" for that release's latest), as MetadataVersion.fromVersionString. */
export function metadataVersionLevel(release: string): number {
  const releases = supportedReleases();
  const exact = releases.find(([name]) => name === release);
  const latestOf = releases.filter(([name]) => name.startsWith(`${release}-IV`)).at(-1);
  const found = exact ?? latestOf;
  if (found === undefined) {
    throw new KrillError(
      "CONFIG_INVALID",
      `Unknown release version '${release}'. Supported versions are: ${releases[0]![0]} to ${releases.at(-1)![0]}`,
    );
  }
  return found[1];
}

function releaseName(level: number): string {
  return RELEASE_VERSIONS.find(([, l]) => l === level)?.[0] ?? String(level);
}

/** Kafka's DynamicVoters.parse: `id@host:port:directoryId,...`. */
export function parseInitialControllers(text: string): Voter[] {
  const voters: Voter[] = [];
  for (const item of text.split(",")) {
    const m = /^(\d+)@(\[[0-9a-fA-F:.]+\]|[^:@[\]]+):(\d+):([A-Za-z0-9_-]{22})$/.exec(item.trim());
    if (m === null) {
      throw new KrillError(
        "CONFIG_INVALID",
        `Invalid --initial-controllers entry '${item}': expected id@host:port:directoryId`,
      );
    }
    const id = Number(m[1]);
    if (voters.some((v) => v.id === id))
      throw new KrillError("CONFIG_INVALID", `Node id ${id} appears more than once in --initial-controllers`);
    voters.push({ id, directoryId: m[4]!, endpoints: [{ name: "", host: m[2]!, port: Number(m[3]) }] });
  }
  return voters;
}

/** The first controller listener's name, host and port (`controller.listener.names`, `listeners`). */
function controllerEndpoint(config: BrokerConfig): { name: string; host: string; port: number } | undefined {
  const name = (config.stringOrNull("controller.listener.names") ?? "").split(",")[0]?.trim().toUpperCase();
  if (name === undefined || name === "") return undefined;
  for (const item of config.string("listeners").split(",")) {
    const m = /^([A-Za-z0-9_-]+):\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]*):(\d+)$/.exec(item.trim());
    if (m !== null && m[1]!.toUpperCase() === name) return { name, host: m[2]!, port: Number(m[3]) };
  }
  return undefined;
}

function hasStaticVoters(config: BrokerConfig): boolean {
  return config.list("controller.quorum.voters").some((v) => v.trim() !== "");
}

function writeAtomically(file: string, bytes: Buffer | string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, bytes, { flush: true });
  renameSync(tmp, file);
}

/** meta.properties as Kafka 4.x writes it (MetaProperties version 1). */
export function writeMetaProperties(
  dir: string,
  meta: { clusterId: string; nodeId: number; directoryId: string },
  now: Date,
): void {
  mkdirSync(dir, { recursive: true });
  const text = [
    "#",
    `#${now.toUTCString()}`,
    `cluster.id=${meta.clusterId}`,
    `directory.id=${meta.directoryId}`,
    `node.id=${meta.nodeId}`,
    "version=1",
    "",
  ].join("\n");
  writeAtomically(path.join(dir, META_PROPERTIES_FILE), text);
}

/** `directory.id` of the directory's meta.properties, if it has one. */
export function directoryIdOf(dir: string): string | undefined {
  const file = path.join(dir, META_PROPERTIES_FILE);
  if (!existsSync(file)) return undefined;
  return parseProperties(readFileSync(file, "utf8"), file).get("directory.id");
}

/**
 * Writes the bootstrap snapshot into the metadata directory `dir`: voters for a dynamic quorum
 * (undefined: static voters, kraft.version 0) and the initial metadata.version.
 */
function writeBootstrapSnapshot(
  dir: string,
  voters: readonly Voter[] | undefined,
  metadataVersion: number,
  nowMs: number,
): void {
  const partitionDir = path.join(dir, METADATA_DIR_NAME);
  mkdirSync(partitionDir, { recursive: true });
  const featureLevel = metadataRecordSerde.encode({
    type: "FeatureLevel",
    data: { name: METADATA_VERSION_FEATURE, featureLevel: metadataVersion },
  });
  const kraft = voters === undefined ? undefined : kraftControlValues(voters);
  const batches = snapshotBatches([featureLevel], 0, nowMs, nowMs, kraft);
  writeAtomically(path.join(partitionDir, BOOTSTRAP_SNAPSHOT), Buffer.concat(batches));
}

export interface FormatOptions {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly standalone: boolean;
  readonly initialControllers: string | undefined;
  readonly noInitialControllers: boolean;
  readonly releaseVersion: string | undefined;
  readonly ignoreFormatted: boolean;
  readonly random: Random;
  readonly now: Date;
}

/** `krill format`: formats every log directory; returns the lines Kafka's tool prints. */
export function formatStorage(options: FormatOptions): string[] {
  const { config } = options;
  if (!/^[A-Za-z0-9_-]{22}$/.test(options.clusterId))
    throw new KrillError(
      "CONFIG_INVALID",
      `Cluster ID string ${options.clusterId} does not appear to be a valid UUID`,
    );
  const chosen = [options.standalone, options.initialControllers !== undefined, options.noInitialControllers];
  if (chosen.filter((c) => c).length > 1) {
    throw new KrillError(
      "CONFIG_INVALID",
      "Only one of --standalone, --initial-controllers and --no-initial-controllers may be given",
    );
  }
  const nodeId = config.nodeId;
  let voters: Voter[] | undefined;
  if (options.standalone) {
    const endpoint = controllerEndpoint(config);
    if (endpoint === undefined) {
      throw new KrillError(
        "CONFIG_INVALID",
        "--standalone needs a controller listener: controller.listener.names naming one of listeners",
      );
    }
    voters = [{ id: nodeId, directoryId: randomTopicId(options.random), endpoints: [endpoint] }];
  } else if (options.initialControllers !== undefined) {
    const listener = controllerEndpoint(config)?.name ?? "CONTROLLER";
    voters = parseInitialControllers(options.initialControllers).map((v) => ({
      ...v,
      endpoints: v.endpoints.map((e) => ({ ...e, name: listener })),
    }));
  } else if (!options.noInitialControllers && !hasStaticVoters(config)) {
    throw new KrillError(
      "CONFIG_INVALID",
      "Because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers.",
    );
  }
  if (voters !== undefined && hasStaticVoters(config)) {
    throw new KrillError(
      "CONFIG_INVALID",
      "You cannot specify --standalone or --initial-controllers when controller.quorum.voters is set",
    );
  }
  const metadataVersion =
    options.releaseVersion === undefined
      ? METADATA_VERSION_LATEST
      : metadataVersionLevel(options.releaseVersion);
  const metadataDir = path.resolve(config.metadataLogDir);
  const dirs = [...new Set([...config.logDirs.map((d) => path.resolve(d)), metadataDir])];
  const empty = dirs.filter((d) => !existsSync(path.join(d, META_PROPERTIES_FILE)));
  const formatted = dirs.filter((d) => !empty.includes(d));
  if (formatted.length > 0 && !options.ignoreFormatted) {
    throw new KrillError(
      "CONFIG_INVALID",
      `Log directory ${formatted[0]} is already formatted. Use --ignore-formatted to ignore this directory and format the others.`,
    );
  }
  if (empty.length === 0) return ["All of the log directories are already formatted."];
  const lines: string[] = [];
  const ownVoter = voters?.find((v) => v.id === nodeId);
  for (const dir of empty) {
    const isMetadata = dir === metadataDir;
    const dynamic = isMetadata && voters !== undefined;
    const kind = !isMetadata
      ? "data directory"
      : !dynamic
        ? "metadata directory"
        : ownVoter !== undefined
          ? "dynamic metadata voter directory"
          : "dynamic metadata directory";
    lines.push(`Formatting ${kind} ${dir} with ${METADATA_VERSION_FEATURE} ${releaseName(metadataVersion)}.`);
    const directoryId =
      dynamic && ownVoter !== undefined ? ownVoter.directoryId : randomTopicId(options.random);
    mkdirSync(dir, { recursive: true });
    if (isMetadata) writeBootstrapSnapshot(dir, voters, metadataVersion, options.now.getTime());
    // meta.properties last: a directory is formatted once it exists.
    writeMetaProperties(dir, { clusterId: options.clusterId, nodeId, directoryId }, options.now);
  }
  return lines;
}

/**
 * First start of a node nobody formatted: after meta.properties is written (meta-properties.ts),
 * a metadata directory with no metadata log yet gets the bootstrap snapshot `--standalone` would
 * write (this node the single voter; no voters when controller.quorum.voters is set), with the
 * newest metadata.version. Returns whether it wrote one.
 */
export function formatMetadataOnFirstStart(config: BrokerConfig, nowMs: number): boolean {
  const metadataDir = path.resolve(config.metadataLogDir);
  if (existsSync(path.join(metadataDir, METADATA_DIR_NAME))) return false;
  const directoryId = directoryIdOf(metadataDir);
  if (directoryId === undefined) return false;
  const endpoint = controllerEndpoint(config);
  const voters = hasStaticVoters(config)
    ? undefined
    : [{ id: config.nodeId, directoryId, endpoints: endpoint === undefined ? [] : [endpoint] }];
  writeBootstrapSnapshot(metadataDir, voters, METADATA_VERSION_LATEST, nowMs);
  return true;
}

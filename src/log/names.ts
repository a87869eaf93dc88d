/**
 * File and directory names of Kafka's on-disk layout (LogFileUtils in Kafka), so operators and
 * Kafka's own tools (kafka-dump-log) recognise a Krill data directory.
 */
import path from "node:path";

export const LOG_FILE_SUFFIX = ".log";
export const INDEX_FILE_SUFFIX = ".index";
export const TIME_INDEX_FILE_SUFFIX = ".timeindex";
export const TXN_INDEX_FILE_SUFFIX = ".txnindex";
/** Producer-state snapshots; written by the broker's producer-state manager, named here. */
export const PRODUCER_SNAPSHOT_FILE_SUFFIX = ".snapshot";
/** Output of the cleaner before it replaces a segment; deleted if found at startup. */
export const CLEANED_FILE_SUFFIX = ".cleaned";
/** A cleaned segment ready to replace the original; completed if found at startup. */
export const SWAP_FILE_SUFFIX = ".swap";
/** Kafka renames segments to `<name>.deleted` before deleting them; such files go at startup. */
export const DELETED_FILE_SUFFIX = ".deleted";

/**
 * Kafka's Topic.CLUSTER_METADATA_TOPIC_NAME. Its partition directory belongs to the metadata log
 * (src/metadata), which re-exports this one definition; the log manager skips that directory.
 */
export const METADATA_TOPIC = "__cluster_metadata";

export const CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown";
/** Kafka's ReplicaManager.HighWatermarkFilename: the high watermarks of a log dir's partitions. */
export const REPLICATION_OFFSET_CHECKPOINT_FILE = "replication-offset-checkpoint";
export const RECOVERY_POINT_CHECKPOINT_FILE = "recovery-point-offset-checkpoint";
export const LOG_START_OFFSET_CHECKPOINT_FILE = "log-start-offset-checkpoint";
export const CLEANER_OFFSET_CHECKPOINT_FILE = "cleaner-offset-checkpoint";
export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
/** Suffix of a partition directory being deleted (removed at startup if left over). */
export const DELETE_DIR_SUFFIX = "-delete";
export const FUTURE_DIR_SUFFIX = "-future";

/** The 20-digit zero-padded base offset Kafka names segment files by. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, "0");
}

export function segmentFileName(baseOffset: number, suffix: string): string {
  return offsetFileStem(baseOffset) + suffix;
}

/** Name of the producer-state snapshot taken at `offset`, in a partition directory. */
export function producerSnapshotFileName(offset: number): string {
  return segmentFileName(offset, PRODUCER_SNAPSHOT_FILE_SUFFIX);
}

/** Base offset and suffix of a segment-like file name, or undefined for anything else. */
export function parseOffsetFileName(name: string): { offset: number; suffix: string } | undefined {
  const match = /^(\d{20})(\.[a-z.]+)$/.exec(name);
  if (match === null) return undefined;
  const offset = Number(match[1]);
  if (!Number.isSafeInteger(offset)) return undefined;
  return { offset, suffix: match[2]! };
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export function partitionDirName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

/** Topic and partition of a partition directory name; undefined for other directories. */
export function parsePartitionDirName(name: string): TopicPartition | undefined {
  if (name.endsWith(DELETE_DIR_SUFFIX) || name.endsWith(FUTURE_DIR_SUFFIX)) return undefined;
  const dash = name.lastIndexOf("-");
  if (dash <= 0) return undefined;
  const partitionText = name.slice(dash + 1);
  if (!/^\d{1,10}$/.test(partitionText)) return undefined;
  const partition = Number(partitionText);
  if (partition > 0x7fffffff) return undefined;
  return { topic: name.slice(0, dash), partition };
}

/** Kafka's legal topic names: what may safely become a directory name. */
export function isValidTopicName(topic: string): boolean {
  return (
    topic.length > 0 &&
    topic.length <= 249 &&
    topic !== "." &&
    topic !== ".." &&
    /^[a-zA-Z0-9._-]+$/.test(topic)
  );
}

export function partitionDir(logDir: string, tp: TopicPartition): string {
  return path.join(logDir, partitionDirName(tp));
}

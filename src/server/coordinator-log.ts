/**
 * How the group and transaction coordinators keep their state in an internal compacted topic
 * (__consumer_offsets, __transaction_state) on this node: creating the topic on first use,
 * appending their records as leader and waiting until the ISR has them (Kafka's coordinators
 * write with acks=all), and reading a partition back from its start to its log end on load.
 *
 * Concurrency contract: single event loop. `appendCoordinatorRecords` assigns offsets
 * synchronously, so records land in call order; only the wait for durability is asynchronous.
 */
import { isKrillError, KrillError } from "../errors.js";
import { ensureInternalTopic } from "../metadata/internal-topics.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE } from "../protocol/records/batch-header.js";
import {
  buildRecordBatch,
  type DecodedRecord,
  type DecodedRecordBatch,
  decodeRecordBatches,
} from "../protocol/records/record-batch.js";
import type { AppendOutcome, Partition } from "./partitions/partition.js";
import type { PartitionManager } from "./partitions/partition-manager.js";
import type { BrokerCore } from "./services.js";

/**
 * How long a coordinator write waits for its replication (Kafka's offsets.commit.timeout.ms
 * default, which its coordinators also use for their other writes).
 */
export const COORDINATOR_WRITE_TIMEOUT_MS = 5000;

/** Bytes read per step while replaying a partition. */
const REPLAY_READ_BYTES = 1024 * 1024;
/** Largest decompressed batch accepted while replaying (Kafka writes them uncompressed). */
const REPLAY_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

/** Creates the internal topic unless it exists; fails unless it exists afterwards. */
export async function createCoordinatorTopic(broker: BrokerCore, topic: string): Promise<void> {
  const result = await ensureInternalTopic(topic, broker.controller, broker.image(), broker.config);
  // Another caller (Metadata auto-creation) may have created it meanwhile: that is success too.
  if (
    result !== undefined &&
    result.errorCode !== ErrorCode.NONE &&
    !broker.image().topicsByName.has(topic)
  ) {
    throw new KrillError("STATE", `creating ${topic} failed: ${result.errorMessage ?? result.errorCode}`);
  }
}

/**
 * Appends the records as one uncompressed, non-transactional batch stamped with the current time,
 * and resolves once it is as durable as the data path makes a produce (krill.fsync.before.ack)
 * and replicated to the ISR (`awaitCoordinatorAppend`).
 */
export async function appendCoordinatorRecords(
  partitions: PartitionManager,
  topic: string,
  partition: number,
  records: readonly { key: Buffer; value: Buffer | null }[],
): Promise<void> {
  const found = partitions.lookup(topic, partition);
  if (!found.ok) {
    throw new KrillError("STATE", `${topic}-${partition} is not available (error ${found.errorCode})`);
  }
  const outcome = appendCoordinatorBatch(found.partition, records, partitions.clock.nowMs());
  if (outcome.kind === "error") {
    throw new KrillError("LOG_IO", `appending to ${topic}-${partition}: ${outcome.errorMessage}`);
  }
  const errorCode = await awaitCoordinatorAppend(partitions, found.partition, outcome);
  if (errorCode !== ErrorCode.NONE) {
    throw new KrillError("STATE", `${topic}-${partition}: write not replicated (error ${errorCode})`);
  }
}

/**
 * After a coordinator's append as leader: waits for the data path's durability and then, as
 * Kafka's coordinators append with acks=all, until the high watermark covers the batch (at once
 * on a single replica). Resolves to NONE, or the error (REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER,
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND, KAFKA_STORAGE_ERROR) that says the write is not known to
 * survive a failover.
 */
export async function awaitCoordinatorAppend(
  partitions: PartitionManager,
  partition: Partition,
  outcome: AppendOutcome,
): Promise<number> {
  if (outcome.kind === "error") return outcome.errorCode;
  if (outcome.kind === "appended" && outcome.durable !== undefined) {
    try {
      await outcome.durable;
    } catch {
      return ErrorCode.KAFKA_STORAGE_ERROR;
    }
  }
  // A duplicate waits for its original's replication, as a produce's does.
  const lastOffset = outcome.kind === "appended" ? outcome.lastOffset : outcome.firstOffset;
  return partitions.delayedProduce.wait(partition, lastOffset + 1, COORDINATOR_WRITE_TIMEOUT_MS);
}

/** The producer of a transactional coordinator batch (offsets committed in a transaction). */
export interface CoordinatorBatchProducer {
  producerId: bigint;
  producerEpoch: number;
}

/**
 * Appends the records to `partition` as leader in one uncompressed batch stamped `nowMs`:
 * without a producer id, or transactional for `producer` when given (no sequence either way).
 */
export function appendCoordinatorBatch(
  partition: Partition,
  records: readonly { key: Buffer; value: Buffer | null }[],
  nowMs: number,
  producer?: CoordinatorBatchProducer,
): AppendOutcome {
  const producerId = producer?.producerId ?? NO_PRODUCER_ID;
  const producerEpoch = producer?.producerEpoch ?? NO_PRODUCER_EPOCH;
  const batch = buildRecordBatch({
    producerId,
    producerEpoch,
    baseSequence: NO_SEQUENCE,
    transactional: producer !== undefined,
    records: records.map((r) => ({ timestamp: nowMs, key: r.key, value: r.value })),
  });
  return partition.appendAsLeader(
    batch,
    [
      {
        position: 0,
        sizeBytes: batch.length,
        recordsCount: records.length,
        lastOffsetDelta: records.length - 1,
        producerId,
        producerEpoch,
        baseSequence: NO_SEQUENCE,
        baseTimestamp: BigInt(nowMs),
        maxTimestamp: BigInt(nowMs),
        isTransactional: producer !== undefined,
        isControl: false,
        compression: 0,
        timestampType: "CreateTime",
      },
    ],
    false,
    nowMs,
  );
}

/** A batch read back, with its keyed records at or after the position the read started from. */
export interface ReplayedBatch {
  batch: DecodedRecordBatch;
  records: (DecodedRecord & { key: Buffer })[];
}

/**
 * The partition's batches from its log start to its log end, in order, when this node leads it;
 * nothing otherwise. A new leader's high watermark may still trail what its followers hold, but
 * everything in its log is what the partition will commit (Kafka's coordinator loaders read to
 * the log end too). Records without a key carry no coordinator state and are left out.
 */
export function* replayCoordinatorPartition(
  partitions: PartitionManager,
  topic: string,
  partition: number,
): Generator<ReplayedBatch> {
  const found = partitions.lookup(topic, partition);
  if (!found.ok) return;
  const p = found.partition;
  let offset = p.logStartOffset;
  const end = p.logEndOffset;
  while (offset < end) {
    let read: ReturnType<typeof p.read>;
    try {
      read = p.read(offset, REPLAY_READ_BYTES, true, false, false, true);
    } catch (err) {
      // Retention or compaction moved the log start past us: continue from the new start.
      if (isKrillError(err, "OFFSET_OUT_OF_RANGE") && p.logStartOffset > offset) {
        offset = p.logStartOffset;
        continue;
      }
      throw err;
    }
    if (read.records.length === 0 || read.nextOffset <= offset) break;
    const from = BigInt(offset);
    for (const batch of decodeRecordBatches(read.records, {
      decompressedBytesMax: REPLAY_DECOMPRESSED_BYTES_MAX,
    })) {
      const records = batch.records.filter(
        (r): r is DecodedRecord & { key: Buffer } => r.offset >= from && r.key !== null,
      );
      yield { batch, records };
    }
    offset = read.nextOffset;
  }
}

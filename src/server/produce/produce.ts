/**
 * Produce, partition by partition (Kafka's KafkaApis.handleProduceRequest, ReplicaManager.appendRecords,
 * UnifiedLog.append): resolve the partition, check the topic, validate the batch headers against
 * the topic's configuration, run the idempotent-producer checks, append the bytes as they came
 * (offsets, leader epoch and LogAppendTime written into the headers in place), and report base
 * offset, log start offset and LogAppendTime.
 *
 * Uncompressed records are decoded only on the error path, to name the offending records of an
 * INVALID_TIMESTAMP rejection (KIP-467 record errors), and when a topic's compression.type
 * imposes a codec the client did not use (recompress.ts). A compressed batch is decompressed and
 * its records walked, as Kafka's LogValidator does (compressed-validation.ts: framing, count,
 * offset deltas, timestamps, keys on compacted topics) as a stream, holding one piece of output at a
 * time, with the total output bounded by PRODUCE_DECOMPRESSED_BYTES_MAX (work, not memory); the
 * bytes stored are still the bytes the client sent.
 */
import { KrillError } from "../../errors.js";
import { INTERNAL_TOPICS } from "../../metadata/image.js";
import { CompressionCodec } from "../../protocol/compression/index.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { ProduceRequest } from "../../protocol/generated/produce-request.js";
import type {
  ProduceResponse,
  ProduceResponseBatchIndexAndErrorMessage,
  ProduceResponsePartitionProduceResponse,
} from "../../protocol/generated/produce-response.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import {
  RECORD_ERRORS_MAX,
  validateCompressedRecords,
} from "../../protocol/records/compressed-validation.js";
import { validateProducedBatches } from "../../protocol/records/produce-validation.js";
import { decodeRecordBatch } from "../../protocol/records/record-batch.js";
import type { Partition } from "../partitions/partition.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import type { VerificationGuard } from "../producer-state/verification-guards.js";
import type { TransactionVerifier } from "../txn/txn-verification.js";
import { checkCompactedKeys } from "./compacted-keys.js";
import { recompressIfNeeded, targetCodec } from "./recompress.js";

/** Bound on the decompressed bytes decoded to name records of a rejected batch. */
const RECORD_ERROR_DECODE_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Bound on the decompressed records of one produced compressed batch (CORRUPT_MESSAGE beyond): the
 * work one batch may cost, since validation streams and holds one piece whatever the output.
 */
export const PRODUCE_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

export interface ProduceOutcome {
  response: ProduceResponse;
  /** True if any partition failed (acks=0 then closes the connection, as Kafka does). */
  anyError: boolean;
  /** Appended bytes per topic, for metrics. */
  bytesByTopic: Map<string, number>;
  /** Records appended per topic (Kafka's MessagesInPerSec), from the assigned offsets. */
  messagesByTopic: Map<string, number>;
}

/**
 * The transaction coordinator's part in a transactional batch that would open a transaction in a
 * partition: the check of transactions v1 (KIP-890 part 1), or the implicit add of v2; on this
 * node or, through TxnVerification, on the coordinator's node.
 */
export type { TransactionVerifier } from "../txn/txn-verification.js";

export async function produce(
  partitions: PartitionManager,
  transactions: TransactionVerifier,
  request: ProduceRequest,
  version: number,
  /**
   * The authorization error of a topic (Kafka's handleProduceRequest: TOPIC_AUTHORIZATION_FAILED
   * without WRITE on it, TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition without WRITE
   * on the transactional id), or undefined; checked before the topic is looked up.
   */
  denied: (topic: string) => number | undefined = () => undefined,
): Promise<ProduceOutcome> {
  const nowMs = partitions.clock.nowMs();
  const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
  const bytesByTopic = new Map<string, number>();
  const messagesByTopic = new Map<string, number>();
  const durables: Promise<void>[] = [];
  const replicated: Promise<void>[] = [];
  let anyError = false;
  const response: ProduceResponse = { responses: [], throttleTimeMs: 0, nodeEndpoints: [] };
  const image = partitions.image();
  for (const topicData of request.topicData) {
    const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
    // v13+ names topics by id (KIP-516); an id this broker does not know is UNKNOWN_TOPIC_ID.
    const byId = version >= 13 ? image.topicsById.get(topicData.topicId) : undefined;
    const topic =
      version >= 13
        ? { name: byId?.name ?? "", topicId: topicData.topicId }
        : { name: topicData.name, topicId: ZERO_UUID };
    response.responses.push({ ...topic, partitionResponses });
    for (const data of topicData.partitionData) {
      const out = partitionResponse(data.index);
      partitionResponses.push(out);
      const fail = (errorCode: number, errorMessage: string | null = null) => {
        out.errorCode = errorCode;
        out.errorMessage = errorMessage;
        anyError = true;
      };
      if (!acksValid) {
        fail(ErrorCode.INVALID_REQUIRED_ACKS);
        continue;
      }
      if (version >= 13 && byId === undefined) {
        fail(ErrorCode.UNKNOWN_TOPIC_ID);
        continue;
      }
      const deniedCode = denied(topic.name);
      if (deniedCode !== undefined) {
        fail(deniedCode);
        continue;
      }
      if (INTERNAL_TOPICS.has(topic.name)) {
        fail(ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic.name}`);
        continue;
      }
      const found = partitions.lookup(topic.name, data.index);
      if (!found.ok) {
        fail(found.errorCode);
        continue;
      }
      const { partition, config } = found;
      // Kafka's appendRecordsToLeader: acks=all is refused before anything is written when the
      // ISR is below min.insync.replicas (capped by the replication factor).
      if (request.acks === -1 && partition.isr.size < partition.effectiveMinIsr()) {
        fail(
          ErrorCode.NOT_ENOUGH_REPLICAS,
          `The size of the current ISR [${[...partition.isr].join(", ")}] is insufficient to satisfy the min.isr requirement of ${partition.effectiveMinIsr()} for partition ${partition.key}`,
        );
        continue;
      }
      const validation = validateProducedBatches(data.records, {
        maxMessageBytes: config.maxMessageBytes,
        timestampType: config.messageTimestampType,
        timestampBeforeMaxMs: config.messageTimestampBeforeMaxMs,
        timestampAfterMaxMs: config.messageTimestampAfterMaxMs,
        nowMs,
        allowZstd: version >= 7,
      });
      if (!validation.ok) {
        fail(validation.errorCode, validation.errorMessage);
        if (validation.errorCode === ErrorCode.INVALID_TIMESTAMP && data.records !== null) {
          out.recordErrors = timestampRecordErrors(data.records, nowMs, config);
        }
        continue;
      }
      let records = data.records!;
      let batches = validation.batches;
      let compressedError: Awaited<ReturnType<typeof validateCompressedRecords>> | undefined;
      for (const batch of batches) {
        if (batch.compression === CompressionCodec.NONE) continue;
        const checked = await validateCompressedRecords(records, batch, {
          decompressedBytesMax: PRODUCE_DECOMPRESSED_BYTES_MAX,
          timestampType: config.messageTimestampType,
          timestampBeforeMaxMs: config.messageTimestampBeforeMaxMs,
          timestampAfterMaxMs: config.messageTimestampAfterMaxMs,
          nowMs,
          compacted: config.cleanupPolicy.includes("compact"),
          topicPartition: `${topic.name}-${data.index}`,
        });
        if (!checked.ok) {
          compressedError = checked;
          break;
        }
      }
      if (compressedError !== undefined && !compressedError.ok) {
        fail(compressedError.errorCode, compressedError.errorMessage);
        out.recordErrors = compressedError.recordErrors.map((e) => ({
          batchIndex: e.batchIndex,
          batchIndexErrorMessage: e.message,
        }));
        continue;
      }
      if (config.cleanupPolicy.includes("compact")) {
        // Compressed batches had their keys checked with the rest of their records above.
        const keys = checkCompactedKeys(
          records,
          batches.filter((b) => b.compression === CompressionCodec.NONE),
          topic.name,
          data.index,
          RECORD_ERROR_DECODE_BYTES_MAX,
          RECORD_ERRORS_MAX,
        );
        if (!keys.ok) {
          fail(keys.errorCode, keys.errorMessage);
          out.recordErrors = keys.recordErrors;
          continue;
        }
      }
      const target = targetCodec(config.compressionType);
      if (target !== undefined) {
        const converted = recompressIfNeeded(records, batches, target, config.maxMessageBytes);
        if (!converted.ok) {
          fail(converted.errorCode, converted.errorMessage);
          continue;
        }
        records = converted.records;
        batches = converted.batches;
      }
      // Only transactional batches wait for the coordinator (no extra turn of the event loop
      // otherwise, which the deterministic replication simulation relies on).
      const verified = batches.some((b) => b.isTransactional)
        ? await verifyTransactional(transactions, partition, request.transactionalId, batches, nowMs, version)
        : NOT_VERIFIED;
      if (verified.errorCode !== ErrorCode.NONE) {
        fail(verified.errorCode);
        continue;
      }
      // The transaction may have ended while it was being verified (its marker appended here
      // meanwhile): the batch would then open a transaction nobody ends (Kafka's VerificationGuard).
      if (!guardsHold(partition, verified.guards, nowMs, version)) {
        fail(ErrorCode.INVALID_TXN_STATE, "The transaction ended while the batch was being verified");
        continue;
      }
      const appended = partition.appendAsLeader(
        records,
        batches,
        config.messageTimestampType === "LogAppendTime",
        nowMs,
      );
      if (appended.kind === "error") {
        fail(appended.errorCode, appended.errorMessage);
        continue;
      }
      out.baseOffset = BigInt(appended.firstOffset);
      out.logAppendTimeMs = BigInt(appended.logAppendTimeMs);
      out.logStartOffset = BigInt(appended.logStartOffset);
      if (request.acks === -1) {
        // Kafka's DelayedProduce: answered once the high watermark covers the batches (a
        // duplicate waits for the original's replication), the leader moves, or the timeout.
        const requiredOffset =
          appended.kind === "appended"
            ? appended.lastOffset + 1
            : appended.firstOffset + batches.reduce((n, b) => n + b.lastOffsetDelta + 1, 0);
        replicated.push(
          partitions.delayedProduce.wait(partition, requiredOffset, request.timeoutMs).then((errorCode) => {
            if (errorCode === ErrorCode.NONE) return;
            out.errorCode = errorCode;
            out.errorMessage = null;
            anyError = true;
          }),
        );
      }
      if (appended.kind === "appended") {
        bytesByTopic.set(topic.name, (bytesByTopic.get(topic.name) ?? 0) + records.length);
        const appendedRecords = appended.lastOffset - appended.firstOffset + 1;
        messagesByTopic.set(topic.name, (messagesByTopic.get(topic.name) ?? 0) + appendedRecords);
        if (appended.durable !== undefined && request.acks !== 0) {
          durables.push(
            appended.durable.catch((err: unknown) => {
              // The bytes are in the log but not known to be on disk: the client must not count on them.
              out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
              out.errorMessage = err instanceof KrillError ? err.message : "flush failed";
              out.baseOffset = -1n;
            }),
          );
        }
      }
    }
  }
  await Promise.all(durables);
  await Promise.all(replicated);
  return { response, anyError, bytesByTopic, messagesByTopic };
}

/**
 * Transactional batches: the first one of a producer's transaction in a partition must belong to
 * the transactional id's current producer and to a partition of its transaction, so a zombie or
 * a hanging transaction cannot start here (Kafka's ReplicaManager transaction verification).
 * Below v12 the partition must have been added by the client (KIP-890 part 1: verify only); from
 * v12 (transactions v2, KIP-890 part 2) the coordinator adds it, with the batch's epoch, which a
 * delayed batch of an earlier transaction no longer has. Later batches of the transaction are
 * checked by producer state (epoch, sequence).
 */
async function verifyTransactional(
  transactions: TransactionVerifier,
  partition: Partition,
  transactionalId: string | null,
  batches: readonly { producerId: bigint; producerEpoch: number; isTransactional: boolean }[],
  nowMs: number,
  version: number,
): Promise<Verified> {
  const guards: Guarded[] = [];
  for (const b of batches) {
    if (!b.isTransactional) continue;
    let open: boolean;
    try {
      open = transactionOpen(partition, b.producerId, b.producerEpoch, nowMs, version);
    } catch {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, guards: [] };
    }
    if (open) continue;
    guards.push({
      producerId: b.producerId,
      producerEpoch: b.producerEpoch,
      guard: partition.verificationGuards.start(b.producerId),
    });
    if (version < 12 || transactionalId === null) {
      const error = await transactions.verifyTransactionalProduce(
        transactionalId,
        b.producerId,
        b.producerEpoch,
        partition.topic,
        partition.partitionId,
        version >= 11,
      );
      if (error !== ErrorCode.NONE) return { errorCode: error, guards: [] };
      continue;
    }
    const error = await transactions.addPartitionImplicitly(
      transactionalId,
      b.producerId,
      b.producerEpoch,
      partition.topic,
      partition.partitionId,
    );
    if (error !== ErrorCode.NONE) return { errorCode: produceErrorOfAdd(error), guards: [] };
  }
  return { errorCode: ErrorCode.NONE, guards };
}

interface Guarded {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly guard: VerificationGuard;
}

interface Verified {
  readonly errorCode: number;
  /** The guards of the batches that were verified (those opening a transaction here). */
  readonly guards: readonly Guarded[];
}

const NOT_VERIFIED: Verified = { errorCode: ErrorCode.NONE, guards: [] };

/** Whether the producer's transaction is open in the partition (v12+: at this epoch). */
function transactionOpen(
  partition: Partition,
  producerId: bigint,
  producerEpoch: number,
  nowMs: number,
  version: number,
): boolean {
  const state = partition.producerState(nowMs);
  if (version < 12) return state.ongoingTransactions().has(producerId);
  const entry = state.entry(producerId);
  return entry !== undefined && entry.currentTxnFirstOffset >= 0 && entry.producerEpoch === producerEpoch;
}

/**
 * Checked right before the append, in the same turn of the event loop: each verified batch's
 * guard is still the producer's, or its transaction was opened here meanwhile (by another batch
 * of the same producer verified at the same time). A node that no longer leads is answered by
 * the append itself.
 */
function guardsHold(
  partition: Partition,
  guards: readonly Guarded[],
  nowMs: number,
  version: number,
): boolean {
  if (guards.length === 0 || !partition.isLeader) return true;
  try {
    return guards.every(
      (g) =>
        partition.verificationGuards.holds(g.producerId, g.guard) ||
        transactionOpen(partition, g.producerId, g.producerEpoch, nowMs, version),
    );
  } catch {
    return true; // producer state unreadable: the append answers KAFKA_STORAGE_ERROR
  }
}

/**
 * Kafka's translation of the coordinator's answer for the producer (AddPartitionsToTxnManager and
 * ReplicaManager.handleProduceAppend): a fenced epoch is INVALID_PRODUCER_EPOCH, and retriable
 * coordinator errors become NOT_ENOUGH_REPLICAS, which every client retries without a metadata
 * refresh.
 */
export function produceErrorOfAdd(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    default:
      return errorCode;
  }
}

function partitionResponse(index: number): ProduceResponsePartitionProduceResponse {
  return {
    index,
    errorCode: ErrorCode.NONE,
    baseOffset: -1n,
    logAppendTimeMs: -1n,
    logStartOffset: -1n,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
  };
}

/**
 * KIP-467: the indexes of the records whose timestamps are out of bounds. Decoding happens only
 * here, for a batch already rejected, with decompression bounded; if the batch cannot be decoded
 * the partition error stands without record errors.
 */
function timestampRecordErrors(
  records: Buffer,
  nowMs: number,
  config: {
    messageTimestampType: string;
    messageTimestampBeforeMaxMs: number;
    messageTimestampAfterMaxMs: number;
  },
): ProduceResponseBatchIndexAndErrorMessage[] {
  if (config.messageTimestampType !== "CreateTime") return [];
  let decoded: ReturnType<typeof decodeRecordBatch>;
  try {
    decoded = decodeRecordBatch(records, { decompressedBytesMax: RECORD_ERROR_DECODE_BYTES_MAX });
  } catch {
    return [];
  }
  const errors: ProduceResponseBatchIndexAndErrorMessage[] = [];
  const low = nowMs - config.messageTimestampBeforeMaxMs;
  const high = nowMs + config.messageTimestampAfterMaxMs;
  decoded.records.forEach((record, batchIndex) => {
    const ts = Number(record.timestamp);
    if (errors.length >= RECORD_ERRORS_MAX || ts < 0) return;
    if (ts < low || ts > high) {
      errors.push({
        batchIndex,
        batchIndexErrorMessage: `Timestamp ${ts} of message with offset ${batchIndex} is out of range. The timestamp should be within [${low}, ${high}]`,
      });
    }
  });
  return errors;
}

/**
 * Transactional offset commits (TxnOffsetCommit; Kafka's GroupMetadataManager.storeOffsets with a
 * producer id, and its pendingTransactionalOffsetCommits): the offsets are written to the group's
 * __consumer_offsets partition as a transactional batch carrying the producer id and epoch, and
 * held here as pending until the transaction ends. The COMMIT marker the coordinator writes to
 * that partition makes them visible in the group coordinator (`applyTxnOffsets`); ABORT drops
 * them. On a restart the group coordinator's replay applies committed ones and skips aborted
 * ones; the offsets of transactions still open are found again by `load`, from the open
 * transactions the partitions' producer state knows.
 *
 * Memory: one entry per (producer, group, partition) of an open transaction; a transaction has a
 * bounded life (its timeout), after which it is aborted and its entries dropped.
 *
 * Concurrency contract: single event loop; a commit's append and its entry happen without an
 * await between them.
 */

import { CONSUMER_OFFSETS_TOPIC } from "../../metadata/internal-topics.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { TxnOffsetCommitRequest } from "../../protocol/generated/txn-offset-commit-request.js";
import type { TxnOffsetCommitResponseTopic } from "../../protocol/generated/txn-offset-commit-response.js";
import { ATTR_CONTROL_MASK, readBatchHeader } from "../../protocol/records/batch-header.js";
import { iterateBatches } from "../../protocol/records/batch-iterator.js";
import { decodeRecordBatch } from "../../protocol/records/record-batch.js";
import { appendCoordinatorBatch, awaitCoordinatorAppend } from "../coordinator-log.js";
import type { GroupCoordinator, PartitionExists } from "../group/group-coordinator.js";
import type { OffsetAndMetadata } from "../group/offset-store.js";
import { decodeGroupRecord } from "../group/offsets-records.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import { produceErrorOfAdd } from "../produce/produce.js";
import type { TransactionCoordinator } from "./txn-coordinator.js";
import type { TransactionVerifier } from "./txn-verification.js";

/** Bytes read per step while looking for open transactions' offsets. */
const LOAD_READ_BYTES = 1024 * 1024;
const LOAD_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

export interface PendingOffset {
  topic: string;
  partition: number;
  value: OffsetAndMetadata;
}

export interface TxnOffsetsDeps {
  partitions: PartitionManager;
  /** The group coordinator (callers make sure it is loaded before offsets reach it). */
  groups: GroupCoordinator;
  transactions: TransactionCoordinator;
  /** Verifies against the transaction's coordinator, here or on its node (default: `transactions`). */
  verifier?: TransactionVerifier;
}

/**
 * The implicit AddOffsetsToTxn's error as TxnOffsetCommit answers it: Kafka translates the
 * coordinator's answer for a producer (a fenced epoch is INVALID_PRODUCER_EPOCH, retriable
 * coordinator errors NOT_ENOUGH_REPLICAS) and the group coordinator then normalizes
 * NOT_ENOUGH_REPLICAS to COORDINATOR_NOT_AVAILABLE, which the client retries.
 */
function txnOffsetCommitErrorOfAdd(errorCode: number): number {
  const produceError = produceErrorOfAdd(errorCode);
  return produceError === ErrorCode.NOT_ENOUGH_REPLICAS ? ErrorCode.COORDINATOR_NOT_AVAILABLE : produceError;
}

export class TxnOffsets {
  readonly #deps: TxnOffsetsDeps;
  /** producer id -> group -> `${topic}\u0000${partition}` -> offset */
  readonly #pending = new Map<bigint, Map<string, Map<string, PendingOffset>>>();

  constructor(deps: TxnOffsetsDeps) {
    this.#deps = deps;
  }

  /** Groups with pending offsets of producer `producerId` (tests, DescribeTransactions). */
  pendingOf(producerId: bigint): ReadonlyMap<string, ReadonlyMap<string, PendingOffset>> | undefined {
    return this.#pending.get(producerId);
  }

  /** True if some open transaction holds an offset for this group and partition (require_stable). */
  hasPending(groupId: string, topic: string, partition: number): boolean {
    const key = `${topic}\u0000${partition}`;
    for (const groups of this.#pending.values()) if (groups.get(groupId)?.has(key)) return true;
    return false;
  }

  /**
   * TxnOffsetCommit: the partitions are checked as OffsetCommit's (the group coordinator's
   * `prepareOffsetCommit`: UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, metadata
   * size, group.max.offsets), then the group member, then the transaction.
   */
  async commit(
    request: TxnOffsetCommitRequest,
    apiVersion: number,
    partitionExists: PartitionExists,
  ): Promise<TxnOffsetCommitResponseTopic[]> {
    const groups = this.#deps.groups;
    const nowMs = this.#deps.partitions.clock.nowMs();
    const commit = groups.prepareOffsetCommit(request.groupId, request.topics, partitionExists, (p) => ({
      offset: p.committedOffset,
      leaderEpoch: apiVersion >= 2 ? p.committedLeaderEpoch : -1,
      commitTimestampMs: nowMs,
      expireTimestampMs: -1,
    }));
    if (commit.existing === 0) return commit.results;
    const offsetsPartition = groups.partitionFor(request.groupId);
    const memberError = groups.validateTxnOffsetCommit(
      request.groupId,
      apiVersion >= 3 ? request.memberId : "",
      apiVersion >= 3 ? request.groupInstanceId : null,
      apiVersion >= 3 ? request.generationIdOrMemberEpoch : -1,
    );
    if (memberError !== ErrorCode.NONE) return commit.refuse(memberError);
    const txns = this.#deps.transactions;
    // The transaction's coordinator may be another node: the verifier asks it (AddPartitionsToTxn
    // v4+, KIP-890), as Kafka's group coordinator does through the AddPartitionsToTxnManager.
    const verifier = this.#deps.verifier ?? txns;
    if (txns.gate(request.transactionalId) === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
      return commit.refuse(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    // Below v5 the client must have added the group's offsets partition to its transaction
    // (AddOffsetsToTxn); from v5 (transactions v2) this request adds it.
    const txnError =
      apiVersion >= 5
        ? txnOffsetCommitErrorOfAdd(
            await verifier.addPartitionImplicitly(
              request.transactionalId,
              request.producerId,
              request.producerEpoch,
              CONSUMER_OFFSETS_TOPIC,
              offsetsPartition,
            ),
          )
        : txnOffsetCommitErrorOfAdd(
            await verifier.verifyTransactionalProduce(
              request.transactionalId,
              request.producerId,
              request.producerEpoch,
              CONSUMER_OFFSETS_TOPIC,
              offsetsPartition,
              apiVersion >= 4,
            ),
          );
    if (txnError !== ErrorCode.NONE) return commit.refuse(txnError);
    const found = this.#deps.partitions.lookup(CONSUMER_OFFSETS_TOPIC, offsetsPartition);
    if (!found.ok) return commit.refuse(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (commit.records.length === 0) return commit.results;
    const outcome = appendCoordinatorBatch(found.partition, commit.records, nowMs, {
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
    });
    if (outcome.kind === "error") {
      // Producer-state epoch errors keep their code (a fenced producer); storage errors are retriable.
      return commit.fail(
        outcome.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH
          ? outcome.errorCode
          : ErrorCode.UNKNOWN_SERVER_ERROR,
      );
    }
    for (const o of commit.offsets) this.#put(request.producerId, request.groupId, o);
    const written = await awaitCoordinatorAppend(this.#deps.partitions, found.partition, outcome);
    // Kafka's TxnOffsetCommit answers a write it cannot confirm with a retriable error.
    if (written === ErrorCode.KAFKA_STORAGE_ERROR) return commit.fail(written);
    if (written !== ErrorCode.NONE) return commit.fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return commit.results;
  }

  /** The transaction of `producerId` ended: its offsets become visible (commit) or are dropped. */
  complete(producerId: bigint, commit: boolean): void {
    const groups = this.#pending.get(producerId);
    if (groups === undefined) return;
    this.#pending.delete(producerId);
    if (!commit) return;
    const coordinator = this.#deps.groups;
    for (const [groupId, offsets] of groups) coordinator.applyTxnOffsets(groupId, [...offsets.values()]);
  }

  /**
   * After a restart: the offsets written by transactions still open, read back from the
   * __consumer_offsets partitions this node leads (`loadPartition` for each).
   */
  load(partitionCount: number): void {
    for (let index = 0; index < partitionCount; index++) this.loadPartition(index);
  }

  /**
   * The offsets written by transactions still open in one __consumer_offsets partition this node
   * leads (after a restart, or when it becomes the partition's leader), read back from the oldest
   * open transaction's first offset to the log end, so their COMMIT marker makes them visible.
   */
  loadPartition(index: number): void {
    const partitions = this.#deps.partitions;
    const nowMs = partitions.clock.nowMs();
    const found = partitions.lookup(CONSUMER_OFFSETS_TOPIC, index);
    if (!found.ok) return;
    const partition = found.partition;
    const open = partition.producerState(nowMs).ongoingTransactions();
    if (open.size === 0) return;
    let offset = Math.max(partition.logStartOffset, Math.min(...open.values()));
    const end = partition.logEndOffset;
    while (offset < end) {
      const read = partition.read(offset, LOAD_READ_BYTES, true, false, false, true);
      if (read.records.length === 0 || read.nextOffset <= offset) break;
      for (const { position } of iterateBatches(read.records)) {
        const header = readBatchHeader(read.records, position);
        const firstOffset = open.get(header.producerId);
        if (firstOffset === undefined || Number(header.baseOffset) < firstOffset) continue;
        if ((header.attributes & ATTR_CONTROL_MASK) !== 0) continue;
        const batch = decodeRecordBatch(read.records, {
          position,
          decompressedBytesMax: LOAD_DECOMPRESSED_BYTES_MAX,
        });
        for (const r of batch.records) {
          if (r.key === null) continue;
          const decoded = decodeGroupRecord({ key: r.key, value: r.value });
          if (decoded.type !== "OffsetCommit" || decoded.value === null) continue;
          this.#put(header.producerId, decoded.group, {
            topic: decoded.topic,
            partition: decoded.partition,
            value: {
              offset: decoded.value.offset,
              leaderEpoch: decoded.value.leaderEpoch,
              metadata: decoded.value.metadata,
              commitTimestampMs: Number(decoded.value.commitTimestamp),
              expireTimestampMs: Number(decoded.value.expireTimestamp),
            },
          });
        }
      }
      offset = read.nextOffset;
    }
  }

  #put(producerId: bigint, groupId: string, offset: PendingOffset): void {
    let groups = this.#pending.get(producerId);
    if (groups === undefined) {
      groups = new Map();
      this.#pending.set(producerId, groups);
    }
    let offsets = groups.get(groupId);
    if (offsets === undefined) {
      offsets = new Map();
      groups.set(groupId, offsets);
    }
    offsets.set(`${offset.topic}\u0000${offset.partition}`, offset);
  }
}

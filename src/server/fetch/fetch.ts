/**
 * Fetch (Kafka's KafkaApis.handleFetchRequest, ReplicaManager.fetchMessages/readFromLog,
 * Partition.fetchRecords, DelayedFetch):
 *
 * 1. The fetch session cache turns the request into the partitions to read (KIP-227).
 * 2. Each partition is read up to the high watermark (read_uncommitted) or the last stable
 *    offset (read_committed), within `partition_max_bytes` and what is left of `max_bytes`
 *    (capped by the broker's fetch.max.bytes). Until some partition has returned data, a read
 *    returns at least one whole batch even if it is larger than the limits (KIP-74), so a large
 *    batch can never block a consumer.
 * 3. If fewer than `min_bytes` were found, no partition had an error, and `max_wait_ms` > 0, the
 *    fetch waits in the purgatory until appends bring the missing bytes (or an event, or the
 *    deadline), then reads again. A follower's fetch (v18+, KIP-1166) that names a high
 *    watermark below this leader's for some partition is answered at once instead, so the
 *    follower learns the new high watermark without waiting for more data.
 * 4. The session decides which partitions the response carries.
 *
 * A follower's fetch (replica id >= 0, with its broker epoch from v15) is a replica fetch (Kafka's
 * FetchParams.isFromFollower): it must come from a replica of the partition, reads up to the log
 * end offset rather than the high watermark, waits for any appended byte, and its fetch offset is
 * the follower's log end, which the leader records (`Partition.updateFollowerFetchState`: ISR
 * expansion, high watermark) unless the fetch found a diverging epoch. Every fetch must reach the
 * leader (no KIP-392 reads from followers): a follower answers NOT_LEADER_OR_FOLLOWER, after the
 * leader-epoch check.
 *
 * The records of each partition are the stored bytes exactly as read from the segment; the
 * response encoder hands them to the socket by reference (Writer.writeRawChunk), never copying
 * or decoding them.
 */
import { isKrillError } from "../../errors.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { FetchRequest } from "../../protocol/generated/fetch-request.js";
import type {
  FetchResponse,
  FetchResponseFetchableTopicResponse,
  FetchResponsePartitionData,
} from "../../protocol/generated/fetch-response.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import type { PartitionManager } from "../partitions/partition-manager.js";
import type { DelayedFetchPurgatory } from "./delayed-fetch.js";
import type {
  FetchSessionCache,
  PartitionFetch,
  PartitionOutcome,
  SessionPartitionKey,
} from "./fetch-session.js";

const READ_COMMITTED = 1;
/** Fetch v18's high_watermark default: the follower did not say (Long.MAX_VALUE). */
const HIGH_WATERMARK_UNKNOWN = 9223372036854775807n;
const EMPTY = Buffer.alloc(0);

export interface FetchLimits {
  /** The broker's fetch.max.bytes: a cap on any response. */
  fetchMaxBytes: number;
  /**
   * Whether the request may read a topic (Kafka's handleFetchRequest: READ on the topic for a
   * consumer, CLUSTER_ACTION for a follower); a topic it may not read is TOPIC_AUTHORIZATION_FAILED.
   * Absent: every topic.
   */
  canRead?: (topic: string) => boolean;
}

export interface FetchOutcome {
  response: FetchResponse;
  bytesByTopic: Map<string, number>;
}

interface PartitionRead {
  data: FetchResponsePartitionData;
  outcome: PartitionOutcome;
  /** Purgatory key, when the partition resolved. */
  key: string | undefined;
}

/**
 * What Fetch keeps between requests: the fetch sessions (KIP-227) and the purgatory where
 * long-polling fetches wait for appends (the partition manager's events wake it).
 */
export interface FetchState {
  readonly sessions: FetchSessionCache;
  readonly purgatory: DelayedFetchPurgatory;
}

export async function fetch(
  partitions: PartitionManager,
  state: FetchState,
  request: FetchRequest,
  version: number,
  limits: FetchLimits,
): Promise<FetchOutcome> {
  const usesTopicIds = version >= 13;
  const image = partitions.image();
  const nameOf = (topicId: string) => image.topicsById.get(topicId)?.name ?? "";
  const wanted: PartitionFetch[] = [];
  const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
  // KIP-1166: the high watermark a follower last saw, per partition (v18+, replicas only).
  const followerHighWatermarks = new Map<string, number>();
  for (const t of request.topics) {
    const topic = usesTopicIds ? nameOf(t.topicId) : t.topic;
    const topicId = usesTopicIds ? t.topicId : (image.topicsByName.get(t.topic)?.topicId ?? ZERO_UUID);
    for (const p of t.partitions) {
      wanted.push({
        topicId,
        topic,
        partition: p.partition,
        fetchOffset: toOffset(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
        lastFetchedEpoch: p.lastFetchedEpoch,
        logStartOffset: toOffset(p.logStartOffset),
      });
      if (version >= 18 && replicaId >= 0 && p.highWatermark !== HIGH_WATERMARK_UNKNOWN) {
        followerHighWatermarks.set(`${p.partition}:${topic}`, toOffset(p.highWatermark));
      }
    }
  }
  const forgotten: SessionPartitionKey[] = [];
  for (const t of request.forgottenTopicsData) {
    for (const partition of t.partitions) {
      forgotten.push({ topicId: t.topicId, topic: usesTopicIds ? nameOf(t.topicId) : t.topic, partition });
    }
  }
  const replica: ReplicaFetch | undefined =
    replicaId >= 0
      ? { replicaId, brokerEpoch: version >= 15 ? request.replicaState.replicaEpoch : -1n }
      : undefined;
  const context = state.sessions.newContext({
    sessionId: request.sessionId,
    sessionEpoch: request.sessionEpoch,
    usesTopicIds,
    privileged: replicaId >= 0,
    partitions: wanted,
    forgotten,
  });
  const response: FetchResponse = {
    throttleTimeMs: 0,
    errorCode: context.errorCode,
    sessionId: 0,
    responses: [],
    nodeEndpoints: [],
  };
  const bytesByTopic = new Map<string, number>();
  if (context.errorCode !== ErrorCode.NONE) return { response, bytesByTopic };

  const maxBytes = Math.max(0, Math.min(request.maxBytes, limits.fetchMaxBytes));
  const readCommitted = request.isolationLevel === READ_COMMITTED;
  const opts: ReadOpts = {
    readCommitted,
    usesTopicIds,
    replica,
    updateFetchState: true,
    canRead: limits.canRead,
  };
  let reads = readAll(partitions, context.partitions, maxBytes, opts);
  const bytes = reads.reduce((n, r) => n + r.outcome.recordsBytes, 0);
  const mustRespond = reads.some(
    (r, i) =>
      r.outcome.errorCode !== ErrorCode.NONE ||
      r.outcome.mustRespond === true ||
      followerBehind(partitions, followerHighWatermarks, context.partitions[i]!),
  );
  if (!mustRespond && request.maxWaitMs > 0 && reads.length > 0 && bytes < request.minBytes) {
    const keys = reads.flatMap((r) => (r.key === undefined ? [] : [r.key]));
    const isolation = replica !== undefined ? "logEnd" : readCommitted ? "committed" : "highWatermark";
    await state.purgatory.wait(keys, request.minBytes - bytes, request.maxWaitMs, readCommitted, isolation);
    // Answer with whatever is there now, as Kafka's DelayedFetch.onComplete reads again (without
    // recording the follower's position a second time).
    reads = readAll(partitions, context.partitions, maxBytes, { ...opts, updateFetchState: false });
  }

  const plan = context.complete(reads.map((r) => r.outcome));
  response.sessionId = plan.sessionId;
  let current: FetchResponseFetchableTopicResponse | undefined;
  let currentKey: string | undefined;
  for (const i of plan.included) {
    const fetchInfo = context.partitions[i]!;
    const read = reads[i]!;
    const topicKey = usesTopicIds ? fetchInfo.topicId : fetchInfo.topic;
    // Consecutive partitions of one topic share a topic entry, as in Kafka's FetchResponse.
    if (current === undefined || currentKey !== topicKey) {
      current = { topic: fetchInfo.topic, topicId: fetchInfo.topicId, partitions: [] };
      currentKey = topicKey;
      response.responses.push(current);
    }
    current.partitions.push(read.data);
    if (read.outcome.recordsBytes > 0) {
      bytesByTopic.set(fetchInfo.topic, (bytesByTopic.get(fetchInfo.topic) ?? 0) + read.outcome.recordsBytes);
    }
  }
  return { response, bytesByTopic };
}

/**
 * KIP-1166: this leader's high watermark, as it stands after the follower's fetch was recorded
 * (which may have advanced it), is past the one the follower named for the partition.
 */
function followerBehind(
  partitions: PartitionManager,
  followerHighWatermarks: ReadonlyMap<string, number>,
  fetch: { topic: string; partition: number },
): boolean {
  if (followerHighWatermarks.size === 0) return false;
  const seen = followerHighWatermarks.get(`${fetch.partition}:${fetch.topic}`);
  if (seen === undefined) return false;
  const found = partitions.lookup(fetch.topic, fetch.partition);
  return found.ok && seen < found.partition.highWatermark;
}

/** Offsets beyond 2^53 cannot exist in a Krill log; they read as out of range. */
function toOffset(offset: bigint): number {
  return offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset);
}

/** A follower's fetch: who it is and the broker epoch it fetched with (-1: not sent). */
interface ReplicaFetch {
  readonly replicaId: number;
  readonly brokerEpoch: bigint;
}

interface ReadOpts {
  readonly readCommitted: boolean;
  readonly usesTopicIds: boolean;
  readonly replica: ReplicaFetch | undefined;
  /** Record a follower's position (the first read of a request, not the re-read after waiting). */
  readonly updateFetchState: boolean;
  readonly canRead: ((topic: string) => boolean) | undefined;
}

function readAll(
  partitions: PartitionManager,
  fetches: readonly PartitionFetch[],
  maxBytes: number,
  opts: ReadOpts,
): PartitionRead[] {
  let remaining = maxBytes;
  let minOneBatch = true;
  return fetches.map((f) => {
    const read = readPartition(partitions, f, Math.min(f.maxBytes, remaining), minOneBatch, opts);
    if (read.outcome.recordsBytes > 0) {
      remaining = Math.max(0, remaining - read.outcome.recordsBytes);
      minOneBatch = false;
    }
    return read;
  });
}

function partitionData(partition: number, errorCode: number): FetchResponsePartitionData {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

function readPartition(
  partitions: PartitionManager,
  f: PartitionFetch,
  maxBytes: number,
  minOneBatch: boolean,
  opts: ReadOpts,
): PartitionRead {
  const { readCommitted, replica } = opts;
  const failed = (errorCode: number, key?: string): PartitionRead => ({
    data: partitionData(f.partition, errorCode),
    outcome: { errorCode, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, recordsBytes: 0 },
    key,
  });
  if (opts.canRead !== undefined && !opts.canRead(f.topic))
    return failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  // Kafka's Partition.getLocalLog: the current leader epoch first, then leadership.
  const found = opts.usesTopicIds
    ? partitions.lookupById(f.topicId, f.partition, f.currentLeaderEpoch)
    : partitions.lookupAtEpoch(f.topic, f.partition, f.currentLeaderEpoch);
  if (!found.ok) return failed(found.errorCode);
  const partition = found.partition;
  const key = partition.key;
  if (replica !== undefined) {
    const error = partition.checkFollower(replica.replicaId, f.currentLeaderEpoch, replica.brokerEpoch);
    if (error !== ErrorCode.NONE) return failed(error, key);
  }
  // As Kafka's Partition.readRecords, offsets are taken before the read, so appends that follow
  // it cannot keep a follower from counting as caught up.
  const highWatermark = partition.highWatermark;
  const lastStableOffset = partition.lastStableOffset;
  const logStartOffset = partition.logStartOffset;
  const logEndOffset = partition.logEndOffset;
  const data = partitionData(f.partition, ErrorCode.NONE);
  data.highWatermark = BigInt(highWatermark);
  data.lastStableOffset = BigInt(lastStableOffset);
  data.logStartOffset = BigInt(logStartOffset);
  if (readCommitted) data.abortedTransactions = [];
  const outcome = {
    errorCode: ErrorCode.NONE,
    highWatermark,
    lastStableOffset,
    logStartOffset,
    recordsBytes: 0,
  };
  const outOfRange = (): PartitionRead => {
    data.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
    return { data, outcome: { ...outcome, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE }, key };
  };
  if (f.lastFetchedEpoch >= 0) {
    // Partition.readRecords: an epoch this log cannot place is out of range; below the log start
    // is out of range whatever the epochs; a last fetched epoch that ends before the fetch
    // offset (or is unknown here) has diverged: tell the fetcher where it ends instead of reading.
    const end = partition.endOffsetForEpoch(f.lastFetchedEpoch);
    if (end.epoch < 0 || end.endOffset < 0) return outOfRange();
    if (f.fetchOffset < logStartOffset) return outOfRange();
    if (end.endOffset < f.fetchOffset || end.epoch < f.lastFetchedEpoch) {
      data.divergingEpoch = { epoch: end.epoch, endOffset: BigInt(end.endOffset) };
      return { data, outcome: { ...outcome, mustRespond: true }, key };
    }
  }
  if (f.fetchOffset < logStartOffset || f.fetchOffset > logEndOffset) return outOfRange();
  try {
    // Pooled: the bytes go only into this response, and the connection releases the buffer once
    // the response is written (read-buffer-pool.ts).
    const read = partition.read(
      f.fetchOffset,
      maxBytes,
      minOneBatch,
      readCommitted,
      true,
      replica !== undefined,
    );
    data.records = read.records;
    if (readCommitted && read.records.length > 0) {
      // Kafka's collectAbortedTxns: transactions aborted in the range returned, so the consumer
      // drops their records (the bytes themselves are sent as stored).
      data.abortedTransactions = partition
        .abortedTransactions(f.fetchOffset, read.nextOffset)
        .map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) }));
    }
    if (replica !== undefined && opts.updateFetchState) {
      partition.updateFollowerFetchState(
        replica.replicaId,
        f.fetchOffset,
        f.logStartOffset,
        partitions.clock.nowMs(),
        logEndOffset,
        replica.brokerEpoch,
      );
    }
    return { data, outcome: { ...outcome, recordsBytes: read.records.length }, key };
  } catch (err) {
    const errorCode = isKrillError(err, "OFFSET_OUT_OF_RANGE")
      ? ErrorCode.OFFSET_OUT_OF_RANGE
      : ErrorCode.KAFKA_STORAGE_ERROR;
    data.errorCode = errorCode;
    return { data, outcome: { ...outcome, errorCode }, key };
  }
}

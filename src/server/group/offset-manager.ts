/**
 * Committed offsets (Kafka's OffsetMetadataManager): OffsetCommit, OffsetFetch, OffsetDelete, the
 * offsets of deleted topics, retention (offsets.retention.minutes), and the group coordinator's
 * side of transactional offset commits (checks, and the offsets a committed transaction makes
 * visible). Member and generation checks of classic groups are the classic protocol's.
 *
 * Concurrency contract: single-threaded, as the coordinator (group-coordinator.ts): a commit is
 * checked and its records built synchronously; its offsets become visible only once the append to
 * __consumer_offsets succeeded.
 */

import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { OffsetCommitRequest } from "../../protocol/generated/offset-commit-request.js";
import { ZERO_UUID } from "../../protocol/primitives/uuid.js";
import { ClassicGroup } from "./classic-group.js";
import type { ClassicProtocol } from "./classic-protocol.js";
import type { ConsumerGroup } from "./consumer-group.js";
import { CONSUMER_PROTOCOL_TYPE, type CoordinatorState } from "./coordinator-state.js";
import { consumerGroupTombstones } from "./group-records.js";
import type { OffsetAndMetadata } from "./offset-store.js";
import { type CoordinatorRecord, groupMetadataRecord, offsetCommitRecord } from "./offsets-records.js";

export interface PartitionResult {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicPartitionsResult {
  name: string;
  partitions: PartitionResult[];
}

export interface FetchedPartition {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchOffsetsResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedPartition[] }[];
}

/** A commit's answer for one topic: OffsetCommit and TxnOffsetCommit echo the topic's id. */
export interface CommittedTopicResult extends TopicPartitionsResult {
  topicId: string;
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: TopicPartitionsResult[];
}

/**
 * Whether a committed offset's metadata exceeds offset.metadata.max.bytes (OffsetCommit and
 * TxnOffsetCommit alike). A null metadata is never too large, whatever the limit says (Kafka).
 */
export function offsetMetadataTooLarge(metadata: string | null, maxBytes: number): boolean {
  return metadata !== null && Buffer.byteLength(metadata, "utf8") > maxBytes;
}

/**
 * Whether a partition exists, from the broker's metadata: Kafka's KafkaApis answers
 * UNKNOWN_TOPIC_OR_PARTITION for the others before a commit reaches the coordinator.
 */
export type PartitionExists = (topic: string, partition: number) => boolean;

/** What OffsetCommit and TxnOffsetCommit carry for each partition. */
export interface CommittedPartition {
  readonly partitionIndex: number;
  readonly committedOffset: bigint;
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

/**
 * One OffsetCommit or TxnOffsetCommit checked partition by partition, in request order (see
 * `OffsetManager.prepareCommit`): the answer for each partition, and the records and offsets of
 * those accepted. Group-level checks come after the partitions' existence, as in Kafka, so they
 * answer only for partitions that exist.
 */
export class PreparedOffsetCommit {
  readonly results: CommittedTopicResult[] = [];
  readonly records: CoordinatorRecord[] = [];
  readonly offsets: { topic: string; partition: number; value: OffsetAndMetadata }[] = [];
  readonly #existing: PartitionResult[] = [];

  /** Partitions of the request that exist (whatever else was wrong with them). */
  get existing(): number {
    return this.#existing.length;
  }

  /** A group-level refusal: every partition that exists is answered `errorCode`. */
  refuse(errorCode: number): CommittedTopicResult[] {
    for (const p of this.#existing) p.errorCode = errorCode;
    return this.results;
  }

  /** The records could not be written: every accepted partition is answered `errorCode`. */
  fail(errorCode: number): CommittedTopicResult[] {
    for (const p of this.#existing) if (p.errorCode === ErrorCode.NONE) p.errorCode = errorCode;
    return this.results;
  }

  /** For `prepareCommit`: a partition that exists, with its answer so far. */
  addExisting(result: PartitionResult): void {
    this.#existing.push(result);
  }
}

const EXPIRE_OFFSETS_KEY = "expire-offsets";

function fetched(partitionIndex: number, o: OffsetAndMetadata | undefined): FetchedPartition {
  if (o === undefined) {
    return {
      partitionIndex,
      committedOffset: -1n,
      committedLeaderEpoch: -1,
      metadata: "",
      errorCode: ErrorCode.NONE,
    };
  }
  return {
    partitionIndex,
    committedOffset: o.offset,
    committedLeaderEpoch: o.leaderEpoch,
    metadata: o.metadata,
    errorCode: ErrorCode.NONE,
  };
}

export class OffsetManager {
  readonly #state: CoordinatorState;
  readonly #classic: ClassicProtocol;

  constructor(state: CoordinatorState, classic: ClassicProtocol) {
    this.#state = state;
    this.#classic = classic;
  }

  /** Starts the periodic expiry check (offsets.retention.check.interval.ms). */
  startExpiry(): void {
    if (this.#state.timer.isScheduled(EXPIRE_OFFSETS_KEY)) return;
    this.#state.timer.schedule(EXPIRE_OFFSETS_KEY, this.#state.config.offsetsRetentionCheckIntervalMs, () =>
      this.#expireOffsetsTask(),
    );
  }

  stopExpiry(): void {
    this.#state.timer.cancel(EXPIRE_OFFSETS_KEY);
  }

  // ---------------------------------------------------------------------------------------------
  // Offsets

  /**
   * OffsetCommit. Per-partition error codes: partitions that do not exist get
   * UNKNOWN_TOPIC_OR_PARTITION and reach nothing else (a request naming only those leaves the
   * group untouched); a group-level refusal puts the same code on every other partition, as
   * Kafka does.
   */
  async commitOffsets(
    request: OffsetCommitRequest,
    apiVersion: number,
    partitionExists: PartitionExists,
  ): Promise<CommittedTopicResult[]> {
    const nowMs = this.#state.timer.nowMs();
    const expireTimestampMs = request.retentionTimeMs >= 0n ? nowMs + Number(request.retentionTimeMs) : -1;
    const commit = this.prepareCommit(request.groupId, request.topics, partitionExists, (p) => ({
      offset: p.committedOffset,
      leaderEpoch: p.committedLeaderEpoch,
      commitTimestampMs: nowMs,
      expireTimestampMs,
    }));
    if (commit.existing === 0) return commit.results;
    const gate = this.#state.gate(request.groupId);
    if (gate !== ErrorCode.NONE) return commit.refuse(gate);
    if (request.groupId === "") return commit.refuse(ErrorCode.INVALID_GROUP_ID);
    const consumerGroup = this.#state.consumerGroups.get(request.groupId);
    if (consumerGroup !== undefined) {
      const invalid = this.#validateConsumerOffsetCommit(consumerGroup, request, apiVersion);
      if (invalid !== ErrorCode.NONE) return commit.refuse(invalid);
      return this.#store(request.groupId, commit);
    }
    let group = this.#state.groups.get(request.groupId);
    if (group === undefined) {
      if (request.generationIdOrMemberEpoch >= 0) {
        return commit.refuse(apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      if (this.#state.groupCount >= this.#state.config.groupsMax)
        return commit.refuse(ErrorCode.GROUP_MAX_SIZE_REACHED);
      // A standalone commit (admin client, assign() consumers, kcat) makes a "simple" group.
      group = new ClassicGroup(request.groupId, "Empty", nowMs);
      this.#state.groups.set(request.groupId, group);
    }
    const invalid = this.#classic.validateOffsetCommit(
      group,
      request.memberId,
      request.groupInstanceId,
      request.generationIdOrMemberEpoch,
    );
    if (invalid !== ErrorCode.NONE) return commit.refuse(invalid);
    const member = group.member(request.memberId);
    if (member !== undefined && (group.is("Stable") || group.is("PreparingRebalance"))) {
      // Classic members' commits keep their session alive.
      this.#classic.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
    const results = await this.#store(request.groupId, commit);
    if (!this.#state.groups.has(request.groupId) && !this.#state.consumerGroups.has(request.groupId)) {
      this.#state.groups.set(request.groupId, group);
    }
    return results;
  }

  /**
   * Checks each partition of an OffsetCommit or TxnOffsetCommit and builds the records of those
   * accepted, changing nothing: partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION,
   * metadata over offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE, and a partition the group
   * holds no offset for yet GROUP_MAX_SIZE_REACHED once the group would hold more than
   * group.max.offsets. `offsetOf` gives the stored value of an accepted partition.
   */
  prepareCommit<P extends CommittedPartition>(
    groupId: string,
    topics: readonly { readonly name: string; readonly topicId: string; readonly partitions: readonly P[] }[],
    partitionExists: PartitionExists,
    offsetOf: (partition: P) => Omit<OffsetAndMetadata, "metadata">,
  ): PreparedOffsetCommit {
    const config = this.#state.config;
    const store = this.#state.offsets;
    const commit = new PreparedOffsetCommit();
    const added = new Set<string>();
    for (const topic of topics) {
      const partitions: PartitionResult[] = [];
      commit.results.push({ name: topic.name, topicId: topic.topicId, partitions });
      for (const p of topic.partitions) {
        const result: PartitionResult = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE };
        partitions.push(result);
        if (!partitionExists(topic.name, p.partitionIndex)) {
          result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        commit.addExisting(result);
        if (offsetMetadataTooLarge(p.committedMetadata, config.offsetMetadataMaxBytes)) {
          result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          continue;
        }
        const key = `${topic.name}\u0000${p.partitionIndex}`;
        if (store.get(groupId, topic.name, p.partitionIndex) === undefined && !added.has(key)) {
          if (store.count(groupId) + added.size >= config.groupMaxOffsets) {
            result.errorCode = ErrorCode.GROUP_MAX_SIZE_REACHED;
            continue;
          }
          added.add(key);
        }
        const value: OffsetAndMetadata = { ...offsetOf(p), metadata: p.committedMetadata ?? "" };
        commit.records.push(
          offsetCommitRecord(groupId, topic.name, p.partitionIndex, {
            offset: value.offset,
            leaderEpoch: value.leaderEpoch,
            metadata: value.metadata,
            commitTimestamp: BigInt(value.commitTimestampMs),
            expireTimestamp: BigInt(value.expireTimestampMs),
            topicId: ZERO_UUID,
          }),
        );
        commit.offsets.push({ topic: topic.name, partition: p.partitionIndex, value });
      }
    }
    return commit;
  }

  #validateConsumerOffsetCommit(
    group: ConsumerGroup,
    request: OffsetCommitRequest,
    apiVersion: number,
  ): number {
    // Epoch -1 on an empty group: an admin client or a consumer without group management.
    if (request.generationIdOrMemberEpoch < 0 && group.isEmpty) return ErrorCode.NONE;
    const member = group.members.get(request.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    // KIP-848 members must commit with OffsetCommit v9+, which carries the member epoch.
    if (apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (request.generationIdOrMemberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** Writes the commit's records, then makes the offsets visible. */
  async #store(groupId: string, commit: PreparedOffsetCommit): Promise<CommittedTopicResult[]> {
    if (commit.records.length === 0) return commit.results;
    const failure = await this.#state.append(groupId, commit.records);
    if (failure !== null) return commit.fail(failure);
    for (const o of commit.offsets) this.#state.offsets.put(groupId, o.topic, o.partition, o.value);
    return commit.results;
  }

  /**
   * OffsetFetch for one group; `topics` null means every committed offset. A group that does not
   * exist has no offsets (-1 everywhere), which is not an error.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    memberId: string | null = null,
    memberEpoch = -1,
  ): FetchOffsetsResult {
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, topics: [] };
    if (groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    const consumerGroup = this.#state.consumerGroups.get(groupId);
    if (consumerGroup !== undefined && !(memberId === null && memberEpoch < 0)) {
      // A KIP-848 member fetching its group's offsets must be current (OffsetFetch v9+).
      const member = consumerGroup.members.get(memberId ?? "");
      if (member === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, topics: [] };
      if (member.memberEpoch !== memberEpoch) return { errorCode: ErrorCode.STALE_MEMBER_EPOCH, topics: [] };
    }
    const group = this.#state.groups.get(groupId);
    const known = consumerGroup !== undefined || (group !== undefined && !group.is("Dead"));
    if (topics === null) {
      if (!known) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: [...this.#state.offsets.topics(groupId)].map(([name, partitions]) => ({
          name,
          partitions: [...partitions].map(([partitionIndex, o]) => fetched(partitionIndex, o)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) =>
          fetched(p, known ? this.#state.offsets.get(groupId, t.name, p) : undefined),
        ),
      })),
    };
  }
  /** OffsetDelete: refused for topics a live consumer group still subscribes to. */
  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[],
  ): Promise<OffsetDeleteResult> {
    const refuse = (errorCode: number): OffsetDeleteResult => ({ errorCode, topics: [] });
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return refuse(gate);
    if (groupId === "") return refuse(ErrorCode.INVALID_GROUP_ID);
    const consumerGroup = this.#state.consumerGroups.get(groupId);
    const group = this.#state.groups.get(groupId);
    let isSubscribed: (topic: string) => boolean;
    if (consumerGroup !== undefined) {
      const subscribed = consumerGroup.subscribedTopics(this.#state.topics());
      isSubscribed = (topic) => subscribed.has(topic);
    } else {
      if (group === undefined || group.is("Dead")) return refuse(ErrorCode.GROUP_ID_NOT_FOUND);
      if (!group.isEmpty && group.protocolType !== CONSUMER_PROTOCOL_TYPE)
        return refuse(ErrorCode.NON_EMPTY_GROUP);
      isSubscribed = (topic) => !group.isEmpty && group.isSubscribedToTopic(topic);
    }
    const records: CoordinatorRecord[] = [];
    const deletions: { topic: string; partition: number }[] = [];
    const results: TopicPartitionsResult[] = topics.map((t) => {
      const subscribed = isSubscribed(t.name);
      return {
        name: t.name,
        partitions: t.partitionIndexes.map((p) => {
          if (subscribed) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
          if (this.#state.offsets.get(groupId, t.name, p) !== undefined) {
            records.push(offsetCommitRecord(groupId, t.name, p, null));
            deletions.push({ topic: t.name, partition: p });
          }
          return { partitionIndex: p, errorCode: ErrorCode.NONE };
        }),
      };
    });
    for (const d of deletions) this.#state.offsets.delete(groupId, d.topic, d.partition);
    if (records.length > 0) {
      const failure = await this.#state.append(groupId, records);
      if (failure !== null) return refuse(failure);
    }
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  /**
   * Topics were deleted: their committed offsets go too, in every group (Kafka's
   * onPartitionsDeleted), so a topic created again under the same name starts without them.
   */
  async onTopicsDeleted(topics: readonly string[]): Promise<number> {
    if (topics.length === 0 || this.#state.closed) return 0;
    const deleted = new Set(topics);
    const writes: Promise<number | null>[] = [];
    let removed = 0;
    for (const groupId of [...this.#state.offsets.groups()]) {
      if (!this.#state.isServed(groupId)) continue;
      const records = this.#removeOffsets(groupId, (e) => deleted.has(e.topic));
      removed += records.length;
      if (records.length > 0) writes.push(this.#state.append(groupId, records));
    }
    await Promise.all(writes);
    if (removed > 0) this.#state.logger.info({ topics, removed }, "removed offsets of deleted topics");
    return removed;
  }

  // ---------------------------------------------------------------------------------------------
  // Offset expiration

  #expireOffsetsTask(): void {
    if (this.#state.closed) return;
    // The removal itself is synchronous; only its tombstones are awaited, so the next check can
    // be scheduled now.
    void this.expireOffsets();
    this.startExpiry();
  }

  /**
   * Removes offsets past offsets.retention.minutes (Kafka's rules: for an empty group counted
   * from when it became empty, for a simple group from each commit, for a stable consumer group
   * only topics it no longer subscribes to), then drops empty groups left without offsets.
   */
  async expireOffsets(): Promise<number> {
    if (this.#state.partitionStates.size === 0) return 0;
    const nowMs = this.#state.timer.nowMs();
    const retentionMs = this.#state.config.offsetsRetentionMs;
    // An explicit expiry (OffsetCommit v2-4's retention time) wins; otherwise retention counts
    // from the group's base time for the offset.
    const isExpired = (o: OffsetAndMetadata, baseMs: number) =>
      o.expireTimestampMs >= 0 ? nowMs >= o.expireTimestampMs : nowMs - baseMs >= retentionMs;
    let expired = 0;
    const writes: Promise<number | null>[] = [];
    for (const group of [...this.#state.groups.values()]) {
      if (!this.#state.isServed(group.groupId)) continue;
      const base = this.#expirationBase(group);
      const records =
        base === null
          ? []
          : this.#removeOffsets(
              group.groupId,
              (e) =>
                !(group.is("Stable") && group.isSubscribedToTopic(e.topic)) &&
                isExpired(e.value, base(e.value)),
            );
      expired += records.length;
      if (
        group.isEmpty &&
        group.numPendingJoinMembers === 0 &&
        !this.#state.offsets.hasOffsets(group.groupId)
      ) {
        group.transitionTo("Dead", nowMs);
        this.#state.groups.delete(group.groupId);
        records.push(groupMetadataRecord(group.groupId, null));
      }
      if (records.length > 0) writes.push(this.#state.append(group.groupId, records));
    }
    for (const group of [...this.#state.consumerGroups.values()]) {
      // A KIP-848 group's offsets expire only while it is empty, counted from each commit.
      if (!group.isEmpty || !this.#state.isServed(group.groupId)) continue;
      const records = this.#removeOffsets(group.groupId, (e) =>
        isExpired(e.value, e.value.commitTimestampMs),
      );
      expired += records.length;
      if (!this.#state.offsets.hasOffsets(group.groupId)) {
        records.push(...consumerGroupTombstones(group));
        this.#state.consumerGroups.delete(group.groupId);
      }
      if (records.length > 0) writes.push(this.#state.append(group.groupId, records));
    }
    await Promise.all(writes);
    if (expired > 0) this.#state.logger.info({ expired }, "expired committed offsets");
    return expired;
  }

  /** Removes every offset of the group (DeleteGroups); returns their tombstones. */
  removeGroupOffsets(groupId: string): CoordinatorRecord[] {
    return this.#removeOffsets(groupId, () => true);
  }

  /** Removes the group's offsets that `selected` picks; returns their tombstones. */
  #removeOffsets(
    groupId: string,
    selected: (e: { topic: string; partition: number; value: OffsetAndMetadata }) => boolean,
  ): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [];
    for (const e of this.#state.offsets.entries(groupId)) {
      if (!selected(e)) continue;
      this.#state.offsets.delete(groupId, e.topic, e.partition);
      records.push(offsetCommitRecord(groupId, e.topic, e.partition, null));
    }
    return records;
  }

  #expirationBase(group: ClassicGroup): ((o: OffsetAndMetadata) => number) | null {
    if (group.protocolType === null) return (o) => o.commitTimestampMs;
    if (group.isEmpty) {
      const stateMs = group.currentStateTimestampMs;
      return (o) => stateMs ?? o.commitTimestampMs;
    }
    if (
      group.protocolType === CONSUMER_PROTOCOL_TYPE &&
      group.subscribedTopics !== null &&
      group.is("Stable")
    ) {
      return (o) => o.commitTimestampMs;
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // Transactional offset commits (API for the transaction coordinator, src/server/txn/txn-offsets.ts:
  // TxnOffsetCommit records are written there as transactional batches and become visible here
  // only when their transaction commits).

  /**
   * TxnOffsetCommit member checks (Kafka's validateTransactionalOffsetCommit): none when the
   * request carries no member (v0-2, or a producer without group metadata); otherwise the member
   * and its generation (classic) or epoch (KIP-848, ILLEGAL_GENERATION when stale) must be current.
   */
  validateTxnOffsetCommit(
    groupId: string,
    memberId: string,
    groupInstanceId: string | null,
    generationId: number,
  ): number {
    const gate = this.#state.gate(groupId);
    if (gate !== ErrorCode.NONE) return gate;
    if (groupId === "") return ErrorCode.INVALID_GROUP_ID;
    const unchecked = generationId < 0 && memberId === "" && groupInstanceId === null;
    const consumerGroup = this.#state.consumerGroups.get(groupId);
    if (consumerGroup !== undefined) {
      if (unchecked) return ErrorCode.NONE;
      const member = consumerGroup.members.get(memberId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      return generationId === member.memberEpoch ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    }
    const group = this.#state.groups.get(groupId);
    if (group === undefined) return generationId >= 0 ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    if (unchecked) return ErrorCode.NONE;
    return this.#classic.validateOffsetCommit(group, memberId, groupInstanceId, generationId);
  }

  /** The offsets of a committed transaction become visible (its COMMIT marker is in the log). */
  applyTxnOffsets(
    groupId: string,
    offsets: readonly { topic: string; partition: number; value: OffsetAndMetadata }[],
  ): void {
    if (!this.#state.groups.has(groupId) && !this.#state.consumerGroups.has(groupId)) {
      this.#state.groups.set(groupId, new ClassicGroup(groupId, "Empty", this.#state.timer.nowMs()));
    }
    for (const o of offsets) this.#state.offsets.put(groupId, o.topic, o.partition, o.value);
  }
}

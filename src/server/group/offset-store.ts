/**
 * Committed offsets in memory, by group, topic and partition: the materialized view of the
 * OffsetCommit records of __consumer_offsets. The coordinator changes it only after the records
 * are appended, so a fetch never sees an offset that is not durable.
 *
 * Concurrency: single-threaded, synchronous.
 */

export interface OffsetAndMetadata {
  readonly offset: bigint;
  /** -1 when the committer did not know it. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** Explicit expiry from OffsetCommit v1-v4 retention time; -1 when none. */
  readonly expireTimestampMs: number;
}

export class OffsetStore {
  readonly #byGroup = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();
  /** Offsets held per group, kept with #byGroup (group.max.offsets is checked against it). */
  readonly #countByGroup = new Map<string, number>();

  get(group: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.#byGroup.get(group)?.get(topic)?.get(partition);
  }

  put(group: string, topic: string, partition: number, value: OffsetAndMetadata): void {
    let topics = this.#byGroup.get(group);
    if (topics === undefined) {
      topics = new Map();
      this.#byGroup.set(group, topics);
    }
    let partitions = topics.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      topics.set(topic, partitions);
    }
    if (!partitions.has(partition)) this.#countByGroup.set(group, this.count(group) + 1);
    partitions.set(partition, value);
  }

  delete(group: string, topic: string, partition: number): void {
    const topics = this.#byGroup.get(group);
    const partitions = topics?.get(topic);
    if (topics === undefined || partitions === undefined || !partitions.delete(partition)) return;
    this.#countByGroup.set(group, this.count(group) - 1);
    if (partitions.size === 0) topics.delete(topic);
    if (topics.size === 0) {
      this.#byGroup.delete(group);
      this.#countByGroup.delete(group);
    }
  }

  deleteGroup(group: string): void {
    this.#byGroup.delete(group);
    this.#countByGroup.delete(group);
  }

  /** How many partitions the group has an offset for. */
  count(group: string): number {
    return this.#countByGroup.get(group) ?? 0;
  }

  hasOffsets(group: string): boolean {
    return this.#byGroup.has(group);
  }

  /** Topics with offsets, each with its partitions, in commit order of first appearance. */
  topics(group: string): ReadonlyMap<string, ReadonlyMap<number, OffsetAndMetadata>> {
    return this.#byGroup.get(group) ?? new Map();
  }

  /** Every (topic, partition, offset) of a group, as a snapshot safe to iterate while deleting. */
  entries(group: string): { topic: string; partition: number; value: OffsetAndMetadata }[] {
    const out: { topic: string; partition: number; value: OffsetAndMetadata }[] = [];
    for (const [topic, partitions] of this.topics(group)) {
      for (const [partition, value] of partitions) out.push({ topic, partition, value });
    }
    return out;
  }

  groups(): IterableIterator<string> {
    return this.#byGroup.keys();
  }
}

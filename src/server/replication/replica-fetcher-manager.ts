/**
 * The replica fetchers of this node (Kafka's ReplicaFetcherManager / AbstractFetcherManager): the
 * partition manager hands it the partitions this node follows (`addPartitions`, when the image
 * makes this node a follower or gives its partition a new leader epoch) and takes them back
 * (`removePartitions`, when it becomes leader, stops holding a replica, or the topic goes).
 *
 * Partitions are grouped by source broker (their leader) and, within it, spread over
 * `num.replica.fetchers` fetchers (Kafka's getFetcherId: a hash of topic and partition), so there
 * is one Fetch in flight per fetcher. A fetcher left without partitions stops (Kafka's
 * shutdownIdleFetcherThreads). How a leader is reached is the `endpointFor` dependency: over the
 * wire (`RemoteLeaderEndpoint` to the leader's inter-broker listener from the image) in the broker,
 * in process in the simulation.
 *
 * Concurrency: synchronous bookkeeping on the event loop; fetchers run their own loops (or, with
 * `autoStart` false, are driven by the caller through `fetchers()`).
 */
import type { FollowerPartition, ReplicaFetcherControl } from "../partitions/partition-manager.js";
import type { LeaderEndpoint } from "./leader-endpoint.js";
import { type FetcherDeps, ReplicaFetcher } from "./replica-fetcher.js";

export interface ReplicaFetcherManagerOptions {
  readonly deps: FetcherDeps;
  /** num.replica.fetchers: fetchers per source broker. */
  readonly fetchersPerBroker: number;
  /** A connection to `brokerId`'s inter-broker listener (called once per fetcher). */
  endpointFor(brokerId: number): LeaderEndpoint;
  /** Start each fetcher's loop when it is created (false: the caller drives `doWork`). */
  readonly autoStart: boolean;
}

export class ReplicaFetcherManager implements ReplicaFetcherControl {
  readonly #options: ReplicaFetcherManagerOptions;
  /** `${sourceBrokerId}:${fetcherId}` -> fetcher. */
  readonly #fetchers = new Map<string, ReplicaFetcher>();
  /** Partition key -> the fetcher key it is in. */
  readonly #assigned = new Map<string, string>();
  #closed = false;

  constructor(options: ReplicaFetcherManagerOptions) {
    this.#options = options;
  }

  addPartitions(partitions: readonly FollowerPartition[]): void {
    if (this.#closed) return;
    for (const f of partitions) {
      const fetcherKey = `${f.leaderId}:${fetcherId(f.partition.key, this.#options.fetchersPerBroker)}`;
      const previous = this.#assigned.get(f.partition.key);
      if (previous !== undefined && previous !== fetcherKey) this.#removeFrom(previous, f.partition.key);
      let fetcher = this.#fetchers.get(fetcherKey);
      if (fetcher === undefined) {
        fetcher = new ReplicaFetcher(f.leaderId, this.#options.endpointFor(f.leaderId), this.#options.deps);
        this.#fetchers.set(fetcherKey, fetcher);
        if (this.#options.autoStart) fetcher.start();
      }
      fetcher.addPartition(f.partition, f.topicId, f.leaderEpoch);
      this.#assigned.set(f.partition.key, fetcherKey);
    }
  }

  removePartitions(keys: readonly string[]): void {
    for (const key of keys) {
      const fetcherKey = this.#assigned.get(key);
      if (fetcherKey !== undefined) this.#removeFrom(fetcherKey, key);
    }
  }

  /** The running fetchers (the simulation drives them). */
  fetchers(): ReplicaFetcher[] {
    return [...this.#fetchers.values()];
  }

  /** The fetcher a partition is in, if any. */
  fetcherOf(key: string): ReplicaFetcher | undefined {
    const fetcherKey = this.#assigned.get(key);
    return fetcherKey === undefined ? undefined : this.#fetchers.get(fetcherKey);
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
    const all = [...this.#fetchers.values()];
    this.#fetchers.clear();
    this.#assigned.clear();
    await Promise.all(all.map((f) => f.stop()));
  }

  #removeFrom(fetcherKey: string, key: string): void {
    this.#assigned.delete(key);
    const fetcher = this.#fetchers.get(fetcherKey);
    if (fetcher === undefined) return;
    fetcher.removePartition(key);
    if (fetcher.partitionCount === 0) {
      this.#fetchers.delete(fetcherKey);
      void fetcher.stop();
    }
  }
}

/** Kafka's AbstractFetcherManager.getFetcherId: which of a source broker's fetchers. */
function fetcherId(key: string, fetchersPerBroker: number): number {
  if (fetchersPerBroker <= 1) return 0;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
  return Math.abs(h) % fetchersPerBroker;
}

/**
 * One replica fetcher: the partitions this node follows whose leader is one source broker,
 * fetched with one Fetch at a time (Kafka's AbstractFetcherThread + ReplicaFetcherThread).
 *
 * Per partition it keeps the fetch offset (the local log end), the current leader epoch and the
 * last fetched epoch (the epoch of the log's last batch). Each round (`doWork`) sends one Fetch
 * v17 with ReplicaState (replica id, broker epoch), current leader epoch and last fetched epoch
 * for every partition that is not backing off, then per partition (Kafka's processFetchRequest):
 *
 * - records: appended as they are (`Partition.appendAsFollower`), then the follower's high
 *   watermark = min(leader's, own log end) and the log start follows the leader's;
 * - a diverging epoch (KIP-320): the log is truncated to where it agrees with the leader
 *   (Kafka's getOffsetTruncationState: the end of the largest common epoch, at most the leader's
 *   end offset for it; when this log does not know the leader's epoch, to the end of its own
 *   largest epoch below it, and the next fetch's last fetched epoch continues the search);
 * - OFFSET_OUT_OF_RANGE: the leader's log end (ListOffsets latest) below this log's end truncates
 *   to it (an unclean election); a leader log start above this log's end empties the log and
 *   starts it there (Kafka's fetchOffsetAndTruncate);
 * - FENCED_LEADER_EPOCH for the epoch still current here: the partition stops until the image
 *   brings a new state (the manager adds it again); other errors back off `replica.fetch.backoff.ms`.
 *
 * A response is applied to a partition only if its state is still the one the request was built
 * from (same fetch offset and leader epoch): a partition removed, re-added or truncated while the
 * fetch was in flight is left alone. Fetch sessions are not used (sessionless fetches, as
 * `fetch sessions optional` allows).
 *
 * Determinism: nothing here reads the clock or sets timers except through `FetcherDeps`; a
 * simulation calls `doWork` itself, and the production loop (`start`) runs it with the injected
 * sleep between rounds that had nothing to do.
 *
 * Concurrency: one `doWork` at a time (the loop awaits each); its synchronous parts (building the
 * request, applying the response) never interleave with other code on the partition.
 */
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { FetchRequest, FetchRequestFetchTopic } from "../../protocol/generated/fetch-request.js";
import type { FetchResponse, FetchResponsePartitionData } from "../../protocol/generated/fetch-response.js";
import type { Partition } from "../partitions/partition.js";
import type { LeaderEndpoint } from "./leader-endpoint.js";

/** replica.fetch.* and related settings (Kafka's defaults in `DEFAULT_FETCHER_CONFIG`). */
export interface FetcherConfig {
  /** replica.fetch.wait.max.ms */
  readonly waitMaxMs: number;
  /** replica.fetch.min.bytes */
  readonly minBytes: number;
  /** replica.fetch.max.bytes (per partition) */
  readonly partitionMaxBytes: number;
  /** replica.fetch.response.max.bytes */
  readonly responseMaxBytes: number;
  /** replica.fetch.backoff.ms: after an error, the partition (or the whole fetcher) waits. */
  readonly backoffMs: number;
}

export const DEFAULT_FETCHER_CONFIG: FetcherConfig = {
  waitMaxMs: 500,
  minBytes: 1,
  partitionMaxBytes: 1_048_576,
  responseMaxBytes: 10_485_760,
  backoffMs: 1_000,
};

export interface FetcherDeps {
  readonly localBrokerId: number;
  /** This node's broker epoch (-1n before registration). */
  localBrokerEpoch(): bigint;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: FetcherConfig;
  /** Waits `ms` (the production loop's backoff); resolves early when `wake` is called. */
  sleep(ms: number, wake: { onWake?: () => void }): Promise<void>;
}

/** What the fetcher keeps per partition (Kafka's PartitionFetchState). */
export interface PartitionFetchState {
  readonly partition: Partition;
  readonly topicId: string;
  fetchOffset: number;
  readonly currentLeaderEpoch: number;
  /** The epoch of the last batch in the log (-1: none, then no divergence check). */
  lastFetchedEpoch: number;
  /** Not fetched before this time (backoff after an error). */
  delayedUntilMs: number;
  /** OFFSET_OUT_OF_RANGE: the next round asks the leader for its offsets first. */
  outOfRange: boolean;
}

/** What happened to a partition in a round, for tests and the simulation's trace. */
export type FetchEvent =
  | { kind: "appended"; key: string; firstOffset: number; lastOffset: number }
  | { kind: "truncated"; key: string; offset: number; reason: string }
  | { kind: "error"; key: string; errorCode: number }
  | { kind: "failed"; key: string; reason: string };

/** Bound on `ReplicaFetcher.events`. */
const EVENTS_KEPT = 256;

export class ReplicaFetcher {
  readonly sourceBrokerId: number;
  readonly #endpoint: LeaderEndpoint;
  readonly #deps: FetcherDeps;
  /** In fetch order; a partition that returned data moves to the end, so others get their turn. */
  readonly #states = new Map<string, PartitionFetchState>();
  #running = false;
  #stopped = false;
  #wake: { onWake?: () => void } = {};
  #loop: Promise<void> | undefined;
  /** The latest events (at most EVENTS_KEPT), for tests and the simulation's trace. */
  readonly events: FetchEvent[] = [];

  constructor(sourceBrokerId: number, endpoint: LeaderEndpoint, deps: FetcherDeps) {
    this.sourceBrokerId = sourceBrokerId;
    this.#endpoint = endpoint;
    this.#deps = deps;
  }

  get partitionCount(): number {
    return this.#states.size;
  }

  state(key: string): PartitionFetchState | undefined {
    return this.#states.get(key);
  }

  /**
   * Starts (or keeps) fetching a partition at the given leader epoch from its log end (Kafka's
   * addPartitions: with truncation on fetch, a log with an epoch starts fetching at once and
   * lets the leader's diverging epoch say where to truncate). A partition already fetched at the
   * same leader epoch keeps its state.
   */
  addPartition(partition: Partition, topicId: string, leaderEpoch: number): void {
    const current = this.#states.get(partition.key);
    if (
      current !== undefined &&
      current.currentLeaderEpoch === leaderEpoch &&
      current.partition === partition
    ) {
      return;
    }
    this.#states.delete(partition.key);
    this.#states.set(partition.key, {
      partition,
      topicId,
      fetchOffset: partition.logEndOffset,
      currentLeaderEpoch: leaderEpoch,
      lastFetchedEpoch: partition.latestEpoch,
      delayedUntilMs: 0,
      outOfRange: false,
    });
    this.#wake.onWake?.();
  }

  removePartition(key: string): boolean {
    return this.#states.delete(key);
  }

  /** The production loop: rounds until `stop`, sleeping when there was nothing to fetch. */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#loop = (async () => {
      while (!this.#stopped) {
        let idleMs = 0;
        try {
          idleMs = await this.doWork();
        } catch (err) {
          this.#deps.logger.warn({ err, source: this.sourceBrokerId }, "replica fetcher round failed");
          idleMs = this.#deps.config.backoffMs;
        }
        if (idleMs > 0 && !this.#stopped) {
          this.#wake = {};
          await this.#deps.sleep(idleMs, this.#wake);
        }
      }
    })();
  }

  /** Stops the loop (a fetch in flight is answered and ignored) and closes the connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.onWake?.();
    this.#endpoint.close();
    await this.#loop;
  }

  /**
   * One round: resolve out-of-range partitions, then one Fetch for the ready partitions, applied
   * as the response says. Returns how long to wait before the next round (0: go on at once).
   */
  async doWork(): Promise<number> {
    for (const state of [...this.#states.values()]) {
      if (state.outOfRange && this.#states.get(state.partition.key) === state)
        await this.#resetOutOfRange(state);
    }
    const nowMs = this.#deps.clock.nowMs();
    const built = this.buildFetchRequest(nowMs);
    if (built === undefined) {
      let next = Number.POSITIVE_INFINITY;
      for (const s of this.#states.values()) next = Math.min(next, s.delayedUntilMs - nowMs);
      return Number.isFinite(next) ? Math.max(1, next) : this.#deps.config.backoffMs;
    }
    let response: FetchResponse;
    try {
      response = await this.#endpoint.fetch(built.request);
    } catch (err) {
      if (this.#stopped) return 0;
      this.#deps.logger.warn({ err, source: this.sourceBrokerId }, "replica fetch failed");
      this.#delay(built.sent.keys(), this.#deps.clock.nowMs());
      return this.#deps.config.backoffMs;
    }
    if (this.#stopped) return 0;
    this.processFetchResponse(built.sent, response);
    return 0;
  }

  /**
   * The Fetch for every partition that is ready, and the state each was built from (to check
   * the response against). Undefined when none is ready.
   */
  buildFetchRequest(
    nowMs: number,
  ):
    | { request: FetchRequest; sent: Map<string, { state: PartitionFetchState; fetchOffset: number }> }
    | undefined {
    const topics = new Map<string, FetchRequestFetchTopic>();
    const sent = new Map<string, { state: PartitionFetchState; fetchOffset: number }>();
    for (const [key, state] of this.#states) {
      if (state.delayedUntilMs > nowMs || state.outOfRange) continue;
      let topic = topics.get(state.topicId);
      if (topic === undefined) {
        topic = { topic: state.partition.topic, topicId: state.topicId, partitions: [] };
        topics.set(state.topicId, topic);
      }
      topic.partitions.push({
        partition: state.partition.partitionId,
        currentLeaderEpoch: state.currentLeaderEpoch,
        fetchOffset: BigInt(state.fetchOffset),
        lastFetchedEpoch: state.lastFetchedEpoch,
        logStartOffset: BigInt(state.partition.logStartOffset),
        partitionMaxBytes: this.#deps.config.partitionMaxBytes,
        replicaDirectoryId: "AAAAAAAAAAAAAAAAAAAAAA",
        highWatermark: -1n,
      });
      sent.set(key, { state, fetchOffset: state.fetchOffset });
    }
    if (sent.size === 0) return undefined;
    const config = this.#deps.config;
    const request: FetchRequest = {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: this.#deps.localBrokerId, replicaEpoch: this.#deps.localBrokerEpoch() },
      maxWaitMs: config.waitMaxMs,
      minBytes: config.minBytes,
      maxBytes: config.responseMaxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
      forgottenTopicsData: [],
      rackId: "",
    };
    return { request, sent };
  }

  /** Applies a Fetch response (Kafka's processFetchRequest). */
  processFetchResponse(
    sent: ReadonlyMap<string, { state: PartitionFetchState; fetchOffset: number }>,
    response: FetchResponse,
  ): void {
    const nowMs = this.#deps.clock.nowMs();
    if (response.errorCode !== ErrorCode.NONE) {
      this.#note({ kind: "error", key: "*", errorCode: response.errorCode });
      this.#delay(sent.keys(), nowMs);
      return;
    }
    const byTopicId = new Map<string, string>();
    for (const { state } of sent.values()) byTopicId.set(state.topicId, state.partition.topic);
    for (const topic of response.responses) {
      const name = byTopicId.get(topic.topicId) ?? topic.topic;
      for (const data of topic.partitions) {
        const key = `${name}-${data.partitionIndex}`;
        const request = sent.get(key);
        const state = this.#states.get(key);
        // Removed, re-added, or moved (truncated) while the fetch was in flight: not ours.
        if (request === undefined || state !== request.state || state.fetchOffset !== request.fetchOffset)
          continue;
        this.#processPartition(key, state, data, nowMs);
      }
    }
  }

  #processPartition(
    key: string,
    state: PartitionFetchState,
    data: FetchResponsePartitionData,
    nowMs: number,
  ): void {
    const partition = state.partition;
    switch (data.errorCode) {
      case ErrorCode.NONE: {
        if (data.divergingEpoch.epoch >= 0 || data.divergingEpoch.endOffset >= 0n) {
          this.#truncateOnDivergence(
            key,
            state,
            data.divergingEpoch.epoch,
            Number(data.divergingEpoch.endOffset),
          );
          return;
        }
        if (state.fetchOffset !== partition.logEndOffset) {
          // The log moved under the fetcher (it should not): start again from its end.
          state.fetchOffset = partition.logEndOffset;
          state.lastFetchedEpoch = partition.latestEpoch;
          return;
        }
        const records = data.records;
        if (records !== null && records.length > 0) {
          const appended = partition.appendAsFollower(records);
          if (appended.kind === "error") {
            this.#note({ kind: "error", key, errorCode: appended.errorCode });
            if (appended.errorCode === ErrorCode.KAFKA_STORAGE_ERROR) this.#fail(key, appended.errorMessage);
            else state.delayedUntilMs = nowMs + this.#deps.config.backoffMs;
            return;
          }
          if (appended.kind === "appended") {
            state.fetchOffset = appended.lastOffset + 1;
            if (appended.lastLeaderEpoch >= 0) state.lastFetchedEpoch = appended.lastLeaderEpoch;
            this.#note({
              kind: "appended",
              key,
              firstOffset: appended.firstOffset,
              lastOffset: appended.lastOffset,
            });
            // Others get their turn first next time.
            this.#states.delete(key);
            this.#states.set(key, state);
          }
        }
        partition.updateFollowerHighWatermark(Number(data.highWatermark));
        partition.followLeaderLogStartOffset(Number(data.logStartOffset));
        return;
      }
      case ErrorCode.OFFSET_OUT_OF_RANGE:
        state.outOfRange = true;
        return;
      case ErrorCode.FENCED_LEADER_EPOCH:
        // The leader has a newer epoch than ours: wait for the image to bring it (Kafka's
        // onPartitionFenced); the manager adds the partition again at the new epoch.
        this.#note({ kind: "error", key, errorCode: data.errorCode });
        this.#fail(key, "fenced leader epoch");
        return;
      default:
        // UNKNOWN_LEADER_EPOCH (the leader has not seen our epoch yet), NOT_LEADER_OR_FOLLOWER,
        // UNKNOWN_TOPIC_OR_PARTITION / ID while metadata settles, storage errors: retry later.
        this.#note({ kind: "error", key, errorCode: data.errorCode });
        state.delayedUntilMs = nowMs + this.#deps.config.backoffMs;
        return;
    }
  }

  /**
   * Kafka's AbstractFetcherThread.getOffsetTruncationState for a diverging epoch from the leader
   * (`leaderEpoch`, `leaderEndOffset`): where this log stops agreeing with the leader's.
   */
  #truncateOnDivergence(
    key: string,
    state: PartitionFetchState,
    leaderEpoch: number,
    leaderEndOffset: number,
  ): void {
    const partition = state.partition;
    const logEnd = partition.logEndOffset;
    let offset: number;
    if (leaderEndOffset < 0) {
      offset = Math.min(partition.highWatermark, logEnd);
    } else {
      const local = partition.endOffsetForEpoch(leaderEpoch);
      if (local.epoch < 0 || local.endOffset < 0) {
        // This log knows no epoch at or below the leader's: take the leader's offset.
        offset = Math.min(leaderEndOffset, logEnd);
      } else if (local.epoch !== leaderEpoch) {
        // This log does not know the leader's epoch: cut to the end of our largest epoch below it
        // and let the next fetch (with that epoch) continue the search (KIP-279).
        offset = Math.min(local.endOffset, logEnd);
      } else {
        offset = Math.min(local.endOffset, leaderEndOffset, logEnd);
      }
    }
    partition.truncateTo(offset);
    state.fetchOffset = partition.logEndOffset;
    state.lastFetchedEpoch = partition.latestEpoch;
    this.#note({ kind: "truncated", key, offset: partition.logEndOffset, reason: "diverging epoch" });
  }

  /** Kafka's fetchOffsetAndTruncate after OFFSET_OUT_OF_RANGE. */
  async #resetOutOfRange(state: PartitionFetchState): Promise<void> {
    const partition = state.partition;
    const key = partition.key;
    const self = this.#deps.localBrokerId;
    const retryLater = (errorCode: number) => {
      this.#note({ kind: "error", key, errorCode });
      state.delayedUntilMs = this.#deps.clock.nowMs() + this.#deps.config.backoffMs;
    };
    let latest: Awaited<ReturnType<LeaderEndpoint["fetchLatestOffset"]>>;
    try {
      latest = await this.#endpoint.fetchLatestOffset(
        partition.topic,
        partition.partitionId,
        state.currentLeaderEpoch,
        self,
      );
    } catch {
      retryLater(ErrorCode.NETWORK_EXCEPTION);
      return;
    }
    if (this.#states.get(key) !== state) return;
    if ("errorCode" in latest) {
      if (latest.errorCode === ErrorCode.FENCED_LEADER_EPOCH) this.#fail(key, "fenced leader epoch");
      else retryLater(latest.errorCode);
      return;
    }
    if (latest.offset < partition.logEndOffset) {
      // The leader's log is shorter than ours (an unclean election): cut ours to it.
      partition.truncateTo(latest.offset);
      this.#note({ kind: "truncated", key, offset: partition.logEndOffset, reason: "leader end below ours" });
    } else {
      let earliest: Awaited<ReturnType<LeaderEndpoint["fetchEarliestOffset"]>>;
      try {
        earliest = await this.#endpoint.fetchEarliestOffset(
          partition.topic,
          partition.partitionId,
          state.currentLeaderEpoch,
          self,
        );
      } catch {
        retryLater(ErrorCode.NETWORK_EXCEPTION);
        return;
      }
      if (this.#states.get(key) !== state) return;
      if ("errorCode" in earliest) {
        retryLater(earliest.errorCode);
        return;
      }
      if (earliest.offset > partition.logEndOffset) {
        // Everything we have is below the leader's log start: start over there.
        partition.truncateFullyAndStartAt(earliest.offset);
        this.#note({ kind: "truncated", key, offset: earliest.offset, reason: "below leader log start" });
      }
    }
    state.fetchOffset = partition.logEndOffset;
    state.lastFetchedEpoch = partition.latestEpoch;
    state.outOfRange = false;
  }

  #note(event: FetchEvent): void {
    this.events.push(event);
    if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT);
  }

  #delay(keys: Iterable<string>, nowMs: number): void {
    for (const key of keys) {
      const state = this.#states.get(key);
      if (state !== undefined) state.delayedUntilMs = nowMs + this.#deps.config.backoffMs;
    }
  }

  #fail(key: string, reason: string): void {
    this.#states.delete(key);
    this.#note({ kind: "failed", key, reason });
    this.#deps.logger.warn(
      { partition: key, source: this.sourceBrokerId, reason },
      "replica fetching stopped",
    );
  }
}

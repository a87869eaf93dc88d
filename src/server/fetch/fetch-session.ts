/**
 * Incremental fetch sessions (KIP-227), as Kafka's FetchSession.scala: a consumer that fetches the
 * same partitions again and again sends only what changed, and the broker answers only with the
 * partitions that have something new.
 *
 * Request (sessionId, sessionEpoch) and what happens:
 * - (0, -1)    full fetch, no session (sessionless); the response's session id is 0.
 * - (0, 0)     full fetch that opens a session if the cache has room; its id is in the response.
 * - (id, -1)   closes session `id`, then a sessionless full fetch.
 * - (id, 0)    closes session `id`, then a full fetch that opens a new session.
 * - (id, n>0)  incremental: unknown id is FETCH_SESSION_ID_NOT_FOUND; n not the session's epoch is
 *              INVALID_FETCH_SESSION_EPOCH; else the request's partitions are added or updated,
 *              its forgotten partitions removed, and the epoch advances. The response carries a
 *              partition only if it has records, an error, or a changed high watermark, last
 *              stable offset or log start offset. A partition that returned records moves to the
 *              end of the session's order so others are not starved of the response budget.
 * - A session opened with topic ids (Fetch v13+) cannot continue with names or the reverse:
 *   FETCH_SESSION_TOPIC_ID_ERROR.
 *
 * The cache is bounded (`max.incremental.fetch.session.cache.slots`). A new session takes a slot
 * from a session unused for `evictionMs` first; otherwise from the weakest session (unprivileged
 * before follower, then fewest partitions, then least recently used) if the new one is stronger;
 * otherwise the fetch is served without a session (id 0), which the client handles.
 *
 * Concurrency: synchronous; a context is created and completed by one Fetch request. The clock and
 * the random source for session ids are injected.
 */
import type { Clock } from "../../clock.js";
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import { type Random, randomInt } from "../../random.js";

export const INVALID_SESSION_ID = 0;
export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

export interface SessionPartitionKey {
  /** Topic id (v13+) or the zero uuid. */
  readonly topicId: string;
  /** Topic name (up to v12), or "" until resolved from the id. */
  readonly topic: string;
  readonly partition: number;
}

/** What a fetch asks of one partition. */
export interface PartitionFetch extends SessionPartitionKey {
  readonly fetchOffset: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
  readonly lastFetchedEpoch: number;
  readonly logStartOffset: number;
}

/** What the response says of one partition, as far as the session needs to know. */
export interface PartitionOutcome {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  readonly recordsBytes: number;
  /** A diverging epoch or a preferred read replica: always sent. */
  readonly mustRespond?: boolean;
}

interface CachedPartition {
  fetch: PartitionFetch;
  /** Last values sent to the client; -1 (or NaN) until first sent. */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

interface FetchSession {
  readonly id: number;
  readonly privileged: boolean;
  readonly usesTopicIds: boolean;
  epoch: number;
  lastUsedMs: number;
  /** Iteration order is response order. */
  readonly partitions: Map<string, CachedPartition>;
}

export function partitionKey(usesTopicIds: boolean, p: SessionPartitionKey): string {
  return usesTopicIds ? `${p.topicId}:${p.partition}` : `${p.topic}:${p.partition}`;
}

export function nextEpoch(epoch: number): number {
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

export interface FetchSessionCacheOptions {
  /** max.incremental.fetch.session.cache.slots (Kafka default 1000). */
  slotsMax: number;
  /** A session unused this long may be evicted for a new one (Kafka: 120000). */
  evictionMs: number;
  clock: Clock;
  /** Draws session ids. */
  random: Random;
}

export interface FetchSessionRequest {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly usesTopicIds: boolean;
  /** Follower fetches (replicaId >= 0) win slots over consumers. */
  readonly privileged: boolean;
  readonly partitions: readonly PartitionFetch[];
  readonly forgotten: readonly SessionPartitionKey[];
}

/** The result of completing a context: the session id to send and which partitions to send. */
export interface SessionResponsePlan {
  readonly sessionId: number;
  /** Indexes into `FetchContext.partitions`, in response order. */
  readonly included: readonly number[];
}

export interface FetchContext {
  /** Top-level error (the response then has no partitions and session id 0). */
  readonly errorCode: number;
  /** Partitions to read, in response order. */
  readonly partitions: readonly PartitionFetch[];
  /** Call once, with one outcome per entry of `partitions`. */
  complete(outcomes: readonly PartitionOutcome[]): SessionResponsePlan;
}

const ERROR_CONTEXT = (errorCode: number): FetchContext => ({
  errorCode,
  partitions: [],
  complete: () => ({ sessionId: INVALID_SESSION_ID, included: [] }),
});

export class FetchSessionCache {
  readonly #options: FetchSessionCacheOptions;
  readonly #sessions = new Map<number, FetchSession>();
  #evictions = 0;

  constructor(options: FetchSessionCacheOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** Partition count of a session, for tests and metrics; undefined if there is none. */
  sessionPartitions(id: number): number | undefined {
    return this.#sessions.get(id)?.partitions.size;
  }

  remove(id: number): boolean {
    return this.#sessions.delete(id);
  }

  newContext(request: FetchSessionRequest): FetchContext {
    const { sessionId, sessionEpoch } = request;
    const isFull = sessionEpoch === INITIAL_EPOCH || sessionEpoch === FINAL_EPOCH;
    if (isFull) {
      if (sessionId !== INVALID_SESSION_ID) this.#sessions.delete(sessionId);
      if (sessionEpoch === FINAL_EPOCH) return this.#sessionless(request);
      return this.#full(request);
    }
    if (sessionEpoch < 0) return ERROR_CONTEXT(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return ERROR_CONTEXT(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    if (session.epoch !== sessionEpoch) return ERROR_CONTEXT(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    if (session.usesTopicIds !== request.usesTopicIds)
      return ERROR_CONTEXT(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    return this.#incremental(session, request);
  }

  #sessionless(request: FetchSessionRequest): FetchContext {
    return {
      errorCode: ErrorCode.NONE,
      partitions: request.partitions,
      complete: () => ({ sessionId: INVALID_SESSION_ID, included: request.partitions.map((_, i) => i) }),
    };
  }

  #full(request: FetchSessionRequest): FetchContext {
    const partitions = request.partitions;
    return {
      errorCode: ErrorCode.NONE,
      partitions,
      complete: (outcomes) => {
        const included = partitions.map((_, i) => i);
        const cached = new Map<string, CachedPartition>();
        partitions.forEach((fetch, i) => {
          const o = outcomes[i];
          cached.set(partitionKey(request.usesTopicIds, fetch), {
            fetch,
            highWatermark: o?.highWatermark ?? -1,
            lastStableOffset: o?.lastStableOffset ?? -1,
            logStartOffset: o?.logStartOffset ?? -1,
          });
        });
        const id = this.#maybeCreate(request.privileged, request.usesTopicIds, cached);
        return { sessionId: id, included };
      },
    };
  }

  #incremental(session: FetchSession, request: FetchSessionRequest): FetchContext {
    for (const key of request.forgotten) session.partitions.delete(partitionKey(session.usesTopicIds, key));
    for (const fetch of request.partitions) {
      const key = partitionKey(session.usesTopicIds, fetch);
      const existing = session.partitions.get(key);
      if (existing === undefined) {
        session.partitions.set(key, { fetch, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1 });
      } else {
        existing.fetch = fetch;
      }
    }
    session.epoch = nextEpoch(session.epoch);
    session.lastUsedMs = this.#options.clock.nowMs();
    const entries = [...session.partitions.entries()];
    return {
      errorCode: ErrorCode.NONE,
      partitions: entries.map(([, c]) => c.fetch),
      complete: (outcomes) => {
        const included: number[] = [];
        entries.forEach(([key, cached], i) => {
          const o = outcomes[i];
          if (o === undefined) return;
          const changed =
            o.recordsBytes > 0 ||
            o.errorCode !== ErrorCode.NONE ||
            o.mustRespond === true ||
            o.highWatermark !== cached.highWatermark ||
            o.lastStableOffset !== cached.lastStableOffset ||
            (o.logStartOffset !== -1 && o.logStartOffset !== cached.logStartOffset);
          if (!changed) return;
          included.push(i);
          cached.highWatermark = o.highWatermark;
          cached.lastStableOffset = o.lastStableOffset;
          if (o.logStartOffset !== -1) cached.logStartOffset = o.logStartOffset;
          if (o.recordsBytes > 0 && session.partitions.has(key)) {
            session.partitions.delete(key);
            session.partitions.set(key, cached);
          }
        });
        return { sessionId: session.id, included };
      },
    };
  }

  #maybeCreate(privileged: boolean, usesTopicIds: boolean, partitions: Map<string, CachedPartition>): number {
    const nowMs = this.#options.clock.nowMs();
    if (
      this.#sessions.size >= this.#options.slotsMax &&
      !this.#tryEvict(privileged, partitions.size, nowMs)
    ) {
      return INVALID_SESSION_ID;
    }
    const id = this.#newSessionId();
    this.#sessions.set(id, {
      id,
      privileged,
      usesTopicIds,
      epoch: nextEpoch(INITIAL_EPOCH),
      lastUsedMs: nowMs,
      partitions,
    });
    return id;
  }

  #tryEvict(privileged: boolean, size: number, nowMs: number): boolean {
    let stale: FetchSession | undefined;
    let weakest: FetchSession | undefined;
    for (const s of this.#sessions.values()) {
      if (
        nowMs - s.lastUsedMs > this.#options.evictionMs &&
        (stale === undefined || s.lastUsedMs < stale.lastUsedMs)
      ) {
        stale = s;
      }
      if (weakest === undefined || compareStrength(s, weakest) < 0) weakest = s;
    }
    // Without a stale session, only a strictly stronger newcomer (follower over consumer, or more
    // partitions) takes a slot, so equal sessions do not evict each other in turn.
    const stronger =
      weakest !== undefined &&
      (privileged !== weakest.privileged ? privileged : size > weakest.partitions.size);
    const victim = stale ?? (stronger ? weakest : undefined);
    if (victim === undefined) return false;
    this.#sessions.delete(victim.id);
    this.#evictions++;
    return true;
  }

  #newSessionId(): number {
    // Ids are random positive int32s so a stale client cannot guess a live session by counting.
    for (;;) {
      const id = 1 + randomInt(this.#options.random, 0x7ffffffe);
      if (!this.#sessions.has(id)) return id;
    }
  }
}

type Strength = Pick<FetchSession, "privileged" | "lastUsedMs"> & { partitions: { size: number } };

/** Negative when `a` is weaker than `b` (evicted first). */
function compareStrength(a: Strength, b: Strength): number {
  if (a.privileged !== b.privileged) return a.privileged ? 1 : -1;
  if (a.partitions.size !== b.partitions.size) return a.partitions.size - b.partitions.size;
  return a.lastUsedMs - b.lastUsedMs;
}

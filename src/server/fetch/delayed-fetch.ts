/**
 * Long polling for Fetch (Kafka's DelayedFetch in the fetch purgatory): a fetch that found fewer
 * than `min_bytes` waits until appends to its partitions bring enough new bytes, something
 * happens to one of them (truncation, deletion, a new leader epoch, the log start moving), or
 * `max_wait_ms` passes. Appends wake waiters directly through `onAppend`: nothing polls the log.
 * The only timer per waiter is its deadline.
 *
 * A waiter counts the bytes appended after it started; the caller passes how many more bytes it
 * needs (min_bytes minus what its first read found). When it completes, the caller reads again
 * and answers with whatever is there, as Kafka does.
 *
 * Bounded: at most `waitersMax` fetches wait at once; beyond that a fetch is answered at once
 * (with what it found), which is legal for a Fetch and keeps memory and timers bounded.
 *
 * Concurrency: synchronous bookkeeping on the event loop; `wait` returns a promise that the
 * append path, a partition event, the deadline timer or `shutdown` resolves exactly once.
 */

export type WakeReason = "bytes" | "timeout" | "event" | "shutdown" | "overloaded";

/**
 * Which appended bytes a waiter counts (Kafka's FetchIsolation): a follower's fetch reads to the
 * log end, a consumer's to the high watermark, a read_committed one to the last stable offset.
 */
export type FetchIsolation = "logEnd" | "highWatermark" | "committed";

interface Waiter {
  readonly keys: readonly string[];
  readonly isolation: FetchIsolation;
  bytesNeeded: number;
  timer: NodeJS.Timeout | undefined;
  resolve: (reason: WakeReason) => void;
  done: boolean;
}

export interface DelayedFetchOptions {
  /** Bound on fetches waiting at once. */
  waitersMax: number;
}

export class DelayedFetchPurgatory {
  readonly #byKey = new Map<string, Set<Waiter>>();
  readonly #options: DelayedFetchOptions;
  #waiting = 0;
  #closed = false;

  constructor(options: DelayedFetchOptions = { waitersMax: 10_000 }) {
    this.#options = options;
  }

  /** Fetches currently waiting. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Waits until `bytesNeeded` more bytes are appended to the partitions named by `keys`, an event
   * on one of them, or `maxWaitMs`. Resolves at once when there is nothing to wait for. A
   * consumer's waiter counts only bytes below the high watermark, a read_committed one only
   * bytes that became stable (see `onAppend`).
   */
  wait(
    keys: readonly string[],
    bytesNeeded: number,
    maxWaitMs: number,
    readCommitted = false,
    isolation: FetchIsolation = readCommitted ? "committed" : "highWatermark",
  ): Promise<WakeReason> {
    if (this.#closed) return Promise.resolve("shutdown");
    if (bytesNeeded <= 0) return Promise.resolve("bytes");
    if (maxWaitMs <= 0 || keys.length === 0) return Promise.resolve("timeout");
    if (this.#waiting >= this.#options.waitersMax) return Promise.resolve("overloaded");
    return new Promise<WakeReason>((resolve) => {
      const waiter: Waiter = { keys, isolation, bytesNeeded, timer: undefined, resolve, done: false };
      for (const key of keys) {
        let set = this.#byKey.get(key);
        if (set === undefined) {
          set = new Set();
          this.#byKey.set(key, set);
        }
        set.add(waiter);
      }
      this.#waiting++;
      waiter.timer = setTimeout(() => this.#complete(waiter, "timeout"), maxWaitMs);
    });
  }

  /**
   * `bytes` were appended to partition `key` (all count for followers' fetches), of which
   * `visibleBytes` (default: all) are below the high watermark now and `stableBytes` (default:
   * all) readable by read_committed consumers: appends inside an open transaction or above the
   * high watermark add none, and a move of the high watermark or last stable offset past earlier
   * data passes Infinity (its waiters re-read).
   */
  onAppend(key: string, bytes: number, stableBytes: number = bytes, visibleBytes: number = bytes): void {
    const set = this.#byKey.get(key);
    if (set === undefined) return;
    for (const waiter of [...set]) {
      waiter.bytesNeeded -=
        waiter.isolation === "logEnd" ? bytes : waiter.isolation === "committed" ? stableBytes : visibleBytes;
      if (waiter.bytesNeeded <= 0) this.#complete(waiter, "bytes");
    }
  }

  /** Something other than an append changed partition `key`: its waiters answer now. */
  onPartitionEvent(key: string): void {
    const set = this.#byKey.get(key);
    if (set === undefined) return;
    for (const waiter of [...set]) this.#complete(waiter, "event");
  }

  /** Answers every waiting fetch and refuses new waits (broker shutdown). */
  shutdown(): void {
    this.#closed = true;
    const all = new Set<Waiter>();
    for (const set of this.#byKey.values()) for (const w of set) all.add(w);
    for (const w of all) this.#complete(w, "shutdown");
  }

  #complete(waiter: Waiter, reason: WakeReason): void {
    if (waiter.done) return;
    waiter.done = true;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    for (const key of waiter.keys) {
      const set = this.#byKey.get(key);
      if (set === undefined) continue;
      set.delete(waiter);
      if (set.size === 0) this.#byKey.delete(key);
    }
    this.#waiting--;
    waiter.resolve(reason);
  }
}

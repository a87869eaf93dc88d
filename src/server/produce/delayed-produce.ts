/**
 * Produces waiting for acks=all (Kafka's DelayedProduce in the produce purgatory): after the
 * leader's append, a partition's answer waits until its high watermark covers the batch
 * (`Partition.checkEnoughReplicasReachOffset`: then NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND if
 * the ISR shrank below min.insync.replicas meanwhile), the partition stops being led here
 * (NOT_LEADER_OR_FOLLOWER), or the request's timeout passes (REQUEST_TIMED_OUT). Nothing polls:
 * the partition manager calls `check(key)` when a partition's high watermark moves or its state
 * changes, and the deadline is a timer.
 *
 * Bounded: at most `waitersMax` partitions wait at once; beyond that a partition is answered at
 * once with REQUEST_TIMED_OUT (the producer retries; an idempotent retry is deduplicated).
 *
 * Concurrency: synchronous bookkeeping on the event loop; each wait resolves exactly once.
 */
import { ErrorCode } from "../../protocol/generated/error-codes.js";
import type { Timer } from "../group/timer.js";
import type { Partition } from "../partitions/partition.js";

interface Waiter {
  readonly id: number;
  readonly partition: Partition;
  readonly requiredOffset: number;
  readonly resolve: (errorCode: number) => void;
}

export interface DelayedProduceOptions {
  /** Bound on partitions waiting at once. */
  waitersMax: number;
  /** Deadlines (the manager's timer, so a simulation drives them). */
  timer: Timer;
}

export class DelayedProducePurgatory {
  readonly #byKey = new Map<string, Map<number, Waiter>>();
  readonly #options: DelayedProduceOptions;
  #waiting = 0;
  #nextId = 0;
  #closed = false;

  constructor(options: DelayedProduceOptions) {
    this.#options = options;
  }

  /** Partitions currently waiting. */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Resolves with the partition's error code once its high watermark reaches `requiredOffset`
   * (the appended batch's last offset + 1), it stops leading, or `timeoutMs` passes.
   */
  wait(partition: Partition, requiredOffset: number, timeoutMs: number): Promise<number> {
    const now = partition.checkEnoughReplicasReachOffset(requiredOffset);
    if (now.done) return Promise.resolve(now.errorCode);
    if (this.#closed || timeoutMs <= 0 || this.#waiting >= this.#options.waitersMax) {
      return Promise.resolve(ErrorCode.REQUEST_TIMED_OUT);
    }
    return new Promise<number>((resolve) => {
      const id = this.#nextId++;
      const waiter: Waiter = { id, partition, requiredOffset, resolve };
      let set = this.#byKey.get(partition.key);
      if (set === undefined) {
        set = new Map();
        this.#byKey.set(partition.key, set);
      }
      set.set(id, waiter);
      this.#waiting++;
      this.#options.timer.schedule(timerKey(id), timeoutMs, () =>
        this.#complete(waiter, ErrorCode.REQUEST_TIMED_OUT),
      );
    });
  }

  /** The high watermark or the state of partition `key` changed: its waiters re-check. */
  check(key: string): void {
    const set = this.#byKey.get(key);
    if (set === undefined) return;
    for (const waiter of [...set.values()]) {
      const result = waiter.partition.checkEnoughReplicasReachOffset(waiter.requiredOffset);
      if (result.done) this.#complete(waiter, result.errorCode);
    }
  }

  /** Answers every waiter (REQUEST_TIMED_OUT: not known to be replicated) and refuses new waits. */
  shutdown(): void {
    this.#closed = true;
    for (const set of [...this.#byKey.values()]) {
      for (const waiter of [...set.values()]) this.#complete(waiter, ErrorCode.REQUEST_TIMED_OUT);
    }
  }

  #complete(waiter: Waiter, errorCode: number): void {
    const set = this.#byKey.get(waiter.partition.key);
    if (set === undefined || !set.delete(waiter.id)) return;
    if (set.size === 0) this.#byKey.delete(waiter.partition.key);
    this.#options.timer.cancel(timerKey(waiter.id));
    this.#waiting--;
    waiter.resolve(errorCode);
  }
}

function timerKey(id: number): string {
  return `delayed-produce-${id}`;
}

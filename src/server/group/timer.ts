/**
 * Time for the group coordinator, injected so tests drive it. A `Timer` holds keyed one-shot
 * tasks: scheduling under a key that is already scheduled replaces the earlier task, as Kafka's
 * coordinator timer does, so "reschedule the heartbeat of member X" is one call and a stale
 * expiration can never fire. Tasks run synchronously on the event loop and must not throw.
 *
 * `SystemTimer` uses the wall clock and `setTimeout` (unref'd, so pending session timeouts never
 * keep the process alive). `ManualTimer` is a deterministic clock for tests: time moves only in
 * `advance`, which runs due tasks in deadline order (ties in scheduling order), including tasks
 * scheduled by tasks that fall due within the same advance.
 */
import { type Clock, SYSTEM_CLOCK } from "../../clock.js";

export interface Timer extends Clock {
  schedule(key: string, delayMs: number, task: () => void): void;
  cancel(key: string): void;
  isScheduled(key: string): boolean;
  /** Cancels everything; later `schedule` calls are ignored. */
  close(): void;
}

export class SystemTimer implements Timer {
  readonly #tasks = new Map<string, NodeJS.Timeout>();
  #closed = false;

  readonly #clock: Clock;

  constructor(clock: Clock = SYSTEM_CLOCK) {
    this.#clock = clock;
  }

  nowMs(): number {
    return this.#clock.nowMs();
  }

  schedule(key: string, delayMs: number, task: () => void): void {
    if (this.#closed) return;
    this.cancel(key);
    const handle = setTimeout(
      () => {
        if (this.#tasks.get(key) !== handle) return;
        this.#tasks.delete(key);
        task();
      },
      Math.max(0, delayMs),
    );
    handle.unref();
    this.#tasks.set(key, handle);
  }

  cancel(key: string): void {
    const handle = this.#tasks.get(key);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.#tasks.delete(key);
    }
  }

  isScheduled(key: string): boolean {
    return this.#tasks.has(key);
  }

  close(): void {
    this.#closed = true;
    for (const handle of this.#tasks.values()) clearTimeout(handle);
    this.#tasks.clear();
  }
}

interface ManualTask {
  readonly deadlineMs: number;
  readonly sequence: number;
  readonly task: () => void;
}

export class ManualTimer implements Timer {
  readonly #tasks = new Map<string, ManualTask>();
  #nowMs: number;
  #sequence = 0;
  #closed = false;

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  schedule(key: string, delayMs: number, task: () => void): void {
    if (this.#closed) return;
    this.#tasks.set(key, {
      deadlineMs: this.#nowMs + Math.max(0, delayMs),
      sequence: this.#sequence++,
      task,
    });
  }

  cancel(key: string): void {
    this.#tasks.delete(key);
  }

  isScheduled(key: string): boolean {
    return this.#tasks.has(key);
  }

  /** Deadline of a scheduled key, for assertions. */
  deadlineOf(key: string): number | undefined {
    return this.#tasks.get(key)?.deadlineMs;
  }

  get size(): number {
    return this.#tasks.size;
  }

  /** Moves time forward by `ms`, running every task that falls due, in order. */
  advance(ms: number): void {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      let nextKey: string | undefined;
      let next: ManualTask | undefined;
      for (const [key, t] of this.#tasks) {
        if (t.deadlineMs > targetMs) continue;
        if (
          next === undefined ||
          t.deadlineMs < next.deadlineMs ||
          (t.deadlineMs === next.deadlineMs && t.sequence < next.sequence)
        ) {
          next = t;
          nextKey = key;
        }
      }
      if (next === undefined || nextKey === undefined) break;
      this.#tasks.delete(nextKey);
      this.#nowMs = next.deadlineMs;
      next.task();
    }
    this.#nowMs = targetMs;
  }

  close(): void {
    this.#closed = true;
    this.#tasks.clear();
  }
}

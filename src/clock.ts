/**
 * The one clock of the broker. Everything that reads the time (log roll and retention, producer
 * expiry, fetch sessions, coordinators, the metadata log and controller, and next the quorum)
 * takes a `Clock` in its constructor instead of calling `Date.now()`, so a test or a simulation
 * drives time from one place. `SYSTEM_CLOCK` is the only reader of the wall clock in `src/`.
 *
 * Timers (scheduling work at a time) are the caller's concern: code that must run under a
 * simulated clock takes a timer interface beside the clock (as the group coordinator's `Timer`).
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** Wall-clock time. */
export const SYSTEM_CLOCK: Clock = { nowMs: () => Date.now() };

/** Time that moves only when told to: for tests and deterministic simulation. */
export class ManualClock implements Clock {
  #nowMs: number;

  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  /** Moves time forward by `ms` (>= 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`assertion: time moves forward, not by ${ms} ms`);
    this.#nowMs += ms;
  }

  /** Sets the time (it may move backwards, as a wall clock can). */
  setMs(nowMs: number): void {
    this.#nowMs = nowMs;
  }
}

/**
 * The bytes of responses the broker has built and the kernel has not yet taken, summed over all
 * connections, with the bound `queued.max.response.bytes.total` on them. Each connection keeps
 * its own count and bound (connection.ts); this is the shared part: the total, and the
 * connections waiting for it to fall below the bound (paused reading or requests held back) to
 * be woken when it does.
 *
 * Concurrency: event loop only; `release` wakes waiters synchronously.
 */
export class ResponseMemory {
  readonly bytesMax: number;
  #bytes = 0;
  readonly #waiting = new Set<() => void>();

  /** `bytesMax` <= 0 disables the bound (the total is still counted, for the metric). */
  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get full(): boolean {
    return this.bytesMax > 0 && this.#bytes >= this.bytesMax;
  }

  add(bytes: number): void {
    this.#bytes += bytes;
  }

  release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#waiting.size === 0 || this.full) return;
    const woken = [...this.#waiting];
    this.#waiting.clear();
    for (const wake of woken) wake();
  }

  /** Calls `wake` once, the next time the total falls below the bound. */
  waitForRoom(wake: () => void): void {
    this.#waiting.add(wake);
  }

  /** Forgets a waiter (its connection closed). */
  forget(wake: () => void): void {
    this.#waiting.delete(wake);
  }
}

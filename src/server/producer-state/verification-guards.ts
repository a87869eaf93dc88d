/**
 * Kafka's VerificationGuard (ProducerStateManager.verificationStates, KIP-890 part 1) for one
 * partition: the token that ties a transactional batch's verification with the transaction
 * coordinator to its append. A produce that would open a transaction here takes the producer's
 * guard before it asks the coordinator (over the network when another node coordinates); any
 * transactional batch or marker of that producer appended meanwhile clears it, and so does a new
 * leader epoch. If the guard is gone by the time the batch is appended and the producer has no
 * transaction open here, the transaction ended while it was being verified (an abort's marker
 * came in between) and appending would open a transaction nobody ends: the produce is refused
 * with INVALID_TXN_STATE, as Kafka refuses a batch whose verification guard no longer matches.
 *
 * Guards live only while a verification is in flight (or its produce failed); at most
 * `GUARDS_MAX` per partition, the oldest dropped beyond (its produce then fails retriably).
 * Concurrency: event loop only, owned by one Partition.
 */

/** An opaque token; compared by identity. */
export type VerificationGuard = object;

const GUARDS_MAX = 10_000;

export class VerificationGuards {
  readonly #guards = new Map<bigint, VerificationGuard>();

  /** The producer's guard, created if it has none (concurrent verifications share it). */
  start(producerId: bigint): VerificationGuard {
    let guard = this.#guards.get(producerId);
    if (guard === undefined) {
      if (this.#guards.size >= GUARDS_MAX) {
        const oldest = this.#guards.keys().next();
        if (!oldest.done) this.#guards.delete(oldest.value);
      }
      guard = {};
      this.#guards.set(producerId, guard);
    }
    return guard;
  }

  /** Whether `guard` is still the producer's: nothing of its transactions was appended since. */
  holds(producerId: bigint, guard: VerificationGuard): boolean {
    return this.#guards.get(producerId) === guard;
  }

  /** A transactional batch or a marker of the producer was appended. */
  clear(producerId: bigint): void {
    this.#guards.delete(producerId);
  }

  /** A new leader epoch (or leadership lost): verifications started before it do not count. */
  clearAll(): void {
    this.#guards.clear();
  }

  get size(): number {
    return this.#guards.size;
  }
}

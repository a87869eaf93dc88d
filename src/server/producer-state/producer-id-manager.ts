/**
 * Hands out producer ids for InitProducerId (Kafka's RPCProducerIdManager, in-process): ids come
 * in blocks reserved through the metadata log (a ProducerIds record), so an id is never given out
 * twice, across restarts included: a restart starts a fresh block after the last reserved one.
 *
 * Concurrency: callers may overlap while a block is being reserved; they share one reservation
 * and are then served in call order. A failed reservation fails the callers waiting on it (the
 * handler answers a retriable error) and the next call tries again.
 */

export interface ProducerIdBlock {
  firstProducerId: bigint;
  count: number;
}

export type AllocateBlock = () => Promise<ProducerIdBlock>;

export class ProducerIdManager {
  readonly #allocate: AllocateBlock;
  #next = 0n;
  #end = 0n;
  #pending: Promise<void> | undefined;

  constructor(allocate: AllocateBlock) {
    this.#allocate = allocate;
  }

  async nextProducerId(): Promise<bigint> {
    for (;;) {
      if (this.#next < this.#end) return this.#next++;
      this.#pending ??= this.#allocate()
        .then((block) => {
          if (block.count <= 0 || block.firstProducerId < this.#end) {
            throw new Error(
              `assertion: producer id block ${block.firstProducerId}+${block.count} goes backwards`,
            );
          }
          this.#next = block.firstProducerId;
          this.#end = block.firstProducerId + BigInt(block.count);
        })
        .finally(() => {
          this.#pending = undefined;
        });
      await this.#pending;
    }
  }
}

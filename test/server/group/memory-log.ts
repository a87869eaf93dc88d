/**
 * An in-memory __consumer_offsets for coordinator tests: records appended per partition, replayed
 * in order; `failNext` makes the next appends reject, and `hold` parks appends until `release`,
 * so tests can interleave requests with a write in flight.
 */
import type { GroupStateLog } from "../../../src/server/group/group-coordinator.js";
import type { CoordinatorRecord } from "../../../src/server/group/offsets-records.js";

export class MemoryGroupStateLog implements GroupStateLog {
  readonly partitions = new Map<number, CoordinatorRecord[]>();
  failNext = 0;
  #held: (() => void)[] | null = null;

  async append(partition: number, records: readonly CoordinatorRecord[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("injected append failure");
    }
    if (this.#held !== null) {
      const held = this.#held;
      await new Promise<void>((resolve) => held.push(resolve));
    }
    const list = this.partitions.get(partition) ?? [];
    list.push(...records);
    this.partitions.set(partition, list);
  }

  async replay(partition: number, onRecord: (record: CoordinatorRecord) => void): Promise<void> {
    for (const r of this.partitions.get(partition) ?? []) onRecord(r);
  }

  hold(): void {
    this.#held = [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const r of held) r();
  }

  get recordCount(): number {
    let n = 0;
    for (const list of this.partitions.values()) n += list.length;
    return n;
  }
}

/** Lets pending promise callbacks (appends, their continuations) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * The metadata quorum of the replication simulation, as the controller and the brokers see it:
 * a `MetadataLog` whose proposals wait until the simulation commits them (or drops them, when the
 * active controller changes), one committed log every broker replays at its own pace, and the
 * committed image (the quorum's publisher) the controller reads. What decides elections, ISR
 * changes and fencing is Krill's `MetadataController` (controller.ts over cluster-control.ts,
 * replication-control.ts, partition-change.ts), unchanged; only the log under it is simulated.
 *
 * A controller failover is a new generation: proposals of the old controller still pending are
 * each committed or dropped (Raft: an uncommitted entry of a deposed leader may or may not
 * survive), its later proposals are refused with NOT_CONTROLLER, and a new `MetadataController`
 * over the same committed image becomes active (its broker sessions start over).
 */
import type { CommittedBatch, MetadataLog, MetadataLogListener } from "../../../src/metadata/metadata-log.js";
import { NotControllerError } from "../../../src/metadata/metadata-log.js";
import type { MetadataRecord } from "../../../src/metadata/records.js";

interface Proposal {
  readonly generation: number;
  readonly records: readonly MetadataRecord[];
  readonly resolve: (offset: number) => void;
  readonly reject: (err: Error) => void;
}

export class SimMetadataQuorum {
  /** Every committed batch, in order: what brokers replay. */
  readonly committed: CommittedBatch[] = [];
  readonly #pending: Proposal[] = [];
  readonly #listeners: MetadataLogListener[] = [];
  /** The offset the next committed record gets. */
  #endOffset = 0;
  #generation = 0;
  /** Whether a commit is being delivered (commits are delivered one at a time, in order). */
  #delivering = false;

  get generation(): number {
    return this.#generation;
  }

  get endOffset(): number {
    return this.#endOffset;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** The quorum's own listener (the controller's publisher). */
  register(listener: MetadataLogListener): void {
    this.#listeners.push(listener);
  }

  /** The log as the controller of the current generation sees it. */
  logFor(generation: number): MetadataLog {
    const quorum = this;
    return {
      get endOffset() {
        return quorum.#endOffset;
      },
      bytesSinceSnapshot: 0,
      lastSnapshotMs: 0,
      kraftVersion: 0,
      propose(records: readonly MetadataRecord[]): Promise<number> {
        if (generation !== quorum.#generation)
          return Promise.reject(new NotControllerError(`controller generation ${generation} was deposed`));
        if (records.length === 0) return Promise.resolve(quorum.#endOffset - 1);
        return new Promise((resolve, reject) =>
          quorum.#pending.push({ generation, records, resolve, reject }),
        );
      },
      register(listener: MetadataLogListener): void {
        quorum.register(listener);
      },
      createSnapshot: () => false,
      close: async () => {},
    };
  }

  /** Commits the oldest pending proposal (delivered to the listeners, then answered). */
  async commitNext(): Promise<boolean> {
    if (this.#delivering) return false;
    const next = this.#pending.shift();
    if (next === undefined) return false;
    this.#delivering = true;
    try {
      const batch: CommittedBatch = {
        lastOffset: this.#endOffset + next.records.length - 1,
        records: next.records,
      };
      this.#endOffset += next.records.length;
      this.committed.push(batch);
      for (const l of this.#listeners) await l.handleCommit(batch);
      next.resolve(batch.lastOffset);
    } finally {
      this.#delivering = false;
    }
    return true;
  }

  /**
   * The active controller changes: each pending proposal is committed when `survives` says so
   * (in order), else dropped with NOT_CONTROLLER; returns the new generation.
   */
  async failover(survives: () => boolean): Promise<number> {
    const pending = this.#pending.splice(0);
    const kept = pending.filter(() => survives());
    for (const p of pending) {
      if (!kept.includes(p)) p.reject(new NotControllerError("leadership moved before the commit"));
    }
    for (const p of kept) {
      this.#pending.unshift(p);
      // Kept entries are committed by the new leader, before anything it proposes.
      await this.commitNext();
    }
    this.#generation++;
    return this.#generation;
  }
}

/**
 * The metadata log of a quorum member: the `MetadataLog` seam (metadata-log.ts) on the KRaft core
 * (`RaftClient`, src/raft), as Kafka's QuorumController and MetadataLoader sit on KafkaRaftClient.
 *
 * - `propose` serializes the records (Kafka's MetadataRecordSerde) and hands them to
 *   `RaftClient.propose`; the promise resolves with the last offset once the batch holding it is
 *   committed (below the quorum's high watermark) **and** every listener has handled it. It
 *   rejects with `NotControllerError` (Kafka's NOT_CONTROLLER) when this node is not the leader,
 *   or when leadership moves before the batch is delivered (the records may still be committed
 *   by the next leader, as in Kafka; the client retries and sees what happened).
 * - The core calls its `RaftListener` synchronously, inside its event; the listeners here are
 *   asynchronous (the publisher waits for log creation). Committed batches and snapshot loads are
 *   therefore queued and delivered in order by one drain loop, each waiting for the previous. The
 *   queue is bounded by bytes: a node whose listeners fall that far behind stops (`onFatal`),
 *   since it can neither drop committed metadata nor stall the core.
 * - `isActive` is the controller's gate: this node is the leader of the current epoch and its
 *   listeners have handled its own LeaderChangeMessage, so the image holds everything committed
 *   before this epoch (Kafka's controller activates at the same point). `onActivation` and
 *   `onLeaderChange` tell the controller side.
 * - Snapshots are Kafka's format (SnapshotHeader, the image's records, SnapshotFooter) handed to
 *   `RaftClient.createSnapshot`, which writes `<offset>-<epoch>.checkpoint` and drops the prefix.
 */
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { KrillError } from "../errors.js";
import type { RaftClient, RaftListener } from "../raft/client.js";
import type { RaftLog } from "../raft/log.js";
import { batchEndOffset, type OffsetAndEpoch, type RaftBatch } from "../raft/types.js";
import { snapshotBatches, snapshotValues } from "./kraft-records.js";
import type { RecordSerde } from "./local-metadata-log.js";
import {
  type CommittedBatch,
  type MetadataLog,
  type MetadataLogListener,
  NotControllerError,
} from "./metadata-log.js";
import type { MetadataRecord } from "./records.js";

/** Committed record bytes waiting for the listeners before the node gives up (see the module comment). */
const QUEUE_BYTES_MAX = 512 * 1024 * 1024;

export interface RaftMetadataLogOptions {
  readonly nodeId: number;
  /** The log under the RaftClient (end offset, epochs of committed offsets). */
  readonly log: RaftLog;
  readonly serde: RecordSerde;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Called once if the node cannot go on following metadata (listener queue overflow, bad record). */
  readonly onFatal?: (err: Error) => void;
  readonly queueBytesMax?: number;
}

interface PendingProposal {
  readonly epoch: number;
  readonly resolve: (lastOffset: number) => void;
  readonly reject: (err: Error) => void;
}

type QueueItem =
  | {
      readonly kind: "commit";
      readonly epoch: number;
      readonly baseOffset: number;
      readonly lastOffset: number;
      readonly records: readonly MetadataRecord[];
      /** Set when the batch is this node's LeaderChangeMessage. */
      readonly ownLeaderChange: boolean;
      readonly bytes: number;
    }
  | { readonly kind: "snapshot"; readonly id: OffsetAndEpoch; readonly bytes: Buffer };

export class RaftMetadataLog implements MetadataLog, RaftListener {
  readonly #options: RaftMetadataLogOptions;
  readonly #listeners: MetadataLogListener[] = [];
  readonly #pending = new Map<number, PendingProposal>();
  readonly #queue: QueueItem[] = [];
  #queueBytes = 0;
  #draining = false;
  #client: RaftClient | undefined;
  #failure: Error | undefined;
  /** The last offset every listener has handled (-1: none yet). */
  #deliveredOffset = -1;
  /** The epoch whose own LeaderChangeMessage the listeners have handled on this node. */
  #activatedEpoch = -1;
  #leader = { leaderId: -1, epoch: -1 };
  #bytesSinceSnapshot = 0;
  #lastSnapshotMs: number;
  readonly #leaderChangeListeners: ((leaderId: number, epoch: number) => void)[] = [];
  readonly #activationListeners: ((epoch: number) => void)[] = [];
  readonly #voterUnreachableListeners: ((voterId: number) => void)[] = [];
  readonly #deliveryWaiters: { offset: number; resolve: () => void }[] = [];
  #closed = false;

  constructor(options: RaftMetadataLogOptions) {
    this.#options = options;
    this.#lastSnapshotMs = options.clock.nowMs();
  }

  /** The client this log proposes to (constructed with this object as its listener). */
  attach(client: RaftClient): void {
    this.#client = client;
  }

  get endOffset(): number {
    return this.#options.log.endOffset();
  }

  /** The quorum runs static voters (controller.quorum.voters): kraft.version 0. */
  get kraftVersion(): number {
    return 0;
  }

  get bytesSinceSnapshot(): number {
    return this.#bytesSinceSnapshot;
  }

  get lastSnapshotMs(): number {
    return this.#lastSnapshotMs;
  }

  /** The last offset the listeners have handled. */
  get deliveredOffset(): number {
    return this.#deliveredOffset;
  }

  /** The leader and epoch the quorum last reported (-1: none known). */
  get leader(): { readonly leaderId: number; readonly epoch: number } {
    return this.#leader;
  }

  /** True while this node may act as the controller (see the module comment). */
  get isActive(): boolean {
    const client = this.#client;
    if (client === undefined || this.#failure !== undefined || this.#closed) return false;
    // The same test as the client's propose (a closed or shutting-down leader takes no records),
    // so an active controller's proposals are never refused as NOT_CONTROLLER by its own log.
    return client.acceptsProposals && this.#activatedEpoch === client.state.epoch;
  }

  onLeaderChange(fn: (leaderId: number, epoch: number) => void): void {
    this.#leaderChangeListeners.push(fn);
  }

  onActivation(fn: (epoch: number) => void): void {
    this.#activationListeners.push(fn);
  }

  /** Called when the core finds a voter's controller listener refusing or closing connections. */
  onVoterUnreachable(fn: (voterId: number) => void): void {
    this.#voterUnreachableListeners.push(fn);
  }

  /** RaftListener: called inside the core's event; the listeners only note it and schedule work. */
  handleVoterUnreachable(voterId: number): void {
    for (const fn of this.#voterUnreachableListeners) fn(voterId);
  }

  register(listener: MetadataLogListener): void {
    this.#listeners.push(listener);
  }

  /** Resolves once the listeners have handled `offset` (or the log closed). */
  waitForDelivery(offset: number): Promise<void> {
    if (this.#deliveredOffset >= offset || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#deliveryWaiters.push({ offset, resolve }));
  }

  propose(records: readonly MetadataRecord[]): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (records.length === 0) return Promise.resolve(this.endOffset - 1);
    const client = this.#client;
    if (client === undefined || this.#closed) {
      return Promise.reject(new NotControllerError("the metadata quorum is not running on this node"));
    }
    let values: Buffer[];
    try {
      values = records.map((r) => this.#options.serde.encode(r));
    } catch (err) {
      return Promise.reject(err);
    }
    const result = client.propose(values);
    if (!result.ok) {
      if (result.errorCode === 6 /* NOT_LEADER_OR_FOLLOWER */) {
        return Promise.reject(
          new NotControllerError(`node ${this.#options.nodeId} is not the metadata quorum's leader`),
        );
      }
      return Promise.reject(new KrillError("STATE", `metadata proposal refused: ${result.reason}`));
    }
    for (const v of values) this.#bytesSinceSnapshot += v.length;
    return new Promise((resolve, reject) => {
      this.#pending.set(result.lastOffset, { epoch: result.epoch, resolve, reject });
    });
  }

  createSnapshot(records: readonly MetadataRecord[], offset: number): boolean {
    const client = this.#client;
    const log = this.#options.log;
    if (client === undefined || offset < 0 || offset > this.#deliveredOffset) return false;
    if (offset + 1 <= log.startOffset()) return false;
    const last = log.read(offset, 1)[0];
    if (last === undefined || last.baseOffset > offset) return false;
    const id = { offset: offset + 1, epoch: last.epoch };
    const now = this.#options.clock.nowMs();
    const bytes = Buffer.concat(
      snapshotBatches(
        records.map((r) => this.#options.serde.encode(r)),
        id.epoch,
        now,
        last.appendTimeMs,
      ),
    );
    if (!client.createSnapshot(id, bytes)) return false;
    this.#bytesSinceSnapshot = 0;
    this.#lastSnapshotMs = now;
    this.#options.logger.info(
      { offset, epoch: id.epoch, records: records.length },
      "wrote metadata snapshot",
    );
    return true;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#rejectPending(() => true, "the metadata log is closing");
    for (const w of this.#deliveryWaiters.splice(0)) w.resolve();
  }

  // ---- RaftListener (called synchronously inside the core's events) ---------------------------

  handleCommit(batch: RaftBatch): void {
    if (this.#failure !== undefined) return;
    const records: MetadataRecord[] = [];
    let ownLeaderChange = false;
    let bytes = 0;
    try {
      for (const r of batch.records) {
        if (r.type === "data") {
          records.push(this.#options.serde.decode(r.value));
          bytes += r.value.length;
        } else if (r.leaderId === this.#options.nodeId) {
          ownLeaderChange = true;
        }
      }
    } catch (err) {
      this.#fail(
        new KrillError(
          "CORRUPT_RECORD",
          `undecodable committed metadata record in batch at ${batch.baseOffset}`,
          {
            cause: err,
          },
        ),
      );
      return;
    }
    this.#enqueue({
      kind: "commit",
      epoch: batch.epoch,
      baseOffset: batch.baseOffset,
      lastOffset: batchEndOffset(batch) - 1,
      records,
      ownLeaderChange,
      bytes,
    });
  }

  handleLoadSnapshot(id: OffsetAndEpoch, bytes: Buffer): void {
    if (this.#failure !== undefined) return;
    this.#enqueue({ kind: "snapshot", id, bytes });
  }

  handleLeaderChange(leaderId: number, epoch: number): void {
    this.#leader = { leaderId, epoch };
    if (leaderId !== this.#options.nodeId) {
      this.#rejectPending(() => true, `leadership moved to ${leaderId} in epoch ${epoch}`);
    } else {
      this.#rejectPending((p) => p.epoch !== epoch, `leadership moved to epoch ${epoch}`);
    }
    for (const fn of this.#leaderChangeListeners) fn(leaderId, epoch);
  }

  // ---- delivery -------------------------------------------------------------------------------

  #enqueue(item: QueueItem): void {
    const size = item.kind === "commit" ? item.bytes : item.bytes.length;
    if (
      this.#queueBytes + size > (this.#options.queueBytesMax ?? QUEUE_BYTES_MAX) &&
      this.#queue.length > 0
    ) {
      this.#fail(
        new KrillError(
          "STATE",
          `metadata listeners are ${this.#queueBytes} bytes behind the committed log; this node cannot follow the metadata log`,
        ),
      );
      return;
    }
    this.#queue.push(item);
    this.#queueBytes += size;
    if (!this.#draining) {
      this.#draining = true;
      // Not inside the core's event: the proposal that led here registers its promise first.
      queueMicrotask(() => void this.#drain());
    }
  }

  async #drain(): Promise<void> {
    try {
      for (let item = this.#queue.shift(); item !== undefined; item = this.#queue.shift()) {
        this.#queueBytes -= item.kind === "commit" ? item.bytes : item.bytes.length;
        if (this.#closed || this.#failure !== undefined) break;
        if (item.kind === "snapshot") await this.#deliverSnapshot(item.id, item.bytes);
        else await this.#deliverCommit(item);
        for (let i = this.#deliveryWaiters.length - 1; i >= 0; i--) {
          const w = this.#deliveryWaiters[i]!;
          if (w.offset <= this.#deliveredOffset) {
            this.#deliveryWaiters.splice(i, 1);
            w.resolve();
          }
        }
      }
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#draining = false;
      if (this.#queue.length > 0 && this.#failure === undefined && !this.#closed) {
        this.#draining = true;
        queueMicrotask(() => void this.#drain());
      }
    }
  }

  async #deliverSnapshot(id: OffsetAndEpoch, bytes: Buffer): Promise<void> {
    const file = `snapshot ${id.offset}-${id.epoch}`;
    const records = snapshotValues(bytes, file).map((v) => this.#options.serde.decode(v));
    for (const listener of this.#listeners) await listener.handleSnapshot?.(records, id.offset - 1);
    this.#deliveredOffset = Math.max(this.#deliveredOffset, id.offset - 1);
    this.#bytesSinceSnapshot = 0;
    this.#options.logger.info(
      { offset: id.offset, epoch: id.epoch, records: records.length },
      "loaded metadata snapshot",
    );
  }

  async #deliverCommit(item: Extract<QueueItem, { kind: "commit" }>): Promise<void> {
    let failure: unknown;
    if (item.records.length > 0) {
      const batch: CommittedBatch = { lastOffset: item.lastOffset, records: item.records };
      try {
        for (const listener of this.#listeners) await listener.handleCommit(batch);
      } catch (err) {
        // The batch is committed regardless; only the proposal that carried it fails.
        failure = err;
        this.#options.logger.error({ err, offset: item.lastOffset }, "a metadata listener failed");
      }
    }
    this.#deliveredOffset = item.lastOffset;
    if (item.ownLeaderChange && this.#client?.epoch === item.epoch) {
      this.#activatedEpoch = item.epoch;
      for (const fn of this.#activationListeners) fn(item.epoch);
    }
    for (const [lastOffset, p] of this.#pending) {
      if (lastOffset > item.lastOffset) continue;
      this.#pending.delete(lastOffset);
      if (lastOffset < item.baseOffset || p.epoch !== item.epoch) {
        p.reject(new NotControllerError(`offset ${lastOffset} was committed by another leader`));
      } else if (failure !== undefined) {
        p.reject(failure instanceof Error ? failure : new Error(String(failure)));
      } else {
        p.resolve(lastOffset);
      }
    }
  }

  #rejectPending(which: (p: PendingProposal) => boolean, reason: string): void {
    for (const [lastOffset, p] of this.#pending) {
      if (!which(p)) continue;
      this.#pending.delete(lastOffset);
      p.reject(new NotControllerError(reason));
    }
  }

  #fail(err: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#options.logger.error({ err }, "the metadata log cannot go on");
    for (const [, p] of this.#pending) p.reject(err);
    this.#pending.clear();
    this.#options.onFatal?.(err);
  }
}

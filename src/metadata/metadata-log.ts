/**
 * The metadata log as the controller and the publisher see it: the seam where a replicated log
 * (the KRaft quorum in src/raft) replaces the local one (`local-metadata-log.ts`).
 *
 * The contract is Raft's "propose, wait for commit, then apply":
 * - The controller `propose`s a batch of records (one controller write). The promise resolves
 *   with the offset of the batch's last record once the batch is committed **and** every
 *   registered listener has handled it; it rejects when the batch cannot be committed (an I/O
 *   error; in a replicated log, leadership moved before the batch was committed, which Kafka
 *   answers with NOT_CONTROLLER), and then nothing of it is ever delivered. A listener's failure
 *   rejects that proposal too, though its batch is committed.
 * - Listeners (the metadata publisher) get committed batches in offset order, exactly once each;
 *   the next batch waits until every listener has handled the previous one. Records never reach a
 *   listener before they are committed, so whatever a listener publishes is durable.
 * - Snapshots: the owner of the image asks the log to write one as of a committed offset; the log
 *   decides which older data it may drop. Start-up replays the newest snapshot plus the log after
 *   it (for the local log, `LocalMetadataLog.open`).
 */
import { KrillError } from "../errors.js";
import { METADATA_TOPIC } from "../log/names.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import type { MetadataRecord } from "./records.js";

export { METADATA_TOPIC };
export const METADATA_DIR_NAME = `${METADATA_TOPIC}-0`;

/** Records committed together (one controller write), the last at `lastOffset`. */
export interface CommittedBatch {
  readonly lastOffset: number;
  readonly records: readonly MetadataRecord[];
}

export interface MetadataLogListener {
  /** One committed batch; the log waits for the returned promise before delivering the next. */
  handleCommit(batch: CommittedBatch): Promise<void> | void;
  /**
   * A replicated log's snapshot replaces everything before it: `records` are the whole image as
   * of `offset` (its last offset). Batches after it follow. The local log never calls this.
   */
  handleSnapshot?(records: readonly MetadataRecord[], offset: number): Promise<void> | void;
}

/**
 * Kafka's NOT_CONTROLLER: this node is not the active controller (not the quorum leader, or not
 * yet caught up with its own epoch), or leadership moved before a proposal was committed. The
 * proposal may still be committed by the next leader, as in Kafka; a client retries.
 */
export class NotControllerError extends KrillError {
  /** The Kafka error code to answer with. */
  readonly errorCode = ErrorCode.NOT_CONTROLLER;

  constructor(message: string) {
    super("STATE", message);
    this.name = "NotControllerError";
  }
}

export interface MetadataLog {
  /** The offset the next record appended will get. */
  readonly endOffset: number;
  /** Bytes appended since the last snapshot (the size trigger of `metadata.log.max.record.bytes.between.snapshots`). */
  readonly bytesSinceSnapshot: number;
  /** When the last snapshot was written (or the log opened), in the log's clock. */
  readonly lastSnapshotMs: number;
  /**
   * kraft.version in force (KIP-853): 1 when the log carries KRaftVersion and Voters control
   * records (a node formatted --standalone), 0 for static voters.
   */
  readonly kraftVersion: number;
  /** See the module comment. An empty batch resolves at once with `endOffset - 1`. */
  propose(records: readonly MetadataRecord[]): Promise<number>;
  /** Listeners registered before the first proposal see every batch committed after it. */
  register(listener: MetadataLogListener): void;
  /**
   * Writes `records` (a whole image) as the snapshot at `offset`, which must be committed and
   * already handled by every listener. Returns false when the log cannot take one now (a
   * proposal is between its append and its delivery); the caller tries again later.
   */
  createSnapshot(records: readonly MetadataRecord[], offset: number): boolean;
  close(): Promise<void>;
}

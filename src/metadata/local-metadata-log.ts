/**
 * The metadata log of a single node: a single-voter quorum over the segment log of
 * `<metadata.log.dir>/__cluster_metadata-0/` in Kafka's layout (segment-log.ts). It implements
 * the `MetadataLog` seam (metadata-log.ts): a proposal is appended as one batch, committed once
 * fsynced (this node is the whole quorum), handed to the listeners, and then resolves.
 *
 * As a one-voter KRaft quorum does, each start is a new leader epoch: the log's last epoch plus
 * one, announced with a LeaderChangeMessage control batch; every batch carries its epoch as
 * partitionLeaderEpoch. Snapshots are Kafka's (`<end offset>-<epoch>.checkpoint`, SnapshotHeader
 * and SnapshotFooter around the image's records); after one is written, the older snapshots and
 * the segments wholly below it are deleted. Start-up replays the newest snapshot plus the log
 * after it (control batches skipped). A directory in the layout Krill used before (one
 * `metadata.log` plus `snapshot-<offset>.checkpoint`) is migrated on open: its content is written
 * in the new layout with the same offsets, made durable, and only then are the old files removed
 * (a crash midway redoes the migration from the old files).
 *
 * Concurrency: appends are synchronous (offsets are assigned in call order); the fsyncs are
 * shared by concurrent proposals (group commit); deliveries to listeners are chained in offset
 * order.
 */
import { readdirSync, rmSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import { parseOffsetFileName } from "../log/names.js";
import { decodeRecordBatches } from "../protocol/records/record-batch.js";
import {
  dataBatch,
  type KRaftControlValues,
  leaderChangeBatch,
  snapshotBatches,
  snapshotKRaftControl,
  snapshotValues,
} from "./kraft-records.js";
import { legacyFiles, readLegacy, removeLegacy } from "./legacy-layout.js";
import { METADATA_DIR_NAME, type MetadataLog, type MetadataLogListener } from "./metadata-log.js";
import type { MetadataLogEntry, MetadataRecord } from "./records.js";
import { METADATA_BATCH_BYTES_MAX, MetadataSegmentLog, snapshotFileName } from "./segment-log.js";

export interface RecordSerde {
  encode(record: MetadataRecord): Buffer;
  decode(payload: Buffer): MetadataRecord;
}

export interface LoadedMetadata {
  /** Records of the newest snapshot, then of the log after it, in order. */
  readonly entries: MetadataLogEntry[];
  /** Offset of the last record the snapshot holds (its end offset - 1), or -1. */
  readonly snapshotOffset: number;
  readonly nextOffset: number;
  /** The leader epoch this start runs in. */
  readonly epoch: number;
}

/** How many bytes one read of the log at start-up asks for. */
const REPLAY_READ_BYTES = 4 * 1024 * 1024;

export class LocalMetadataLog implements MetadataLog {
  readonly dir: string;
  readonly #serde: RecordSerde;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #nodeId: number;
  readonly #listeners: MetadataLogListener[] = [];
  #log: MetadataSegmentLog | undefined;
  #epoch = 0;
  /** kraft.version 1: the KRaftVersion and Voters records every snapshot carries on. */
  #kraft: KRaftControlValues | undefined;
  #deliveries: Promise<unknown> = Promise.resolve();
  #bytesSinceSnapshot = 0;
  #lastSnapshotMs: number;

  /** `nodeId` is the one voter and leader (LeaderChangeMessage). */
  constructor(
    parentDir: string,
    serde: RecordSerde,
    logger: Logger,
    clock: Clock = SYSTEM_CLOCK,
    nodeId = 1,
  ) {
    this.dir = path.join(parentDir, METADATA_DIR_NAME);
    this.#serde = serde;
    this.#logger = logger;
    this.#clock = clock;
    this.#nodeId = nodeId;
    this.#lastSnapshotMs = clock.nowMs();
  }

  get endOffset(): number {
    return this.#segments().endOffset;
  }

  /** The leader epoch this start runs in (0 before `open`). */
  get epoch(): number {
    return this.#epoch;
  }

  get kraftVersion(): number {
    return this.#kraft === undefined ? 0 : 1;
  }

  get bytesSinceSnapshot(): number {
    return this.#bytesSinceSnapshot;
  }

  get lastSnapshotMs(): number {
    return this.#lastSnapshotMs;
  }

  /** The segment log underneath (for inspection and tests). */
  get segments(): MetadataSegmentLog {
    return this.#segments();
  }

  #segments(): MetadataSegmentLog {
    if (this.#log === undefined) throw new KrillError("STATE", "metadata log is not open");
    return this.#log;
  }

  /** Migrates a legacy directory, reads the newest snapshot and the log after it, starts a new epoch. */
  async open(): Promise<LoadedMetadata> {
    await mkdir(this.dir, { recursive: true });
    if (legacyFiles(this.dir).length > 0) await this.#migrate();
    const log = MetadataSegmentLog.open({ dir: this.dir, clock: this.#clock, logger: this.#logger });
    this.#log = log;
    const entries: MetadataLogEntry[] = [];
    const snapshot = log.snapshots.at(-1);
    let snapshotOffset = -1;
    if (snapshot !== undefined) {
      snapshotOffset = snapshot.endOffset - 1;
      const file = path.join(this.dir, snapshotFileName(snapshot));
      // Every snapshot record describes the image as of the snapshot's last offset.
      const bytes = log.readSnapshot(snapshot);
      this.#kraft = snapshotKRaftControl(bytes);
      for (const value of snapshotValues(bytes, file)) {
        entries.push({ offset: snapshotOffset, record: this.#decode(value, file) });
      }
    }
    let offset = Math.max(log.logStartOffset, snapshotOffset + 1);
    let replayedBytes = 0;
    while (offset < log.endOffset) {
      const bytes = log.read(offset, REPLAY_READ_BYTES);
      if (bytes.length === 0) break;
      replayedBytes += bytes.length;
      const batches = decodeRecordBatches(bytes, {
        decompressedBytesMax: METADATA_BATCH_BYTES_MAX,
        batchSizeMax: METADATA_BATCH_BYTES_MAX,
      });
      for (const b of batches) {
        if (!b.isControl) {
          for (const r of b.records) {
            if (Number(r.offset) < offset) continue;
            if (r.value === null)
              throw new KrillError("CORRUPT_SEGMENT", `${this.dir}: record without a value`);
            entries.push({ offset: Number(r.offset), record: this.#decode(r.value, this.dir) });
          }
        }
        offset = Math.max(offset, Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1);
      }
    }
    // The log after the snapshot counts toward the next one, as before the restart.
    this.#bytesSinceSnapshot = replayedBytes;
    // A new leader epoch for this start, announced as Kafka's leader does.
    this.#epoch = Math.max(log.lastEpoch, snapshot?.epoch ?? 0) + 1;
    log.append(
      leaderChangeBatch(this.#nodeId, [this.#nodeId], this.#epoch, this.#clock.nowMs()),
      this.#epoch,
    );
    await log.flush();
    return { entries, snapshotOffset, nextOffset: log.endOffset, epoch: this.#epoch };
  }

  #decode(value: Buffer, where: string): MetadataRecord {
    try {
      return this.#serde.decode(value);
    } catch (err) {
      throw new KrillError("CORRUPT_SEGMENT", `${where}: undecodable metadata record`, { cause: err });
    }
  }

  /**
   * Rewrites the legacy layout in Kafka's: the legacy snapshot becomes the snapshot ending after
   * its offset (epoch 0), the legacy log's batches are appended at their offsets (epoch 0).
   */
  async #migrate(): Promise<void> {
    const legacy = readLegacy(this.dir, this.#logger);
    // Leftovers of an interrupted migration: the legacy files are still the truth.
    for (const name of readdirSync(this.dir)) {
      const parsed = parseOffsetFileName(name);
      if (legacyFiles(this.dir).includes(name)) continue;
      if (parsed !== undefined || name === "leader-epoch-checkpoint" || name.endsWith(".checkpoint.part"))
        rmSync(path.join(this.dir, name), { force: true });
    }
    const now = this.#clock.nowMs();
    if (legacy.snapshotOffset >= 0) {
      // The segment log starts at the newest snapshot's end, so it is written first.
      const id = { endOffset: legacy.snapshotOffset + 1, epoch: 0 };
      const writer = MetadataSegmentLog.open({ dir: this.dir, clock: this.#clock, logger: this.#logger });
      writer.writeSnapshot(id, snapshotBatches(legacy.snapshotValues, 0, now, now));
      await writer.close();
    }
    const log = MetadataSegmentLog.open({ dir: this.dir, clock: this.#clock, logger: this.#logger });
    for (const b of legacy.batches) {
      if (b.baseOffset !== log.endOffset) {
        await log.close();
        throw new KrillError(
          "CORRUPT_SEGMENT",
          `${this.dir}/metadata.log: batch at offset ${b.baseOffset} where ${log.endOffset} was expected; cannot migrate it to Kafka's layout`,
        );
      }
      log.append(dataBatch(b.values, 0, 0, now), 0);
    }
    await log.flush();
    await log.close();
    removeLegacy(this.dir);
    this.#logger.info(
      { dir: this.dir, snapshotOffset: legacy.snapshotOffset, batches: legacy.batches.length },
      "migrated the metadata log to Kafka's layout (segments and <offset>-<epoch>.checkpoint snapshots)",
    );
  }

  register(listener: MetadataLogListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Appends as one batch of this epoch, waits for the fsync (committed: this log is its own
   * quorum), hands the batch to the listeners after every earlier batch, and resolves with the
   * offset of its last record.
   */
  propose(records: readonly MetadataRecord[]): Promise<number> {
    let lastOffset: number;
    let log: MetadataSegmentLog;
    try {
      log = this.#segments();
      if (records.length === 0) return Promise.resolve(log.endOffset - 1);
      const bytes = dataBatch(
        records.map((r) => this.#serde.encode(r)),
        0,
        this.#epoch,
        this.#clock.nowMs(),
      );
      lastOffset = log.append(bytes, this.#epoch).lastOffset;
      this.#bytesSinceSnapshot += bytes.length;
    } catch (err) {
      return Promise.reject(err);
    }
    const batch = { lastOffset, records };
    const durable = log.flush();
    // A listener's failure fails this proposal only; the records are committed regardless, and
    // the next batch is still delivered. A failed fsync fails it before any listener sees it.
    const delivered = this.#deliveries.then(async () => {
      await durable;
      for (const listener of this.#listeners) await listener.handleCommit(batch);
      return lastOffset;
    });
    this.#deliveries = delivered.catch(() => {});
    return delivered;
  }

  /**
   * Writes `records` (a whole image as of committed `offset`) as the snapshot ending after
   * `offset`, then deletes the older snapshots and the segments wholly below it.
   */
  createSnapshot(records: readonly MetadataRecord[], offset: number): boolean {
    const log = this.#segments();
    if (offset < 0 || offset >= log.endOffset) return false;
    const id = { endOffset: offset + 1, epoch: Math.max(0, log.epochForOffset(offset)) };
    if (log.snapshots.some((s) => s.endOffset === id.endOffset)) {
      this.#bytesSinceSnapshot = 0;
      this.#lastSnapshotMs = this.#clock.nowMs();
      return true;
    }
    const now = this.#clock.nowMs();
    log.writeSnapshot(
      id,
      snapshotBatches(
        records.map((r) => this.#serde.encode(r)),
        id.epoch,
        now,
        now,
        this.#kraft,
      ),
    );
    log.deleteBefore(id);
    this.#bytesSinceSnapshot = 0;
    this.#lastSnapshotMs = now;
    this.#logger.info({ offset, epoch: id.epoch, records: records.length }, "wrote metadata snapshot");
    return true;
  }

  async close(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    await log?.close();
  }
}

/**
 * The log cleaner: compaction for topics with cleanup.policy=compact (or compact,delete), after
 * Kafka's LogCleaner.
 *
 * A pass picks the compacted log with the largest dirty ratio (bytes written since its last cleaning
 * over all cleanable bytes) that reaches min.cleanable.dirty.ratio, then:
 *
 * 1. builds a map key -> latest offset over the dirty section, [firstDirtyOffset,
 *    firstUncleanableOffset), where the uncleanable part starts at the active segment, at the first
 *    segment holding a record younger than min.compaction.lag.ms, at the high watermark and at the
 *    first unstable (open transaction) offset. The map is bounded (`dedupeEntriesMax`); if it fills,
 *    the pass only cleans up to where it got, as Kafka does.
 * 2. rewrites each closed segment from the log start up to the end of that section, keeping a
 *    record unless the map holds a later offset for its key; offsets are preserved, so gaps appear.
 *    Tombstones (null values) are kept for delete.retention.ms after they are first cleaned: the
 *    rewritten batch records the horizon in its header (KIP-534), and a later pass drops them.
 *    Transactional data is judged by its transaction's outcome, read from the COMMIT/ABORT markers
 *    in the log (step 0): an aborted transaction's records are all removed and never enter the
 *    map (so they cannot shadow an older committed value); a committed transaction's records are
 *    compacted like any others and keep their batch's transactional flag; data whose marker is not
 *    found (the marker bound was reached) is kept untouched and ends the mapped section, so it can
 *    be judged by a later pass. Kafka reads the same outcomes from its `.txnindex` files. A COMMIT
 *    marker goes like a tombstone, as in Kafka: once a pass finds none of its transaction's data
 *    left before it, the marker gets a delete horizon (delete.retention.ms), and a pass after that
 *    drops it. ABORT markers stay: the broker's aborted-transaction index still lists the
 *    transaction, and a read_committed consumer told of it skips the producer's batches until it
 *    sees the ABORT marker. A producer's last batch (data or marker) keeps its header, so
 *    idempotent producer state survives, as in Kafka.
 * 3. swaps each cleaned segment in (PartitionLog.replaceSegment, crash-safe), and checkpoints the
 *    new first dirty offset in `cleaner-offset-checkpoint`.
 *
 * Concurrency contract: a pass is asynchronous and yields to the event loop every
 * `yieldEveryBytes` of input (and sleeps to honour `ioBytesPerSecondMax`), so produce and fetch are
 * not starved. Between steps anything may happen to the log; a cleaned segment is only swapped in
 * if the segment it replaces is still in the log and no truncation happened meanwhile. One pass runs
 * at a time.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import {
  ATTR_CONTROL_MASK,
  ATTR_TRANSACTIONAL_MASK,
  BASE_SEQUENCE_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  PRODUCER_EPOCH_OFFSET,
} from "../protocol/records/batch-header.js";
import { ControlRecordType, parseControlRecordKey } from "../protocol/records/control-records.js";
import { buildRecordBatch, decodeRecordBatch, type RecordInput } from "../protocol/records/record-batch.js";
import type { BatchInfo } from "./batch-scan.js";
import { readOffsetCheckpoint, writeOffsetCheckpoint } from "./checkpoint.js";
import { isCompacted, type LogEvents, NEVER, SILENT_EVENTS } from "./config.js";
import {
  CLEANED_FILE_SUFFIX,
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_FILE_SUFFIX,
  segmentFileName,
} from "./names.js";
import type { PartitionLog } from "./partition-log.js";
import type { LogSegment } from "./segment.js";

export interface CleanerOptions {
  clock: Clock;
  events: LogEvents;
  /** `log.cleaner.backoff.ms`: pause between passes when nothing needed cleaning. */
  backoffMs: number;
  /** `log.cleaner.io.max.bytes.per.second`: read throttle (Infinity: none). */
  ioBytesPerSecondMax: number;
  /** Bound on distinct keys per pass (Kafka bounds the same with log.cleaner.dedupe.buffer.size). */
  dedupeEntriesMax: number;
  /** Bound on the decompressed size of one batch the cleaner decodes. */
  decompressedBatchBytesMax: number;
  /** Work done between two yields to the event loop. */
  yieldEveryBytes: number;
}

export const DEFAULT_CLEANER_OPTIONS: CleanerOptions = {
  clock: SYSTEM_CLOCK,
  events: SILENT_EVENTS,
  backoffMs: 15_000,
  ioBytesPerSecondMax: Number.POSITIVE_INFINITY,
  dedupeEntriesMax: 1_000_000,
  decompressedBatchBytesMax: 64 * 1024 * 1024,
  yieldEveryBytes: 1024 * 1024,
};

/** What the cleaner needs from the LogManager. */
export interface CleanerHost {
  readonly logDirs: readonly string[];
  allLogs(): PartitionLog[];
}

export interface CleanableStats {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
}

export interface CleanResult {
  log: PartitionLog;
  /** The new first dirty offset. */
  endOffset: number;
  segmentsRewritten: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** COMMIT markers removed past their delete horizon. */
  markersRemoved: number;
  /** Whether the pass completed and moved the first dirty offset (or rewrote anything). */
  progressed: boolean;
}

export class LogCleaner {
  private readonly options: CleanerOptions;
  /** First dirty offset per log; loaded from the checkpoints at the first pass. */
  private readonly firstDirty = new Map<PartitionLog, number>();
  private checkpointsLoaded = false;
  private readonly uncleanable = new WeakSet<PartitionLog>();
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private bytesThisSecond = 0;
  private secondStartMs = 0;

  constructor(
    private readonly host: CleanerHost,
    options: Partial<CleanerOptions> = {},
  ) {
    this.options = { ...DEFAULT_CLEANER_OPTIONS, ...options };
  }

  /** Starts the background loop. */
  start(): void {
    if (this.running !== undefined) return;
    this.stopping = false;
    this.running = this.loop();
  }

  /** Stops the loop after the current step (a half-built cleaned segment is discarded). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.running = undefined;
  }

  /** The log was deleted: drop its state. */
  forget(log: PartitionLog): void {
    this.firstDirty.delete(log);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let cleaned: CleanResult | undefined;
      try {
        cleaned = await this.cleanFilthiest();
      } catch (err) {
        this.options.events.warn({ err }, "log cleaner pass failed");
      }
      // Back off when there was nothing to do, and also when a pass made no progress (the log
      // changed under it, or it failed), so a busy or broken log cannot keep the loop spinning.
      if ((cleaned === undefined || !cleaned.progressed) && !this.stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.backoffMs);
          timer.unref();
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Choosing what to clean

  private loadCheckpoints(): void {
    if (this.checkpointsLoaded) return;
    this.checkpointsLoaded = true;
    const byDir = new Map<string, number>();
    for (const logDir of this.host.logDirs) {
      try {
        for (const [name, offset] of readOffsetCheckpoint(
          path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE),
        )) {
          byDir.set(path.join(logDir, name), offset);
        }
      } catch (err) {
        this.options.events.warn({ logDir, err }, "ignoring unreadable cleaner checkpoint");
      }
    }
    for (const log of this.host.allLogs()) {
      const offset = byDir.get(log.dir);
      if (offset !== undefined && !this.firstDirty.has(log)) this.firstDirty.set(log, offset);
    }
  }

  private writeCheckpoints(): void {
    for (const logDir of this.host.logDirs) {
      const entries = new Map<string, { tp: { topic: string; partition: number }; offset: number }>();
      for (const [log, offset] of this.firstDirty) {
        if (path.dirname(log.dir) !== logDir) continue;
        entries.set(log.dir, { tp: log.topicPartition, offset });
      }
      writeOffsetCheckpoint(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), entries);
    }
  }

  /** Where cleaning of `log` would start and end, and how dirty it is. */
  cleanableStats(log: PartitionLog): CleanableStats {
    this.loadCheckpoints();
    const segments = log.allSegments();
    const checkpointed = this.firstDirty.get(log);
    let firstDirtyOffset = Math.max(checkpointed ?? log.logStartOffset, log.logStartOffset);
    if (firstDirtyOffset > log.logEndOffset) firstDirtyOffset = log.logStartOffset;
    const firstUncleanableOffset = this.firstUncleanableOffset(log);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      const end = segments[i + 1]!.baseOffset;
      if (end <= log.logStartOffset) continue;
      if (end <= firstDirtyOffset) cleanBytes += s.sizeBytes;
      else if (end <= firstUncleanableOffset) dirtyBytes += s.sizeBytes;
    }
    const total = cleanBytes + dirtyBytes;
    return {
      firstDirtyOffset,
      firstUncleanableOffset,
      cleanBytes,
      dirtyBytes,
      dirtyRatio: total === 0 ? 0 : dirtyBytes / total,
    };
  }

  private firstUncleanableOffset(log: PartitionLog): number {
    let bound = Math.min(
      log.activeSegment.baseOffset,
      log.highWatermark,
      log.firstUnstableOffset ?? Number.MAX_SAFE_INTEGER,
    );
    const lagMs = log.config.minCompactionLagMs;
    if (lagMs > 0) {
      const now = this.options.clock.nowMs();
      for (const s of log.allSegments()) {
        if (s.baseOffset >= bound) break;
        if (now - s.maxTimestampSoFar < lagMs) {
          bound = s.baseOffset;
          break;
        }
      }
    }
    return bound;
  }

  /**
   * One pass over the log that most needs it; undefined if none does. As Kafka's
   * LogCleanerManager: logs whose dirty records exceed max.compaction.lag.ms come first (longest
   * overdue first), then the largest dirty ratio at or above min.cleanable.dirty.ratio.
   */
  async cleanFilthiest(): Promise<CleanResult | undefined> {
    this.loadCheckpoints();
    let best: { log: PartitionLog; overdueMs: number; ratio: number } | undefined;
    for (const log of this.host.allLogs()) {
      if (!isCompacted(log.config) || this.uncleanable.has(log)) continue;
      const stats = this.cleanableStats(log);
      if (stats.dirtyBytes === 0) continue;
      const overdueMs = this.compactionOverdueMs(log, stats);
      if (overdueMs === 0 && stats.dirtyRatio < log.config.minCleanableDirtyRatio) continue;
      const better =
        best === undefined ||
        overdueMs > best.overdueMs ||
        (overdueMs === best.overdueMs && stats.dirtyRatio > best.ratio);
      if (better) best = { log, overdueMs, ratio: stats.dirtyRatio };
    }
    if (best === undefined) return undefined;
    return this.clean(best.log);
  }

  /** How long past max.compaction.lag.ms the oldest dirty segment's first batch is (0: not late). */
  private compactionOverdueMs(log: PartitionLog, stats: CleanableStats): number {
    const lagMs = log.config.maxCompactionLagMs;
    if (lagMs >= NEVER) return 0;
    const segments = log.allSegments();
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < segments.length - 1; i++) {
      const end = segments[i + 1]!.baseOffset;
      if (end <= stats.firstDirtyOffset) continue;
      if (end > stats.firstUncleanableOffset) break;
      const ts = segments[i]!.firstBatchTimestamp();
      if (ts > 0 && ts < earliest) earliest = ts;
    }
    const cleanUntil = this.options.clock.nowMs() - lagMs;
    return earliest < cleanUntil ? cleanUntil - earliest : 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Cleaning

  /** Cleans `log` once (regardless of its dirty ratio). */
  async clean(log: PartitionLog): Promise<CleanResult> {
    if (this.cleaning) throw new KrillError("STATE", "a cleaner pass is already running");
    this.cleaning = true;
    try {
      return await this.doClean(log);
    } catch (err) {
      if (
        err instanceof KrillError &&
        (err.code === "CORRUPT_SEGMENT" || err.code === "CORRUPT_RECORD" || err.code === "COMPRESSION")
      ) {
        // As Kafka marks such a partition uncleanable, retrying it every pass would only repeat the failure.
        this.uncleanable.add(log);
        this.options.events.warn({ dir: log.dir, err }, "log marked uncleanable");
      }
      throw err;
    } finally {
      this.cleaning = false;
    }
  }

  private cleaning = false;

  private async doClean(log: PartitionLog): Promise<CleanResult> {
    const truncationsAtStart = log.truncationCount;
    const segmentsAtStart = [...log.allSegments()];
    try {
      return await this.cleanSteps(log, truncationsAtStart);
    } catch (err) {
      // Retention, DeleteRecords or truncation may remove segments while the pass yields; reading
      // them then fails, and the pass simply ends (the next one starts from the new state).
      const current = log.allSegments();
      if (
        log.isClosed ||
        log.truncationCount !== truncationsAtStart ||
        segmentsAtStart.some((s) => !current.includes(s))
      ) {
        return this.emptyResult(log);
      }
      throw err;
    }
  }

  private emptyResult(log: PartitionLog): CleanResult {
    const endOffset = this.firstDirty.get(log) ?? log.logStartOffset;
    return {
      log,
      endOffset,
      segmentsRewritten: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      markersRemoved: 0,
      progressed: false,
    };
  }

  private async cleanSteps(log: PartitionLog, truncationsAtStart: number): Promise<CleanResult> {
    const stats = this.cleanableStats(log);
    const now = this.options.clock.nowMs();
    const result: CleanResult = {
      log,
      endOffset: stats.firstDirtyOffset,
      segmentsRewritten: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      markersRemoved: 0,
      progressed: false,
    };
    // Closed segments wholly below the uncleanable offset.
    const candidates = this.segmentsBelow(log, stats.firstUncleanableOffset);
    if (candidates.length === 0) return result;

    // 0. Transaction outcomes, from every marker in the log (a marker may lie past the section).
    const outcomes = await this.collectTxnOutcomes(log);

    // 1. The offset map over the dirty section, and each producer's last batch.
    const map = new Map<string, number>();
    const lastBatchOfProducer = new Map<number, number>();
    let endOffset = stats.firstDirtyOffset;
    // Set when the map is full, or at transactional data of unknown outcome: the section ends there.
    let mapFull = false;
    for (const segment of candidates) {
      for (const b of segment.batches(false)) {
        if (b.producerId >= 0) lastBatchOfProducer.set(b.producerId, b.baseOffset);
        if (mapFull || b.lastOffset < stats.firstDirtyOffset) continue;
        const outcome = batchOutcome(b, outcomes);
        if (outcome === "unknown") {
          mapFull = true;
          continue;
        }
        if (outcome === "data") {
          const decoded = this.decode(segment, b);
          const newKeys = decoded.records.filter((r) => r.key !== null && !map.has(mapKey(r.key))).length;
          if (map.size + newKeys > this.options.dedupeEntriesMax) {
            mapFull = true;
            continue;
          }
          for (const r of decoded.records) if (r.key !== null) map.set(mapKey(r.key), Number(r.offset));
        }
        endOffset = b.lastOffset + 1;
        await this.throttle(b.sizeBytes);
      }
    }
    // With no new dirty data (an explicit clean), the pass still revisits the clean section, where
    // tombstones past their delete horizon go.

    // 2. Rewrite every closed segment holding offsets below the end of the mapped section.
    for (const segment of candidates) {
      if (segment.baseOffset >= endOffset) break;
      // Stopping mid-pass keeps the old first dirty offset: the next pass redoes this one.
      if (this.stopping) return result;
      const rewritten = await this.cleanSegment(
        log,
        segment,
        map,
        outcomes,
        lastBatchOfProducer,
        now,
        truncationsAtStart,
        result,
      );
      if (rewritten === "log-changed") return result;
    }
    result.endOffset = endOffset;
    // A pass stopped at its first batch (transactional data of unknown outcome) made no progress,
    // so the loop backs off instead of picking the same log again at once.
    result.progressed = endOffset > stats.firstDirtyOffset || result.segmentsRewritten > 0;
    this.firstDirty.set(log, endOffset);
    this.writeCheckpoints();
    this.options.events.info(
      {
        dir: log.dir,
        endOffset,
        segmentsRewritten: result.segmentsRewritten,
        bytesBefore: result.bytesBefore,
        bytesAfter: result.bytesAfter,
        recordsRemoved: result.recordsRemoved,
      },
      "cleaned log",
    );
    return result;
  }

  /**
   * The COMMIT/ABORT markers of `log`, from its start to its end as the pass begins, read from
   * the control batches (headers only for every other batch). At most `dedupeEntriesMax` markers
   * are kept; data whose marker lies beyond that has an unknown outcome and is left alone.
   */
  private async collectTxnOutcomes(log: PartitionLog): Promise<TxnOutcomes> {
    const outcomes = new TxnOutcomes(this.options.dedupeEntriesMax);
    let headers = 0;
    for (const segment of [...log.allSegments()]) {
      for (const b of segment.batches(false)) {
        if (++headers % 10_000 === 0) await new Promise((r) => setImmediate(r));
        if ((b.attributes & ATTR_CONTROL_MASK) === 0 || b.producerId < 0) continue;
        await this.throttle(b.sizeBytes);
        const type = controlType(this.decode(segment, b).records[0]?.key ?? null);
        if (type === undefined) continue;
        if (!outcomes.add(b.producerId, b.baseOffset, type === ControlRecordType.ABORT)) return outcomes;
      }
    }
    return outcomes;
  }

  private segmentsBelow(log: PartitionLog, offset: number): LogSegment[] {
    const segments = log.allSegments();
    const out: LogSegment[] = [];
    for (let i = 0; i < segments.length - 1; i++) {
      if (segments[i + 1]!.baseOffset > offset) break;
      out.push(segments[i]!);
    }
    return out;
  }

  private decode(segment: LogSegment, b: BatchInfo) {
    return decodeRecordBatch(segment.readBatch(b), {
      decompressedBytesMax: this.options.decompressedBatchBytesMax,
      verifyCrc: true,
    });
  }

  /** Rewrites one segment into `<base>.log.cleaned` and swaps it in if anything changed. */
  private async cleanSegment(
    log: PartitionLog,
    segment: LogSegment,
    map: Map<string, number>,
    outcomes: TxnOutcomes,
    lastBatchOfProducer: Map<number, number>,
    now: number,
    truncationsAtStart: number,
    result: CleanResult,
  ): Promise<"rewritten" | "unchanged" | "log-changed"> {
    const cleanedPath = path.join(
      log.dir,
      segmentFileName(segment.baseOffset, LOG_FILE_SUFFIX + CLEANED_FILE_SUFFIX),
    );
    const out = new ChunkWriter(cleanedPath);
    let changed = false;
    let removed = 0;
    let tombstonesRemoved = 0;
    try {
      for (const b of segment.batches(false)) {
        await this.throttle(b.sizeBytes);
        const original = segment.readBatch(b);
        const outcome = batchOutcome(b, outcomes);
        if (outcome === "control") {
          const marker = this.cleanMarker(b, original, outcomes, lastBatchOfProducer, now, log);
          if (marker === original) {
            out.write(original);
            continue;
          }
          changed = true;
          if (marker === undefined) result.markersRemoved++;
          else out.write(marker);
          continue;
        }
        if ((b.attributes & ATTR_TRANSACTIONAL_MASK) !== 0) outcomes.dataSinceMarker.add(b.producerId);
        if (outcome === "unknown") {
          out.write(original);
          continue;
        }
        // Every record of an aborted transaction goes (Kafka's discardBatchRecords).
        const discardAll = outcome === "aborted";
        const decoded = decodeRecordBatch(original, {
          decompressedBytesMax: this.options.decompressedBatchBytesMax,
          verifyCrc: true,
        });
        const horizon = decoded.hasDeleteHorizon ? Number(decoded.header.baseTimestamp) : undefined;
        const kept: RecordInput[] = [];
        let keptTombstones = 0;
        for (const r of decoded.records) {
          if (discardAll) continue;
          const offset = Number(r.offset);
          if (r.key !== null) {
            const latest = map.get(mapKey(r.key));
            if (latest !== undefined && offset < latest) continue;
          }
          if (r.value === null && horizon !== undefined && now >= horizon) {
            tombstonesRemoved++;
            continue;
          }
          if (r.value === null) keptTombstones++;
          kept.push({
            offsetDelta: r.offsetDelta,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
          });
        }
        removed += decoded.records.length - kept.length;
        const needsHorizon = keptTombstones > 0 && horizon === undefined;
        if (kept.length === decoded.records.length && !needsHorizon) {
          out.write(original);
          continue;
        }
        changed = true;
        const keepEmpty = b.producerId >= 0 && lastBatchOfProducer.get(b.producerId) === b.baseOffset;
        if (kept.length === 0 && !keepEmpty) continue;
        const h = decoded.header;
        const rebuilt = buildRecordBatch({
          baseOffset: h.baseOffset,
          partitionLeaderEpoch: h.partitionLeaderEpoch,
          producerId: h.producerId,
          transactional: (b.attributes & ATTR_TRANSACTIONAL_MASK) !== 0,
          producerEpoch: original.readInt16BE(PRODUCER_EPOCH_OFFSET),
          baseSequence: original.readInt32BE(BASE_SEQUENCE_OFFSET),
          timestampType: decoded.timestampType,
          compression: decoded.compression,
          records: kept,
          lastOffsetDelta: h.lastOffsetDelta,
          maxTimestamp: h.maxTimestamp,
          ...(kept.length === 0 ? { baseTimestamp: original.readBigInt64BE(BASE_TIMESTAMP_OFFSET) } : {}),
          ...(keptTombstones > 0
            ? { deleteHorizonMs: BigInt(horizon ?? now + log.config.deleteRetentionMs) }
            : {}),
        });
        out.write(rebuilt);
      }
      out.close();
    } catch (err) {
      out.abort();
      throw err;
    }
    result.recordsRemoved += removed;
    result.tombstonesRemoved += tombstonesRemoved;
    if (!changed) {
      fs.rmSync(cleanedPath, { force: true });
      return "unchanged";
    }
    if (log.truncationCount !== truncationsAtStart) {
      fs.rmSync(cleanedPath, { force: true });
      return "log-changed";
    }
    const before = segment.sizeBytes;
    if (!log.replaceSegment(segment, cleanedPath)) return "log-changed";
    result.segmentsRewritten++;
    result.bytesBefore += before;
    result.bytesAfter += out.bytesWritten;
    return "rewritten";
  }

  /**
   * A control batch in a cleaned segment: `original` to keep it as it is, a rebuilt batch carrying
   * a delete horizon, or undefined to drop it. Only a COMMIT marker with none of its transaction's
   * data read before it in this pass, and not its producer's last batch, may go (see the header).
   */
  private cleanMarker(
    b: BatchInfo,
    original: Buffer,
    outcomes: TxnOutcomes,
    lastBatchOfProducer: Map<number, number>,
    now: number,
    log: PartitionLog,
  ): Buffer | undefined {
    if (b.producerId < 0) return original;
    const hadData = outcomes.dataSinceMarker.delete(b.producerId);
    if (hadData || lastBatchOfProducer.get(b.producerId) === b.baseOffset) return original;
    const decoded = decodeRecordBatch(original, {
      decompressedBytesMax: this.options.decompressedBatchBytesMax,
      verifyCrc: true,
    });
    if (controlType(decoded.records[0]?.key ?? null) !== ControlRecordType.COMMIT) return original;
    if (decoded.hasDeleteHorizon) return now >= Number(decoded.header.baseTimestamp) ? undefined : original;
    const h = decoded.header;
    return buildRecordBatch({
      baseOffset: h.baseOffset,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      producerId: h.producerId,
      producerEpoch: original.readInt16BE(PRODUCER_EPOCH_OFFSET),
      baseSequence: original.readInt32BE(BASE_SEQUENCE_OFFSET),
      transactional: true,
      isControl: true,
      timestampType: decoded.timestampType,
      compression: decoded.compression,
      records: decoded.records.map((r) => ({
        offsetDelta: r.offsetDelta,
        timestamp: r.timestamp,
        key: r.key,
        value: r.value,
        headers: r.headers.map((x) => ({ key: x.key, value: x.value })),
      })),
      lastOffsetDelta: h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
      deleteHorizonMs: BigInt(now + log.config.deleteRetentionMs),
    });
  }

  /** Yields to the event loop every `yieldEveryBytes` and sleeps to stay under the I/O rate. */
  private async throttle(bytes: number): Promise<void> {
    this.bytesThisSecond += bytes;
    const now = this.options.clock.nowMs();
    if (now - this.secondStartMs >= 1000) {
      this.secondStartMs = now;
      this.bytesThisSecond = bytes;
    }
    if (this.bytesThisSecond >= this.options.ioBytesPerSecondMax) {
      await new Promise((r) => setTimeout(r, Math.max(1, 1000 - (now - this.secondStartMs))));
      this.secondStartMs = this.options.clock.nowMs();
      this.bytesThisSecond = 0;
    }
    this.sinceYield += bytes;
    if (this.sinceYield >= this.options.yieldEveryBytes) {
      this.sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }

  private sinceYield = 0;
}

/**
 * Outcome of each producer's transactions: the producer's markers in offset order. Transactional
 * data of a producer belongs to the transaction ended by the producer's first marker after it.
 */
export class TxnOutcomes {
  private readonly byProducer = new Map<number, { offsets: number[]; aborted: boolean[] }>();
  private count = 0;
  /**
   * Rewrite state: producers whose transactional data was read since their last marker in this
   * pass (the marker that ends that data must stay).
   */
  readonly dataSinceMarker = new Set<number>();

  constructor(private readonly markersMax: number) {}

  /** Records a marker (in offset order); false once the bound is reached. */
  add(producerId: number, offset: number, aborted: boolean): boolean {
    if (this.count >= this.markersMax) return false;
    let p = this.byProducer.get(producerId);
    if (p === undefined) {
      p = { offsets: [], aborted: [] };
      this.byProducer.set(producerId, p);
    }
    p.offsets.push(offset);
    p.aborted.push(aborted);
    this.count++;
    return true;
  }

  /** Whether the transaction holding `producerId`'s data at `offset` aborted; undefined: unknown. */
  aborted(producerId: number, offset: number): boolean | undefined {
    const p = this.byProducer.get(producerId);
    if (p === undefined) return undefined;
    let lo = 0;
    let hi = p.offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (p.offsets[mid]! > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo < p.offsets.length ? p.aborted[lo] : undefined;
  }
}

/** How the cleaner treats a batch: a marker, plain or committed data, aborted data, or unknown. */
function batchOutcome(b: BatchInfo, outcomes: TxnOutcomes): "control" | "data" | "aborted" | "unknown" {
  if ((b.attributes & ATTR_CONTROL_MASK) !== 0) return "control";
  if ((b.attributes & ATTR_TRANSACTIONAL_MASK) === 0) return "data";
  const aborted = outcomes.aborted(b.producerId, b.baseOffset);
  if (aborted === undefined) return "unknown";
  return aborted ? "aborted" : "data";
}

/** COMMIT or ABORT from a control record's key; undefined for other or malformed control records. */
function controlType(key: Buffer | null): number | undefined {
  try {
    const { type } = parseControlRecordKey(key);
    return type === ControlRecordType.ABORT || type === ControlRecordType.COMMIT ? type : undefined;
  } catch {
    return undefined;
  }
}

/** Buffered sequential writer of a cleaned segment file (one descriptor, 1 MiB writes). */
class ChunkWriter {
  private readonly fd: number;
  private readonly chunks: Buffer[] = [];
  private pending = 0;
  bytesWritten = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, "w");
  }

  write(buf: Buffer): void {
    this.chunks.push(buf);
    this.pending += buf.length;
    if (this.pending >= 1024 * 1024) this.drain();
  }

  private drain(): void {
    if (this.pending === 0) return;
    const all = Buffer.concat(this.chunks, this.pending);
    let done = 0;
    while (done < all.length)
      done += fs.writeSync(this.fd, all, done, all.length - done, this.bytesWritten + done);
    this.bytesWritten += all.length;
    this.chunks.length = 0;
    this.pending = 0;
  }

  close(): void {
    this.drain();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * The offset map's key for a record key: short keys as they are, longer ones by their SHA-256, so
 * a map entry costs a bounded amount of memory whatever the key size (Kafka's map keeps a hash of
 * every key for the same reason; a collision is as unlikely as in Kafka's).
 */
function mapKey(key: Buffer): string {
  if (key.length <= 32) return `k${key.toString("latin1")}`;
  return `h${createHash("sha256").update(key).digest("base64")}`;
}

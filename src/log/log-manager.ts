/**
 * All partition logs of a broker (Kafka's LogManager): owns `<log.dirs>/<topic>-<partition>/`,
 * loads them at startup (recovering after an unclean shutdown), creates and deletes partition
 * logs, runs retention, flush and the cleaner in the background, writes the recovery-point and
 * log-start-offset checkpoints, and marks a clean shutdown with `.kafka_cleanshutdown`.
 *
 * Concurrency contract: every method but `shutdown`, `deleteLog` and the background tasks is
 * synchronous. Background tasks run on timers on the same event loop; each partition step they
 * take is synchronous, so they interleave with appends and reads only between partitions (the
 * cleaner also between batches, see cleaner.ts). One manager per set of log directories: two
 * managers (or processes) on the same directories corrupt each other.
 */
import fs from "node:fs";
import path from "node:path";
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import {
  fsyncDir,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
  writeOffsetCheckpointAsync,
} from "./checkpoint.js";
import { type CleanerOptions, LogCleaner } from "./cleaner.js";
import { DEFAULT_LOG_CONFIG, isCompacted, type LogConfig, type LogEvents, SILENT_EVENTS } from "./config.js";
import { FilePool } from "./file-pool.js";
import {
  CLEAN_SHUTDOWN_FILE,
  DELETE_DIR_SUFFIX,
  FUTURE_DIR_SUFFIX,
  isValidTopicName,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  METADATA_TOPIC,
  parsePartitionDirName,
  partitionDirName,
  RECOVERY_POINT_CHECKPOINT_FILE,
  type TopicPartition,
} from "./names.js";
import { type LogLoadReport, PartitionLog } from "./partition-log.js";

export interface LogManagerOptions {
  /** `log.dirs`. */
  logDirs: readonly string[];
  /** Broker-level defaults for topics without overrides. */
  defaultConfig?: LogConfig;
  /** Per-topic configs known at startup (from the metadata image); others use the default. */
  topicConfig?: (topic: string) => LogConfig | undefined;
  clock?: Clock;
  events?: LogEvents;
  /** `krill.log.max.open.files`: bound on descriptors held by all segments and indexes. */
  maxOpenFiles?: number;
  /** `log.retention.check.interval.ms`. */
  retentionCheckIntervalMs?: number;
  /** How often flush.ms is checked (Kafka's `log.flush.scheduler.interval.ms`). */
  flushCheckIntervalMs?: number;
  /** `log.flush.offset.checkpoint.interval.ms` (also used for the log-start-offset checkpoint). */
  checkpointIntervalMs?: number;
  /** `log.cleaner.enable` and the cleaner's bounds and throttle. */
  cleaner?: Partial<CleanerOptions> & { enable?: boolean };
}

/**
 * What startup found, told apart as Kafka's LogManager.loadLogs does for each log dir:
 * - "empty": no partition logs to load (a first start, or a broker that never held a partition).
 *   There is nothing to recover, so the clean-shutdown marker, present or not, says nothing.
 * - "clean": every log dir holding partition logs had `.kafka_cleanshutdown`.
 * - "unclean": some log dir held partition logs but no marker; their segments after the recovery
 *   point were validated and repaired.
 */
export type LogDirsState = "empty" | "clean" | "unclean";

const STARTUP_MESSAGES: Record<LogDirsState, string> = {
  empty: "no partition logs to load: fresh start",
  clean: "loaded logs",
  unclean: "loaded logs after unclean shutdown",
};

export interface StartupReport {
  state: LogDirsState;
  partitions: number;
  segments: number;
  recoveredSegments: number;
  truncatedBytes: number;
  durationMs: number;
  repaired: { topicPartition: TopicPartition; report: LogLoadReport }[];
}

export const DEFAULT_MAX_OPEN_FILES = 512;

/** Kafka's UnifiedLog.StrayDirSuffix. */
export const STRAY_DIR_SUFFIX = "-stray";

export class LogManager {
  readonly logDirs: readonly string[];
  readonly pool: FilePool;
  readonly cleaner: LogCleaner;
  private readonly clock: Clock;
  private readonly events: LogEvents;
  private defaultConfig: LogConfig;
  private readonly topicConfigs = new Map<string, LogConfig>();
  private readonly topicConfigSource: ((topic: string) => LogConfig | undefined) | undefined;
  /** Keyed by partition directory name. */
  private readonly logs = new Map<string, { log: PartitionLog; logDir: string }>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly options: LogManagerOptions;
  private started = false;
  private stopped = false;

  constructor(options: LogManagerOptions) {
    if (options.logDirs.length === 0) throw new KrillError("CONFIG_INVALID", "log.dirs is empty");
    this.options = options;
    this.logDirs = options.logDirs.map((d) => path.resolve(d));
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.events = options.events ?? SILENT_EVENTS;
    this.defaultConfig = options.defaultConfig ?? DEFAULT_LOG_CONFIG;
    this.topicConfigSource = options.topicConfig;
    this.pool = new FilePool(options.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES);
    this.cleaner = new LogCleaner(this, { clock: this.clock, events: this.events, ...options.cleaner });
  }

  /**
   * Loads every partition directory. After an unclean shutdown (no `.kafka_cleanshutdown` in a
   * log dir that holds partition logs), the segments after each partition's recovery point are
   * validated and repaired. The report's `state` says which of the three starts this was.
   */
  startup(): StartupReport {
    if (this.started) throw new KrillError("STATE", "LogManager already started");
    this.started = true;
    const t0 = performance.now();
    const report: StartupReport = {
      state: "empty",
      partitions: 0,
      segments: 0,
      recoveredSegments: 0,
      truncatedBytes: 0,
      durationMs: 0,
      repaired: [],
    };
    for (const logDir of this.logDirs) {
      fs.mkdirSync(logDir, { recursive: true });
      const markerPath = path.join(logDir, CLEAN_SHUTDOWN_FILE);
      const hadCleanShutdown = fs.existsSync(markerPath);
      const partitionsBefore = report.partitions;
      const recoveryPoints = this.readCheckpointOrEmpty(path.join(logDir, RECOVERY_POINT_CHECKPOINT_FILE));
      const logStartOffsets = this.readCheckpointOrEmpty(path.join(logDir, LOG_START_OFFSET_CHECKPOINT_FILE));
      for (const entry of fs.readdirSync(logDir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const dir = path.join(logDir, entry.name);
        if (entry.name.endsWith(DELETE_DIR_SUFFIX)) {
          fs.rmSync(dir, { recursive: true, force: true });
          continue;
        }
        const tp = this.topicLogDirName(entry.name);
        if (tp === undefined) continue;
        const log = PartitionLog.open({
          dir,
          topicPartition: tp,
          config: this.configFor(tp.topic),
          pool: this.pool,
          clock: this.clock,
          events: this.events,
          hadCleanShutdown,
          recoveryPoint: recoveryPoints.get(entry.name),
          logStartOffset: logStartOffsets.get(entry.name),
        });
        this.logs.set(entry.name, { log, logDir });
        report.partitions++;
        report.segments += log.loadReport.segments;
        report.recoveredSegments += log.loadReport.recoveredSegments;
        report.truncatedBytes += log.loadReport.truncatedBytes;
        if (log.loadReport.problems.length > 0)
          report.repaired.push({ topicPartition: tp, report: log.loadReport });
      }
      // A dir without partition logs leaves the state as it is: "unclean" wins over "clean",
      // which wins over "empty".
      if (report.partitions > partitionsBefore) {
        if (!hadCleanShutdown) report.state = "unclean";
        else if (report.state === "empty") report.state = "clean";
      }
      // From here on a crash is unclean until shutdown writes the marker again.
      fs.rmSync(markerPath, { force: true });
    }
    this.writeCheckpoints();
    report.durationMs = performance.now() - t0;
    this.events.info(
      { ...report, repaired: report.repaired.length, logDirs: this.logDirs },
      STARTUP_MESSAGES[report.state],
    );
    return report;
  }

  /**
   * The partition of a directory this manager owns, or undefined for any other directory (Kafka's
   * LogManager.loadLogs filter): the metadata log's `__cluster_metadata-0` belongs to the metadata
   * subsystem; `-stray` (a replica the metadata no longer assigns here, kept for an operator to
   * inspect) and `-future` (a replica being moved between log dirs) are not served; anything that
   * is not `<valid topic>-<partition>` is not a log at all. Such folders are left untouched.
   */
  private topicLogDirName(name: string): TopicPartition | undefined {
    if (name.endsWith(STRAY_DIR_SUFFIX) || name.endsWith(FUTURE_DIR_SUFFIX)) {
      this.events.warn({ dir: name }, "not loading stray or future log directory");
      return undefined;
    }
    const tp = parsePartitionDirName(name);
    if (tp === undefined || tp.topic === METADATA_TOPIC || !isValidTopicName(tp.topic)) return undefined;
    return tp;
  }

  private readCheckpointOrEmpty(file: string): Map<string, number> {
    try {
      return readOffsetCheckpoint(file);
    } catch (err) {
      // A damaged checkpoint only costs a longer recovery: recover everything instead.
      this.events.warn({ file, err }, "ignoring unreadable checkpoint");
      return new Map();
    }
  }

  /** Starts retention, flush, checkpoint and cleaner timers. */
  startBackgroundTasks(): void {
    const o = this.options;
    this.every(o.retentionCheckIntervalMs ?? 300_000, () => this.runRetention());
    this.every(o.flushCheckIntervalMs ?? 1000, () => this.runFlushChecks());
    this.every(o.checkpointIntervalMs ?? 60_000, () => this.writeCheckpointsInBackground());
    if (o.cleaner?.enable ?? true) this.cleaner.start();
  }

  private every(intervalMs: number, task: () => unknown): void {
    const timer = setInterval(() => {
      try {
        const r = task();
        if (r instanceof Promise)
          r.catch((err: unknown) => this.events.warn({ err }, "log background task failed"));
      } catch (err) {
        this.events.warn({ err }, "log background task failed");
      }
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  // ---------------------------------------------------------------------------------------------
  // Partitions

  configFor(topic: string): LogConfig {
    return this.topicConfigs.get(topic) ?? this.topicConfigSource?.(topic) ?? this.defaultConfig;
  }

  /** A topic's config changed at runtime: applies to its existing and future partitions. */
  setTopicConfig(topic: string, config: LogConfig): void {
    this.topicConfigs.set(topic, config);
    for (const { log } of this.logs.values())
      if (log.topicPartition.topic === topic) log.updateConfig(config);
  }

  /** The broker default changed at runtime: applies to topics without their own config. */
  setDefaultConfig(config: LogConfig): void {
    this.defaultConfig = config;
    for (const { log } of this.logs.values()) log.updateConfig(this.configFor(log.topicPartition.topic));
  }

  getLog(tp: TopicPartition): PartitionLog | undefined {
    return this.logs.get(partitionDirName(tp))?.log;
  }

  allLogs(): PartitionLog[] {
    return [...this.logs.values()].map((e) => e.log);
  }

  getOrCreateLog(tp: TopicPartition, config?: LogConfig): PartitionLog {
    this.checkRunning();
    const name = partitionDirName(tp);
    const existing = this.logs.get(name);
    if (existing !== undefined) return existing.log;
    if (
      !isValidTopicName(tp.topic) ||
      tp.topic === METADATA_TOPIC ||
      !Number.isInteger(tp.partition) ||
      tp.partition < 0
    ) {
      throw new KrillError("STATE", `Invalid topic partition ${tp.topic}-${tp.partition}`);
    }
    if (config !== undefined) this.topicConfigs.set(tp.topic, config);
    const logDir = this.leastLoadedDir();
    const log = PartitionLog.open({
      dir: path.join(logDir, name),
      topicPartition: tp,
      config: this.configFor(tp.topic),
      pool: this.pool,
      clock: this.clock,
      events: this.events,
      hadCleanShutdown: true,
    });
    this.logs.set(name, { log, logDir });
    return log;
  }

  private leastLoadedDir(): string {
    const counts = new Map(this.logDirs.map((d) => [d, 0]));
    for (const { logDir } of this.logs.values()) counts.set(logDir, (counts.get(logDir) ?? 0) + 1);
    let best = this.logDirs[0]!;
    for (const [d, n] of counts) if (n < (counts.get(best) ?? 0)) best = d;
    return best;
  }

  /**
   * Deletes a partition's log: renamed to `<name>.<id>-delete` at once (so a crash cannot bring it
   * back), then removed in the background.
   */
  async deleteLog(tp: TopicPartition): Promise<void> {
    const name = partitionDirName(tp);
    const entry = this.logs.get(name);
    if (entry === undefined) return;
    this.logs.delete(name);
    this.cleaner.forget(entry.log);
    entry.log.closeQuietly();
    const doomed = path.join(entry.logDir, `${name}.${this.clock.nowMs().toString(36)}${DELETE_DIR_SUFFIX}`);
    try {
      fs.renameSync(entry.log.dir, doomed);
    } catch (err) {
      // Already gone (removed by hand): nothing left to delete.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw new KrillError("LOG_IO", `Cannot delete ${entry.log.dir}`, { cause: err });
    }
    fsyncDir(entry.logDir);
    await fs.promises.rm(doomed, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------------
  // Background work (public so tests and the broker can drive it with an injected clock)

  /** One retention pass over every log; returns the number of segments deleted. */
  runRetention(): number {
    let deleted = 0;
    for (const { log } of this.logs.values()) {
      try {
        deleted += log.deleteOldSegments();
      } catch (err) {
        this.events.warn({ dir: log.dir, err }, "retention failed");
      }
    }
    return deleted;
  }

  /** flush.ms checks; resolves when the flushes it started are done. */
  async runFlushChecks(): Promise<void> {
    const flushes: Promise<void>[] = [];
    for (const { log } of this.logs.values()) {
      const f = log.flushIfDue();
      if (f !== undefined)
        flushes.push(f.catch((err: unknown) => this.events.warn({ dir: log.dir, err }, "flush failed")));
    }
    await Promise.all(flushes);
  }

  /** Writes recovery-point and log-start-offset checkpoints of every log dir. */
  writeCheckpoints(): void {
    for (const [file, entries] of this.checkpointContents()) writeOffsetCheckpoint(file, entries);
  }

  /**
   * The periodic checkpoints, written off the event loop (checkpoint.ts); a tick while the
   * previous write still runs is skipped, and shutdown waits for it before its own write.
   */
  writeCheckpointsInBackground(): Promise<void> {
    if (this.checkpointWriting !== undefined) return this.checkpointWriting;
    const writes: Promise<void>[] = [];
    for (const [file, entries] of this.checkpointContents())
      writes.push(writeOffsetCheckpointAsync(file, entries));
    this.checkpointWriting = Promise.all(writes)
      .then(() => undefined)
      .finally(() => {
        this.checkpointWriting = undefined;
      });
    return this.checkpointWriting;
  }

  private checkpointWriting: Promise<void> | undefined;

  /** Each checkpoint file of every log dir with its entries: recovery points and log starts. */
  private checkpointContents(): Map<string, Map<string, { tp: TopicPartition; offset: number }>> {
    const out = new Map<string, Map<string, { tp: TopicPartition; offset: number }>>();
    for (const logDir of this.logDirs) {
      const recovery = new Map<string, { tp: TopicPartition; offset: number }>();
      const starts = new Map<string, { tp: TopicPartition; offset: number }>();
      for (const [name, { log, logDir: d }] of this.logs) {
        if (d !== logDir) continue;
        recovery.set(name, { tp: log.topicPartition, offset: log.recoveryPoint });
        starts.set(name, { tp: log.topicPartition, offset: log.logStartOffset });
      }
      out.set(path.join(logDir, RECOVERY_POINT_CHECKPOINT_FILE), recovery);
      out.set(path.join(logDir, LOG_START_OFFSET_CHECKPOINT_FILE), starts);
    }
    return out;
  }

  /** Logs whose cleanup.policy includes compact (the cleaner's candidates). */
  compactedLogs(): PartitionLog[] {
    return this.allLogs().filter((l) => isCompacted(l.config));
  }

  /**
   * Clean shutdown: stops background work, flushes and closes every log, writes the checkpoints
   * and then the clean-shutdown marker, so the next start skips recovery.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.cleaner.stop();
    // A periodic write still running uses the same temporary files: let it finish first.
    await this.checkpointWriting?.catch(() => undefined);
    let allClean = true;
    // All logs close at once; their fsyncs queue for the pool's few fsync slots, so a shutdown
    // with many partitions takes (partitions / slots) fsyncs rather than one after another.
    await Promise.all(
      [...this.logs.values()].map(async ({ log }) => {
        try {
          await log.close();
        } catch (err) {
          allClean = false;
          this.events.warn({ dir: log.dir, err }, "log did not close cleanly");
        }
      }),
    );
    this.writeCheckpoints();
    if (allClean) {
      for (const logDir of this.logDirs) {
        const marker = path.join(logDir, CLEAN_SHUTDOWN_FILE);
        const fd = fs.openSync(marker, "w");
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fsyncDir(logDir);
      }
    }
    this.pool.closeAll();
  }

  private checkRunning(): void {
    if (!this.started) throw new KrillError("STATE", "LogManager not started");
    if (this.stopped) throw new KrillError("STATE", "LogManager is shut down");
  }
}

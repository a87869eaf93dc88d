/**
 * Per-topic log configuration, named as Kafka names it (`segment.bytes`, `retention.ms`, ...), plus
 * one Krill option. `LogConfig` is an immutable value: a `PartitionLog` holds one and swaps it for a
 * new one when a topic's config changes at runtime, so a reader of a config never sees it half
 * updated.
 */
import { KrillError } from "../errors.js";

/** Kafka's `Long.MAX_VALUE` defaults ("never") are represented by the largest safe integer. */
export const NEVER = Number.MAX_SAFE_INTEGER;

/** "" (an empty list, Kafka 4.x) neither deletes by retention nor compacts: the log is kept whole. */
export type CleanupPolicy = "delete" | "compact" | "compact,delete" | "";

export interface LogConfig {
  /** `segment.bytes`: roll the active segment when an append would make it larger than this. */
  readonly segmentBytes: number;
  /** `segment.ms`: roll the active segment once its first batch is this old. */
  readonly segmentMs: number;
  /** `segment.index.bytes`: size the offset and time indexes are preallocated to; full index rolls. */
  readonly segmentIndexBytes: number;
  /** `index.interval.bytes`: bytes appended between two sparse index entries. */
  readonly indexIntervalBytes: number;
  /** `retention.ms`: delete closed segments whose newest timestamp is older than this; -1 keeps all. */
  readonly retentionMs: number;
  /** `retention.bytes`: delete the oldest closed segments while the partition is larger; -1 keeps all. */
  readonly retentionBytes: number;
  /** `cleanup.policy`. */
  readonly cleanupPolicy: CleanupPolicy;
  /** `delete.retention.ms`: how long a compacted topic keeps tombstones once they are cleaned. */
  readonly deleteRetentionMs: number;
  /** `min.cleanable.dirty.ratio`: the cleaner only cleans a log whose dirty share reaches this. */
  readonly minCleanableDirtyRatio: number;
  /** `min.compaction.lag.ms`: records younger than this are never compacted. */
  readonly minCompactionLagMs: number;
  /**
   * `max.compaction.lag.ms`: a record may stay uncompacted at most this long; a compacted log with
   * older dirty records is cleaned whatever its dirty ratio, and its active segment rolls in time.
   */
  readonly maxCompactionLagMs: number;
  /** `flush.messages`: fsync after this many appended records. */
  readonly flushMessages: number;
  /** `flush.ms`: fsync once the oldest unflushed append is this old. */
  readonly flushMs: number;
  /**
   * `krill.fsync.before.ack` (Krill's own option): every append carries a promise that resolves
   * once its bytes are fsynced, for single-node users who need acknowledged data to survive power
   * loss. Appends that arrive while an fsync runs share the next one (group commit).
   */
  readonly fsyncBeforeAck: boolean;
}

export const DEFAULT_LOG_CONFIG: LogConfig = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: NEVER,
  flushMessages: NEVER,
  flushMs: NEVER,
  fsyncBeforeAck: false,
});

type Parser = (name: string, value: string) => LogConfig[keyof LogConfig];

function parseInteger(min: number, max = NEVER): Parser {
  return (name, value) => {
    const trimmed = value.trim();
    if (!/^-?\d+$/.test(trimmed)) throw invalid(name, value, "an integer");
    const big = BigInt(trimmed);
    // Kafka's Long.MAX_VALUE (and anything beyond a safe integer) means "never".
    if (big > BigInt(NEVER)) return max === NEVER ? NEVER : fail(name, value, `at most ${max}`);
    const n = Number(big);
    if (n < min || n > max) throw invalid(name, value, `between ${min} and ${max}`);
    return n;
  };
}

function fail(name: string, value: string, expected: string): never {
  throw invalid(name, value, expected);
}

function invalid(name: string, value: string, expected: string): KrillError {
  return new KrillError(
    "CONFIG_INVALID",
    `Invalid value ${JSON.stringify(value)} for ${name}: expected ${expected}`,
  );
}

const INT32_MAX = 2 ** 31 - 1;

/** Kafka config name -> (field, parser). The closed set of log configs this module understands. */
export const LOG_CONFIG_NAMES: Readonly<Record<string, readonly [keyof LogConfig, Parser]>> = Object.freeze({
  "segment.bytes": ["segmentBytes", parseInteger(14, INT32_MAX)],
  "segment.ms": ["segmentMs", parseInteger(1)],
  "segment.index.bytes": ["segmentIndexBytes", parseInteger(12, INT32_MAX)],
  "index.interval.bytes": ["indexIntervalBytes", parseInteger(0, INT32_MAX)],
  "retention.ms": ["retentionMs", parseInteger(-1)],
  "retention.bytes": ["retentionBytes", parseInteger(-1)],
  "cleanup.policy": [
    "cleanupPolicy",
    (name, value) => {
      const parts = new Set(
        value
          .split(",")
          .map((p) => p.trim().toLowerCase())
          .filter((p) => p !== ""),
      );
      for (const p of parts)
        if (p !== "delete" && p !== "compact") fail(name, value, "delete and/or compact, or empty");
      if (parts.size === 0) return "";
      if (parts.size === 2) return "compact,delete";
      return parts.has("compact") ? "compact" : "delete";
    },
  ],
  "delete.retention.ms": ["deleteRetentionMs", parseInteger(0)],
  "min.cleanable.dirty.ratio": [
    "minCleanableDirtyRatio",
    (name, value) => {
      const n = Number(value.trim());
      if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
        fail(name, value, "a number in [0, 1]");
      return n;
    },
  ],
  "min.compaction.lag.ms": ["minCompactionLagMs", parseInteger(0)],
  "max.compaction.lag.ms": ["maxCompactionLagMs", parseInteger(1)],
  "flush.messages": ["flushMessages", parseInteger(1)],
  "flush.ms": ["flushMs", parseInteger(0)],
  "krill.fsync.before.ack": [
    "fsyncBeforeAck",
    (name, value) => {
      const v = value.trim().toLowerCase();
      if (v !== "true" && v !== "false") fail(name, value, "true or false");
      return v === "true";
    },
  ],
});

/**
 * A new config: `base` with the given Kafka-named overrides applied. Unknown names are rejected so a
 * typo is reported rather than silently ignored; callers that carry non-log topic configs filter
 * them with `isLogConfigName` first.
 */
export function logConfigFrom(
  overrides: Readonly<Record<string, string>>,
  base: LogConfig = DEFAULT_LOG_CONFIG,
): LogConfig {
  const out: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    const entry = LOG_CONFIG_NAMES[name];
    if (entry === undefined) throw new KrillError("CONFIG_INVALID", `Unknown log config ${name}`);
    out[entry[0]] = entry[1](name, value);
  }
  return Object.freeze(out as unknown as LogConfig);
}

export function isLogConfigName(name: string): boolean {
  return Object.hasOwn(LOG_CONFIG_NAMES, name);
}

export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy.includes("compact");
}

/** segment.ms as it applies: a compacted topic also rolls by max.compaction.lag.ms (Kafka). */
export function effectiveSegmentMs(config: LogConfig): number {
  return isCompacted(config) ? Math.min(config.segmentMs, config.maxCompactionLagMs) : config.segmentMs;
}

/**
 * Where the log reports what it repaired or deleted. A pino logger satisfies it; the default is
 * silent so library users opt in.
 */
export interface LogEvents {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export const SILENT_EVENTS: LogEvents = { info: () => {}, warn: () => {} };

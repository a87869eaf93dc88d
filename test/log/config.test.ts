import { describe, expect, it } from "vitest";
import {
  DEFAULT_LOG_CONFIG,
  isCompacted,
  isLogConfigName,
  logConfigFrom,
  NEVER,
} from "../../src/log/config.js";
import {
  isValidTopicName,
  parseOffsetFileName,
  parsePartitionDirName,
  segmentFileName,
} from "../../src/log/names.js";

describe("log config", () => {
  it("has Kafka's defaults and parses Kafka's names", () => {
    expect(DEFAULT_LOG_CONFIG).toMatchObject({
      segmentBytes: 1073741824,
      segmentMs: 604800000,
      segmentIndexBytes: 10485760,
      indexIntervalBytes: 4096,
      retentionMs: 604800000,
      retentionBytes: -1,
      cleanupPolicy: "delete",
      deleteRetentionMs: 86400000,
      minCleanableDirtyRatio: 0.5,
      minCompactionLagMs: 0,
      flushMessages: NEVER,
      flushMs: NEVER,
      fsyncBeforeAck: false,
    });
    const c = logConfigFrom({
      "cleanup.policy": "delete,compact",
      "retention.ms": "-1",
      "flush.messages": "9223372036854775807",
      "min.cleanable.dirty.ratio": "0.25",
      "krill.fsync.before.ack": "TRUE",
    });
    expect(c).toMatchObject({
      cleanupPolicy: "compact,delete",
      retentionMs: -1,
      flushMessages: NEVER,
      minCleanableDirtyRatio: 0.25,
      fsyncBeforeAck: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(isLogConfigName("segment.bytes")).toBe(true);
    expect(isLogConfigName("max.message.bytes")).toBe(false);
  });

  it("accepts an empty cleanup.policy as Kafka 4.x does: neither retention deletes nor compaction", () => {
    const c = logConfigFrom({ "cleanup.policy": "" });
    expect(c.cleanupPolicy).toBe("");
    expect(isCompacted(c)).toBe(false);
    expect(isCompacted(logConfigFrom({ "cleanup.policy": "delete,compact" }))).toBe(true);
  });

  it("rejects bad values and unknown names with CONFIG_INVALID", () => {
    for (const [name, value] of [
      ["segment.bytes", "10"],
      ["segment.bytes", "abc"],
      ["segment.bytes", "4294967296"],
      ["retention.ms", "-2"],
      ["cleanup.policy", "purge"],
      ["cleanup.policy", "delete,purge"],
      ["min.cleanable.dirty.ratio", "1.5"],
      ["krill.fsync.before.ack", "yes"],
      ["no.such.config", "1"],
    ] as const) {
      expect(() => logConfigFrom({ [name]: value }), `${name}=${value}`).toThrow(
        expect.objectContaining({ code: "CONFIG_INVALID" }),
      );
    }
  });
});

describe("names", () => {
  it("follow Kafka's layout", () => {
    expect(segmentFileName(1234, ".log")).toBe("00000000000000001234.log");
    expect(parseOffsetFileName("00000000000000001234.timeindex")).toEqual({
      offset: 1234,
      suffix: ".timeindex",
    });
    expect(parseOffsetFileName("00000000000000001234.log.swap")).toEqual({
      offset: 1234,
      suffix: ".log.swap",
    });
    expect(parseOffsetFileName("1234.log")).toBeUndefined();
    expect(parsePartitionDirName("my-topic-12")).toEqual({ topic: "my-topic", partition: 12 });
    expect(parsePartitionDirName("my-topic-12.abc-delete")).toBeUndefined();
    expect(parsePartitionDirName("topic")).toBeUndefined();
    expect(parsePartitionDirName("topic-x")).toBeUndefined();
    expect(isValidTopicName("a.b_c-1")).toBe(true);
    expect(isValidTopicName("..")).toBe(false);
    expect(isValidTopicName("a/b")).toBe(false);
    expect(isValidTopicName("x".repeat(250))).toBe(false);
  });
});

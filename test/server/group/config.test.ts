/** The group settings of the broker configuration: Kafka's defaults, validation, and their effect. */
import { describe, expect, it } from "vitest";
import { BrokerConfig } from "../../../src/config/broker-config.js";
import { isKrillError } from "../../../src/errors.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { groupCoordinatorConfigFrom } from "../../../src/server/group/coordinator-service.js";
import { offsetMetadataTooLarge } from "../../../src/server/group/group-coordinator.js";
import { client, commitRequest, consumerHeartbeat, EVERY_PARTITION, harness } from "./helpers.js";

function configError(overrides: Record<string, string>): string {
  try {
    BrokerConfig.create(overrides);
  } catch (err) {
    if (isKrillError(err, "CONFIG_INVALID")) return err.message;
    throw err;
  }
  throw new Error(`expected CONFIG_INVALID for ${JSON.stringify(overrides)}`);
}

describe("group settings in the broker configuration", () => {
  it("defaults to Kafka's values", () => {
    const settings = groupCoordinatorConfigFrom({ config: BrokerConfig.create({}) });
    expect(settings).toMatchObject({
      consumerProtocolEnabled: true,
      consumerSessionTimeoutMs: 45_000,
      consumerHeartbeatIntervalMs: 5_000,
      consumerMaxSize: 2_147_483_647,
      consumerAssignors: ["uniform", "range"],
      offsetMetadataMaxBytes: 4_096,
    });
    const config = BrokerConfig.create({});
    expect(config.int("group.consumer.min.session.timeout.ms")).toBe(45_000);
    expect(config.int("group.consumer.max.session.timeout.ms")).toBe(60_000);
    expect(config.int("group.consumer.min.heartbeat.interval.ms")).toBe(5_000);
    expect(config.int("group.consumer.max.heartbeat.interval.ms")).toBe(15_000);
    expect(config.int("transaction.abort.timed.out.transaction.cleanup.interval.ms")).toBe(10_000);
  });

  it("passes what is set to the coordinator", () => {
    const settings = groupCoordinatorConfigFrom({
      config: BrokerConfig.create({
        "group.consumer.session.timeout.ms": "50000",
        "group.consumer.heartbeat.interval.ms": "7000",
        "group.consumer.max.size": "3",
        "group.consumer.assignors": "org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform",
        "group.coordinator.rebalance.protocols": "classic",
        "offset.metadata.max.bytes": "10",
      }),
    });
    expect(settings).toMatchObject({
      consumerProtocolEnabled: false,
      consumerSessionTimeoutMs: 50_000,
      consumerHeartbeatIntervalMs: 7_000,
      consumerMaxSize: 3,
      consumerAssignors: ["range", "uniform"],
      offsetMetadataMaxBytes: 10,
    });
  });

  it("refuses what Kafka refuses, naming the key", () => {
    expect(configError({ "group.consumer.session.timeout.ms": "30000" })).toContain(
      "group.consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms",
    );
    expect(configError({ "group.consumer.session.timeout.ms": "70000" })).toContain(
      "less than or equal to group.consumer.max.session.timeout.ms",
    );
    expect(
      configError({
        "group.consumer.min.session.timeout.ms": "60000",
        "group.consumer.max.session.timeout.ms": "50000",
      }),
    ).toContain("group.consumer.max.session.timeout.ms must be greater than or equal");
    expect(configError({ "group.consumer.heartbeat.interval.ms": "4000" })).toContain(
      "group.consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms",
    );
    expect(configError({ "group.consumer.heartbeat.interval.ms": "16000" })).toContain(
      "less than or equal to group.consumer.max.heartbeat.interval.ms",
    );
    expect(
      configError({
        "group.consumer.min.session.timeout.ms": "1000",
        "group.consumer.session.timeout.ms": "5000",
      }),
    ).toContain("group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms");
    expect(configError({ "group.consumer.max.size": "0" })).toContain("group.consumer.max.size");
    expect(configError({ "group.consumer.assignors": "sticky" })).toContain("group.consumer.assignors");
    expect(configError({ "group.consumer.assignors": "uniform,uniform" })).toContain(
      "group.consumer.assignors",
    );
    // The class name and the short name are the same assignor.
    expect(
      configError({
        "group.consumer.assignors": "range,org.apache.kafka.coordinator.group.assignor.RangeAssignor",
      }),
    ).toContain("group.consumer.assignors");
    expect(configError({ "group.consumer.assignors": "" })).toContain("group.consumer.assignors");
    expect(configError({ "group.coordinator.rebalance.protocols": "consumer" })).toContain(
      "must include classic",
    );
    expect(configError({ "group.coordinator.rebalance.protocols": "classic,bogus" })).toContain(
      "group.coordinator.rebalance.protocols",
    );
    expect(configError({ "transaction.abort.timed.out.transaction.cleanup.interval.ms": "0" })).toContain(
      "transaction.abort.timed.out.transaction.cleanup.interval.ms",
    );
    // Kafka's own list, with protocols Krill does not implement, still loads.
    expect(() =>
      BrokerConfig.create({ "group.coordinator.rebalance.protocols": "classic,consumer,streams" }),
    ).not.toThrow();
  });
});

describe("the coordinator with those settings", () => {
  it("answers UNSUPPORTED_VERSION to KIP-848 requests when the consumer protocol is disabled", async () => {
    const { coordinator } = await harness({ consumerProtocolEnabled: false });
    const r = await coordinator.consumerGroupHeartbeat(consumerHeartbeat("app", "", 0), client("java", 1));
    expect(r.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(coordinator.consumerGroup("app")).toBeUndefined();
    expect(coordinator.consumerGroupDescribe(["app"])[0]?.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
  });

  it("applies offset.metadata.max.bytes, never to a null metadata", async () => {
    const { coordinator } = await harness({ offsetMetadataMaxBytes: 3 });
    const r = await coordinator.commitOffsets(
      commitRequest("tool", -1, "", [
        { topic: "t", partition: 0, offset: 5n, metadata: "abcd" },
        { topic: "t", partition: 1, offset: 5n, metadata: "abc" },
      ]),
      8,
      EVERY_PARTITION,
    );
    expect(r[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
    const negative = await harness({ offsetMetadataMaxBytes: -1 });
    const n = await negative.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [
        { topic: "t", partition: 0, offset: 5n, metadata: null },
        { topic: "t", partition: 1, offset: 5n, metadata: "" },
      ]),
      8,
      EVERY_PARTITION,
    );
    expect(n[0]!.partitions.map((p) => p.errorCode)).toEqual([0, ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  });

  it("measures metadata in UTF-8 bytes and never finds null too large (OffsetCommit and TxnOffsetCommit)", () => {
    expect(offsetMetadataTooLarge(null, -1)).toBe(false);
    expect(offsetMetadataTooLarge("", 0)).toBe(false);
    expect(offsetMetadataTooLarge("", -1)).toBe(true);
    expect(offsetMetadataTooLarge("abc", 3)).toBe(false);
    expect(offsetMetadataTooLarge("abcd", 3)).toBe(true);
    expect(offsetMetadataTooLarge("\u00e9", 1)).toBe(true);
  });
});

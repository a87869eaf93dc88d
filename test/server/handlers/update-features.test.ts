/**
 * UpdateFeatures (57) on the wire: levels recorded and reported by ApiVersions, validate-only,
 * v0-1 per-feature results, Kafka's refusals, and the effect of group.version 0 (the consumer
 * protocol off: UNSUPPORTED_VERSION) and of kraft.version (the metadata log's, reported as
 * finalized).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import {
  API_VERSIONS_API,
  CONSUMER_GROUP_DESCRIBE_API,
  CONSUMER_GROUP_HEARTBEAT_API,
  UPDATE_FEATURES_API,
} from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { RawClient } from "../partitions/raw-client.js";

let broker: BrokerHandle;
let raw: RawClient;

beforeAll(async () => {
  broker = await startBroker({ "num.partitions": 1 });
  raw = await RawClient.connect(broker.port, broker.host);
});

afterAll(async () => {
  await raw?.close();
  await broker?.stop();
});

async function finalized(): Promise<Record<string, number>> {
  const res = await raw.request(API_VERSIONS_API, 4, {
    clientSoftwareName: "t",
    clientSoftwareVersion: "1",
    clusterId: null,
    nodeId: -1,
  });
  return Object.fromEntries(res.finalizedFeatures.map((f) => [f.name, f.maxVersionLevel]));
}

const update = (
  version: number,
  updates: { feature: string; level: number; type: number; allowDowngrade?: boolean }[],
  validateOnly = false,
) =>
  raw.request(UPDATE_FEATURES_API, version, {
    timeoutMs: 10_000,
    featureUpdates: updates.map((u) => ({
      feature: u.feature,
      maxVersionLevel: u.level,
      allowDowngrade: u.allowDowngrade ?? false,
      upgradeType: u.type,
    })),
    validateOnly,
  });

describe("UpdateFeatures", () => {
  it("reports Krill's defaults and kraft.version of a node formatted --standalone", async () => {
    expect(await finalized()).toEqual({
      "group.version": 1,
      "kraft.version": 1,
      "metadata.version": 25,
      "transaction.version": 2,
    });
  });

  it("records a downgrade and an upgrade; validate-only changes nothing", async () => {
    const dry = await update(2, [{ feature: "transaction.version", level: 1, type: 2 }], true);
    expect(dry).toMatchObject({ errorCode: 0, errorMessage: null, results: [] });
    expect((await finalized())["transaction.version"]).toBe(2);
    expect((await update(2, [{ feature: "transaction.version", level: 1, type: 2 }])).errorCode).toBe(0);
    expect((await finalized())["transaction.version"]).toBe(1);
    // v0: AllowDowngrade; v0-1 answer per feature.
    const v0 = await update(0, [{ feature: "transaction.version", level: 2, type: 1 }]);
    expect(v0.results).toEqual([{ feature: "transaction.version", errorCode: 0, errorMessage: null }]);
    expect((await finalized())["transaction.version"]).toBe(2);
  });

  it("refuses with Kafka's errors, all or nothing", async () => {
    const res = await update(1, [
      { feature: "group.version", level: 0, type: 2 },
      { feature: "transaction.version", level: 3, type: 1 },
    ]);
    expect(res.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    expect(res.errorMessage).toBe(
      "The update failed for all features since the following feature had an error: Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2",
    );
    expect(res.results.map((r) => [r.feature, r.errorCode])).toEqual([
      ["group.version", ErrorCode.INVALID_UPDATE_VERSION],
      ["transaction.version", ErrorCode.INVALID_UPDATE_VERSION],
    ]);
    // The valid half was not applied.
    expect((await finalized())["group.version"]).toBe(1);
    const kraft = await update(2, [{ feature: "kraft.version", level: 0, type: 2 }]);
    expect(kraft.errorMessage).toContain(
      "Invalid update version 0 for feature kraft.version. Can't downgrade",
    );
  });

  it("group.version 0 turns the consumer protocol off, as Kafka does", async () => {
    expect((await update(2, [{ feature: "group.version", level: 0, type: 2 }])).errorCode).toBe(0);
    expect((await finalized())["group.version"]).toBeUndefined();
    const heartbeat = await raw.request(CONSUMER_GROUP_HEARTBEAT_API, 0, {
      groupId: "g",
      memberId: "m",
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: ["t"],
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: [],
    });
    expect(heartbeat.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    const described = await raw.request(CONSUMER_GROUP_DESCRIBE_API, 0, {
      groupIds: ["g"],
      includeAuthorizedOperations: false,
    });
    expect(described.groups.map((g) => [g.groupId, g.errorCode])).toEqual([
      ["g", ErrorCode.UNSUPPORTED_VERSION],
    ]);
    expect((await update(2, [{ feature: "group.version", level: 1, type: 1 }])).errorCode).toBe(0);
    const again = await raw.request(CONSUMER_GROUP_DESCRIBE_API, 0, {
      groupIds: ["g"],
      includeAuthorizedOperations: false,
    });
    expect(again.groups[0]!.errorCode).not.toBe(ErrorCode.UNSUPPORTED_VERSION);
  });
});

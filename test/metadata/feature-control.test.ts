/**
 * UpdateFeatures' validation (feature-control.ts) against the answers Kafka 4.4.0 gives for the
 * same `kafka-features` commands (recorded from a single-node Kafka 4.4.0 broker; Krill's levels
 * and ranges where they differ: metadata.version 7-25, ELR/share/streams 0-0).
 */
import { describe, expect, it } from "vitest";
import { planFeatureUpdates, UpgradeType } from "../../src/metadata/feature-control.js";
import { ErrorCode } from "../../src/protocol/generated/error-codes.js";

const CURRENT = new Map([
  ["metadata.version", 25],
  ["group.version", 1],
  ["transaction.version", 2],
  ["kraft.version", 1],
]);
const PREFIX = "The update failed for all features since the following feature had an error: ";

function plan(updates: [string, number, number][], current = CURRENT) {
  return planFeatureUpdates(
    updates.map(([feature, maxVersionLevel, upgradeType]) => ({ feature, maxVersionLevel, upgradeType })),
    current,
    1,
  );
}

describe("planFeatureUpdates", () => {
  it("records upgrades, safe downgrades and disables (level 0) of the features Krill runs", () => {
    expect(plan([["transaction.version", 2, UpgradeType.UPGRADE]])).toEqual({
      result: { errorCode: 0, errorMessage: null },
      records: [{ type: "FeatureLevel", data: { name: "transaction.version", featureLevel: 2 } }],
    });
    expect(plan([["transaction.version", 1, UpgradeType.SAFE_DOWNGRADE]]).records).toEqual([
      { type: "FeatureLevel", data: { name: "transaction.version", featureLevel: 1 } },
    ]);
    expect(plan([["group.version", 0, UpgradeType.UNSAFE_DOWNGRADE]]).records).toEqual([
      { type: "FeatureLevel", data: { name: "group.version", featureLevel: 0 } },
    ]);
    // metadata.version down across levels that did not change the metadata (25 -> 23).
    expect(plan([["metadata.version", 23, UpgradeType.SAFE_DOWNGRADE]]).result.errorCode).toBe(0);
  });

  it("refuses with Kafka's messages, and then records nothing", () => {
    const refused = (updates: [string, number, number][], message: string) => {
      const { result, records } = plan(updates);
      expect(result).toEqual({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: PREFIX + message });
      expect(records).toEqual([]);
    };
    refused(
      [["transaction.version", 3, UpgradeType.UPGRADE]],
      "Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2",
    );
    refused(
      [["transaction.version", 3, UpgradeType.SAFE_DOWNGRADE]],
      "Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2",
    );
    refused(
      [["foo.bar", 1, UpgradeType.UPGRADE]],
      "Invalid update version 1 for feature foo.bar. Local controller 1 does not support this feature.",
    );
    refused(
      [
        ["group.version", 1, UpgradeType.UPGRADE],
        ["transaction.version", 1, UpgradeType.UPGRADE],
      ],
      "Invalid update version 1 for feature transaction.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
    );
    refused(
      [["kraft.version", 0, UpgradeType.SAFE_DOWNGRADE]],
      "Invalid update version 0 for feature kraft.version. Can't downgrade the version of this feature.",
    );
    refused(
      [["metadata.version", 21, UpgradeType.SAFE_DOWNGRADE]],
      "Unsupported metadata.version downgrade from 25 to 21. Refusing to perform the requested downgrade because it might delete metadata information.",
    );
    refused(
      [["eligible.leader.replicas.version", 1, UpgradeType.UPGRADE]],
      "Invalid update version 1 for feature eligible.leader.replicas.version. Local controller 1 only supports versions 0-0",
    );
    refused(
      [["group.version", 1, 4]],
      "Invalid update version 1 for feature group.version. The controller does not support the given upgrade type.",
    );
    refused(
      [["share.version", -1, UpgradeType.SAFE_DOWNGRADE]],
      "Invalid update version -1 for feature share.version. A feature version cannot be less than 0.",
    );
  });

  it("keeps kraft.version out of the records: the level in force is accepted, an upgrade of static voters refused", () => {
    expect(plan([["kraft.version", 1, UpgradeType.UPGRADE]])).toEqual({
      result: { errorCode: 0, errorMessage: null },
      records: [],
    });
    const staticVoters = new Map([...CURRENT, ["kraft.version", 0]]);
    expect(plan([["kraft.version", 1, UpgradeType.UPGRADE]], staticVoters).result.errorCode).toBe(
      ErrorCode.INVALID_UPDATE_VERSION,
    );
  });
});

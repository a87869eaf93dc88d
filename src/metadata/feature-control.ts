/**
 * UpdateFeatures on the controller (Kafka's FeatureControlManager.updateFeatures and
 * QuorumFeatures): validates each requested level against what this node supports and the level
 * in force, and turns the accepted ones into FeatureLevelRecords. All or nothing: the first
 * refused update fails the whole request, as Kafka's controller answers it. Pure: the controller
 * proposes the records.
 *
 * Rules, in Kafka's order, each refusal INVALID_UPDATE_VERSION with Kafka's message:
 * - the upgrade type must be UPGRADE (1), SAFE_DOWNGRADE (2) or UNSAFE_DOWNGRADE (3);
 * - the level must be >= 0 and within what this node supports (SUPPORTED_FEATURES; a feature it
 *   does not know is refused);
 * - a lower level needs a downgrade type, a higher one the upgrade type;
 * - metadata.version: a downgrade only across levels that did not change the metadata format
 *   (MetadataVersion.checkIfMetadataChanged), never an unsafe one;
 * - kraft.version lives in the metadata log's control records, not in a FeatureLevelRecord: the
 *   level in force may be asked for again (no record), a downgrade is refused as Kafka refuses it,
 *   and an upgrade is refused because Krill's quorum runs static voters only.
 * Feature dependencies (Kafka's Features.validateVersion) concern only levels Krill does not
 * support (eligible.leader.replicas.version 1 needs metadata.version 23), so none is checked.
 */
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { KRAFT_VERSION_FEATURE, METADATA_VERSION_FEATURE, SUPPORTED_FEATURES } from "./features.js";
import type { MetadataRecord } from "./records.js";

/** FeatureUpdate.UpgradeType's wire values. */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

export interface FeatureUpdate {
  readonly feature: string;
  readonly maxVersionLevel: number;
  /** 1 upgrade, 2 safe downgrade, 3 unsafe downgrade (UpdateFeatures v1+; v0's AllowDowngrade maps to 2). */
  readonly upgradeType: number;
}

export interface FeatureUpdateResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * metadata.version levels Krill supports (7 to 25) whose release changed the metadata format
 * (Kafka's MetadataVersion.didMetadataChange): a downgrade may not cross one of them.
 */
const METADATA_CHANGED = new Set([7, 8, 11, 13, 14, 15, 17, 23]);

/** Kafka's MetadataVersion.checkIfMetadataChanged for levels low <= high. */
function metadataChangedBetween(high: number, low: number): boolean {
  let version = high;
  while (!METADATA_CHANGED.has(version) && version > low) version--;
  return version !== low;
}

function invalidUpdate(feature: string, level: number, message: string): FeatureUpdateResult {
  return {
    errorCode: ErrorCode.INVALID_UPDATE_VERSION,
    errorMessage: `Invalid update version ${level} for feature ${feature}. ${message}`,
  };
}

const OK: FeatureUpdateResult = { errorCode: ErrorCode.NONE, errorMessage: null };

/**
 * Checks one update against `current` (the finalized level of every feature, 0 when off) and
 * adds its record to `records`.
 */
function planOne(
  update: FeatureUpdate,
  current: ReadonlyMap<string, number>,
  nodeId: number,
  records: MetadataRecord[],
): FeatureUpdateResult {
  const { feature, maxVersionLevel: level, upgradeType } = update;
  if (
    upgradeType !== UpgradeType.UPGRADE &&
    upgradeType !== UpgradeType.SAFE_DOWNGRADE &&
    upgradeType !== UpgradeType.UNSAFE_DOWNGRADE
  ) {
    return invalidUpdate(feature, level, "The controller does not support the given upgrade type.");
  }
  const currentLevel = current.get(feature) ?? 0;
  if (level < 0) return invalidUpdate(feature, level, "A feature version cannot be less than 0.");
  const supported = SUPPORTED_FEATURES.find((f) => f.name === feature);
  if (supported === undefined) {
    return invalidUpdate(feature, level, `Local controller ${nodeId} does not support this feature.`);
  }
  if (level < supported.minVersion || level > supported.maxVersion) {
    return invalidUpdate(
      feature,
      level,
      `Local controller ${nodeId} only supports versions ${supported.minVersion}-${supported.maxVersion}`,
    );
  }
  if (feature === KRAFT_VERSION_FEATURE) {
    if (level < currentLevel)
      return invalidUpdate(feature, level, "Can't downgrade the version of this feature.");
    if (level > currentLevel) {
      return invalidUpdate(
        feature,
        level,
        "Krill's metadata quorum runs static voters (kraft.version 0) only; it cannot be upgraded.",
      );
    }
    return OK;
  }
  if (level < currentLevel && upgradeType === UpgradeType.UPGRADE) {
    return invalidUpdate(
      feature,
      level,
      "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
    );
  }
  if (level > currentLevel && upgradeType !== UpgradeType.UPGRADE) {
    return invalidUpdate(feature, level, "Can't downgrade to a newer version.");
  }
  if (
    feature === METADATA_VERSION_FEATURE &&
    level < currentLevel &&
    metadataChangedBetween(currentLevel, level)
  ) {
    const reason =
      upgradeType === UpgradeType.UNSAFE_DOWNGRADE
        ? "Unsafe metadata downgrade is not supported in this version."
        : "Refusing to perform the requested downgrade because it might delete metadata information.";
    return {
      errorCode: ErrorCode.INVALID_UPDATE_VERSION,
      errorMessage: `Unsupported metadata.version downgrade from ${currentLevel} to ${level}. ${reason}`,
    };
  }
  records.push({ type: "FeatureLevel", data: { name: feature, featureLevel: level } });
  return OK;
}

/**
 * The records of an UpdateFeatures request (none when validating only or refused) and its one
 * answer: every update must pass, or none is applied.
 */
export function planFeatureUpdates(
  updates: readonly FeatureUpdate[],
  current: ReadonlyMap<string, number>,
  nodeId: number,
): { result: FeatureUpdateResult; records: MetadataRecord[] } {
  const records: MetadataRecord[] = [];
  for (const update of updates) {
    const result = planOne(update, current, nodeId, records);
    if (result.errorCode !== ErrorCode.NONE) {
      return {
        result: {
          errorCode: result.errorCode,
          errorMessage: `The update failed for all features since the following feature had an error: ${result.errorMessage}`,
        },
        records: [],
      };
    }
  }
  return { result: OK, records };
}

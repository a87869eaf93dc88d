/**
 * Feature levels this broker supports and finalizes (Kafka's MetadataVersion and the
 * server-common Features enum), as ApiVersions and `kafka-features describe` report them.
 *
 * metadata.version: from 3.3-IV3 (7), the oldest Kafka 4.0 accepts, to 4.0-IV3 (25), Kafka 4.0's
 * newest production level, which a fresh cluster finalizes; its finalized level is the one
 * recorded in the metadata log (FeatureLevelRecord).
 *
 * The other features Kafka 4.4 knows, each at the range Krill implements. Their level in force
 * is the one recorded by a FeatureLevelRecord (UpdateFeatures, `kafka-features upgrade/downgrade`,
 * feature-control.ts), else Krill's default level for it:
 * - group.version 0-1, default 1: the consumer group protocol (KIP-848); at 0,
 *   ConsumerGroupHeartbeat and ConsumerGroupDescribe answer UNSUPPORTED_VERSION, as Kafka's do.
 * - kraft.version 0-1: the metadata log's format (KIP-853 dynamic quorum records); the level in
 *   force lives in the log's control records, not in the metadata image: 1 for a single node
 *   formatted as `kafka-storage format --standalone` formats it, 0 for static voters.
 * - transaction.version 0-2, finalized at 2 as a fresh Kafka 4.4 cluster: transactions v2
 *   (KIP-890 part 2: an epoch bump at every transaction end, EndTxn v5, partitions joining the
 *   transaction implicitly with Produce v12+ and TxnOffsetCommit v5+); Java 4.x clients use it when
 *   they see level 2 finalized, v1 below it; the coordinator's own aborts follow the level.
 * - eligible.leader.replicas.version, share.version, streams.version 0-0: no ELR (KIP-966), share
 *   groups (KIP-932) or streams groups (KIP-1071).
 * A level 0 is never listed as finalized, as in Kafka (a feature at 0 is off).
 */
export const METADATA_VERSION_FEATURE = "metadata.version";
export const TRANSACTION_VERSION_FEATURE = "transaction.version";
export const GROUP_VERSION_FEATURE = "group.version";
export const KRAFT_VERSION_FEATURE = "kraft.version";
export const METADATA_VERSION_MIN = 7;
export const METADATA_VERSION_LATEST = 25;

export interface SupportedFeature {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The level Krill runs at while the metadata log records none; 0 = off. */
  readonly defaultLevel?: number;
}

/** Every feature Kafka 4.4 reports, in Kafka's order of names. */
export const SUPPORTED_FEATURES: readonly SupportedFeature[] = [
  { name: "eligible.leader.replicas.version", minVersion: 0, maxVersion: 0, defaultLevel: 0 },
  { name: GROUP_VERSION_FEATURE, minVersion: 0, maxVersion: 1, defaultLevel: 1 },
  { name: KRAFT_VERSION_FEATURE, minVersion: 0, maxVersion: 1 },
  { name: METADATA_VERSION_FEATURE, minVersion: METADATA_VERSION_MIN, maxVersion: METADATA_VERSION_LATEST },
  { name: "share.version", minVersion: 0, maxVersion: 0, defaultLevel: 0 },
  { name: "streams.version", minVersion: 0, maxVersion: 0, defaultLevel: 0 },
  { name: TRANSACTION_VERSION_FEATURE, minVersion: 0, maxVersion: 2, defaultLevel: 2 },
];

/**
 * Finalized levels above 0, in Kafka's order of names: those recorded in the metadata image, else
 * the defaults; kraft.version is the metadata log's (`kraftVersion`).
 */
export function finalizedFeatures(
  recorded: ReadonlyMap<string, number>,
  kraftVersion = 0,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of SUPPORTED_FEATURES) {
    const level = f.name === KRAFT_VERSION_FEATURE ? kraftVersion : (recorded.get(f.name) ?? f.defaultLevel);
    if (level !== undefined && level > 0) out.set(f.name, level);
  }
  return out;
}

/** The finalized level of one feature (0 when off or unknown). */
export function finalizedLevel(recorded: ReadonlyMap<string, number>, name: string): number {
  return finalizedFeatures(recorded).get(name) ?? 0;
}

/**
 * The feature ranges this broker registers with (BrokerRegistration `Features`): every supported
 * feature. The controller refuses a registration that does not cover every finalized level.
 */
export function registrationFeatures(): {
  name: string;
  minSupportedVersion: number;
  maxSupportedVersion: number;
}[] {
  return SUPPORTED_FEATURES.map((f) => ({
    name: f.name,
    minSupportedVersion: f.minVersion,
    maxSupportedVersion: f.maxVersion,
  }));
}

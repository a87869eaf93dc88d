/**
 * Feature levels this broker supports and finalizes (Kafka's MetadataVersion): metadata.version
 * from 3.3-IV3 (7), the oldest Kafka 4.0 accepts, to 4.0-IV3 (25), Kafka 4.0's newest production
 * level, which a fresh cluster finalizes.
 */
export const METADATA_VERSION_FEATURE = "metadata.version";
export const METADATA_VERSION_MIN = 7;
export const METADATA_VERSION_LATEST = 25;

/**
 * The feature ranges this broker registers with (BrokerRegistration `Features`). The controller
 * refuses a registration that does not cover every finalized feature level, so a feature Krill
 * starts finalizing must be added here.
 */
export const SUPPORTED_FEATURES: readonly {
  readonly name: string;
  readonly minSupportedVersion: number;
  readonly maxSupportedVersion: number;
}[] = [
  {
    name: METADATA_VERSION_FEATURE,
    minSupportedVersion: METADATA_VERSION_MIN,
    maxSupportedVersion: METADATA_VERSION_LATEST,
  },
];

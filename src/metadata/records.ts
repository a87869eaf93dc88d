/**
 * The metadata records Krill writes, in Kafka's terms (metadata/*.json specs: TopicRecord,
 * PartitionRecord, ...). In memory they are a tagged union; `record-serde.ts` turns each into the
 * spec's wire form (Kafka's metadata record framing: frame version, api key, version, body) for
 * the metadata log.
 */
import type { AclRecordData } from "./acls.js";

/** Config resource types as ConfigRecord stores them (Kafka's ConfigResource.Type). */
export const CONFIG_RESOURCE_TYPE = { TOPIC: 2, BROKER: 4 } as const;

export interface TopicRecordData {
  readonly name: string;
  readonly topicId: string;
}

export interface PartitionRecordData {
  readonly partitionId: number;
  readonly topicId: string;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** Kafka's LeaderRecoveryState: RECOVERED 0, RECOVERING 1 (after an unclean election). */
  readonly leaderRecoveryState: number;
}

/** Kafka's LeaderRecoveryState values. */
export const LEADER_RECOVERY_STATE = { RECOVERED: 0, RECOVERING: 1 } as const;
/** Partition leader meaning "no leader" (Kafka's LeaderConstants.NO_LEADER). */
export const NO_LEADER = -1;

/**
 * Only the fields present change; Kafka's PartitionChangeRecord (on the wire leader -2 =
 * unchanged, leaderRecoveryState -1 = unchanged). A present `leader` (even the same one) bumps the
 * leader epoch; every change bumps the partition epoch.
 */
export interface PartitionChangeRecordData {
  readonly partitionId: number;
  readonly topicId: string;
  readonly isr?: readonly number[];
  readonly leader?: number;
  readonly replicas?: readonly number[];
  readonly leaderRecoveryState?: number;
}

export interface ConfigRecordData {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly name: string;
  /** null removes the override. */
  readonly value: string | null;
}

export interface RemoveTopicRecordData {
  readonly topicId: string;
}

export interface ProducerIdsRecordData {
  readonly brokerId: number;
  readonly brokerEpoch: bigint;
  /** First producer id not yet handed out. */
  readonly nextProducerId: bigint;
}

export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Kafka's SecurityProtocol id: PLAINTEXT 0, SSL 1, SASL_PLAINTEXT 2, SASL_SSL 3. */
  readonly securityProtocol: number;
}

/** A feature's supported range, as a broker registers it. */
export interface BrokerFeatureRange {
  readonly name: string;
  readonly minSupportedVersion: number;
  readonly maxSupportedVersion: number;
}

export interface RegisterBrokerRecordData {
  readonly brokerId: number;
  readonly incarnationId: string;
  readonly brokerEpoch: bigint;
  readonly endPoints: readonly BrokerEndpoint[];
  readonly features: readonly BrokerFeatureRange[];
  readonly rack: string | null;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  /** Log directory ids (KIP-858); empty when the broker does not report them. */
  readonly logDirs: readonly string[];
}

/**
 * Kafka's BrokerRegistrationChangeRecord (what Kafka writes for fencing, unfencing and
 * controlled shutdown since MV 3.3); an absent field is unchanged. Krill also reads the older
 * FenceBrokerRecord / UnfenceBrokerRecord as this record.
 */
export interface BrokerRegistrationChangeRecordData {
  readonly brokerId: number;
  readonly brokerEpoch: bigint;
  readonly fenced?: boolean;
  readonly inControlledShutdown?: boolean;
}

export interface FeatureLevelRecordData {
  readonly name: string;
  readonly featureLevel: number;
}

/** Kafka's UserScramCredentialRecord: mechanism 1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512. */
export interface UserScramCredentialRecordData {
  readonly name: string;
  readonly mechanism: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

export interface RemoveUserScramCredentialRecordData {
  readonly name: string;
  readonly mechanism: number;
}

/** Kafka's AccessControlEntryRecord: one ACL binding with its id (acls.ts). */
export type AccessControlEntryRecordData = AclRecordData;

export interface RemoveAccessControlEntryRecordData {
  readonly id: string;
}

/** Kafka's ClientQuotaRecord: one quota key of one entity set (or removed); client-quotas.ts. */
export interface ClientQuotaRecordData {
  readonly entity: ReadonlyArray<{ readonly entityType: string; readonly entityName: string | null }>;
  readonly key: string;
  readonly value: number;
  readonly remove: boolean;
}

export type MetadataRecord =
  | { readonly type: "Topic"; readonly data: TopicRecordData }
  | { readonly type: "Partition"; readonly data: PartitionRecordData }
  | { readonly type: "PartitionChange"; readonly data: PartitionChangeRecordData }
  | { readonly type: "Config"; readonly data: ConfigRecordData }
  | { readonly type: "RemoveTopic"; readonly data: RemoveTopicRecordData }
  | { readonly type: "ProducerIds"; readonly data: ProducerIdsRecordData }
  | { readonly type: "RegisterBroker"; readonly data: RegisterBrokerRecordData }
  | { readonly type: "BrokerRegistrationChange"; readonly data: BrokerRegistrationChangeRecordData }
  | { readonly type: "FeatureLevel"; readonly data: FeatureLevelRecordData }
  | { readonly type: "UserScramCredential"; readonly data: UserScramCredentialRecordData }
  | { readonly type: "RemoveUserScramCredential"; readonly data: RemoveUserScramCredentialRecordData }
  | { readonly type: "AccessControlEntry"; readonly data: AccessControlEntryRecordData }
  | { readonly type: "RemoveAccessControlEntry"; readonly data: RemoveAccessControlEntryRecordData }
  | { readonly type: "ClientQuota"; readonly data: ClientQuotaRecordData };

/** A record with the metadata log offset it was written at. */
export interface MetadataLogEntry {
  readonly offset: number;
  readonly record: MetadataRecord;
}

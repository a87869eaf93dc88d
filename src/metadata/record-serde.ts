/**
 * Serializes metadata records as Kafka's MetadataRecordSerde does: unsigned varints for the frame
 * version (1), the record type (the spec's apiKey) and the record version, then the record body
 * from the generated codec. Decoding accepts every version the specs define.
 */
import { KrillError } from "../errors.js";
import type { AccessControlEntryRecord } from "../protocol/generated/access-control-entry-record.js";
import type { BrokerRegistrationChangeRecord } from "../protocol/generated/broker-registration-change-record.js";
import type { ClientQuotaRecord } from "../protocol/generated/client-quota-record.js";
import type { ConfigRecord } from "../protocol/generated/config-record.js";
import { defaultConfigRecord } from "../protocol/generated/config-record.js";
import type { FeatureLevelRecord } from "../protocol/generated/feature-level-record.js";
import { defaultFeatureLevelRecord } from "../protocol/generated/feature-level-record.js";
import type { FenceBrokerRecord } from "../protocol/generated/fence-broker-record.js";
import { MetadataRecordType, metadataRecordCodec } from "../protocol/generated/metadata-records.js";
import {
  defaultPartitionChangeRecord,
  type PartitionChangeRecord,
} from "../protocol/generated/partition-change-record.js";
import { defaultPartitionRecord, type PartitionRecord } from "../protocol/generated/partition-record.js";
import {
  defaultProducerIdsRecord,
  type ProducerIdsRecord,
} from "../protocol/generated/producer-ids-record.js";
import {
  defaultRegisterBrokerRecord,
  defaultRegisterBrokerRecordBrokerEndpoint,
  type RegisterBrokerRecord,
} from "../protocol/generated/register-broker-record.js";
import type { RemoveAccessControlEntryRecord } from "../protocol/generated/remove-access-control-entry-record.js";
import type { RemoveTopicRecord } from "../protocol/generated/remove-topic-record.js";
import type { RemoveUserScramCredentialRecord } from "../protocol/generated/remove-user-scram-credential-record.js";
import { defaultTopicRecord, type TopicRecord } from "../protocol/generated/topic-record.js";
import type { UnfenceBrokerRecord } from "../protocol/generated/unfence-broker-record.js";
import type { UserScramCredentialRecord } from "../protocol/generated/user-scram-credential-record.js";
import { Reader } from "../protocol/primitives/reader.js";
import { Writer } from "../protocol/primitives/writer.js";
import type { RecordSerde } from "./local-metadata-log.js";
import type { MetadataRecord } from "./records.js";

const FRAME_VERSION = 1;

/** Kafka's leader value in PartitionChangeRecord meaning "unchanged". */
const NO_LEADER_CHANGE = -2;
/** Kafka's LeaderRecoveryState.NO_CHANGE in PartitionChangeRecord. */
const NO_RECOVERY_STATE_CHANGE = -1;
/** BrokerRegistrationChangeRecord.Fenced: -1 unfenced, 0 unchanged, 1 fenced. */
const FENCE = 1;
const UNFENCE = -1;

function toWire(record: MetadataRecord): { type: number; version: number; body: unknown } {
  switch (record.type) {
    case "Topic":
      return {
        type: MetadataRecordType.TopicRecord,
        version: 0,
        body: { ...defaultTopicRecord(), ...record.data },
      };
    case "Partition": {
      const d = record.data;
      const body: PartitionRecord = {
        ...defaultPartitionRecord(),
        partitionId: d.partitionId,
        topicId: d.topicId,
        replicas: [...d.replicas],
        isr: [...d.isr],
        leader: d.leader,
        leaderEpoch: d.leaderEpoch,
        partitionEpoch: d.partitionEpoch,
        leaderRecoveryState: d.leaderRecoveryState,
      };
      return { type: MetadataRecordType.PartitionRecord, version: 0, body };
    }
    case "PartitionChange": {
      const d = record.data;
      const body: PartitionChangeRecord = {
        ...defaultPartitionChangeRecord(),
        partitionId: d.partitionId,
        topicId: d.topicId,
        isr: d.isr ? [...d.isr] : null,
        leader: d.leader ?? NO_LEADER_CHANGE,
        replicas: d.replicas ? [...d.replicas] : null,
        leaderRecoveryState: d.leaderRecoveryState ?? NO_RECOVERY_STATE_CHANGE,
      };
      return { type: MetadataRecordType.PartitionChangeRecord, version: 0, body };
    }
    case "Config":
      return {
        type: MetadataRecordType.ConfigRecord,
        version: 0,
        body: { ...defaultConfigRecord(), ...record.data },
      };
    case "RemoveTopic":
      return {
        type: MetadataRecordType.RemoveTopicRecord,
        version: 0,
        body: { topicId: record.data.topicId },
      };
    case "ProducerIds":
      return {
        type: MetadataRecordType.ProducerIdsRecord,
        version: 0,
        body: { ...defaultProducerIdsRecord(), ...record.data },
      };
    case "FeatureLevel":
      return {
        type: MetadataRecordType.FeatureLevelRecord,
        version: 0,
        body: { ...defaultFeatureLevelRecord(), ...record.data },
      };
    case "UserScramCredential":
      return { type: MetadataRecordType.UserScramCredentialRecord, version: 0, body: { ...record.data } };
    case "RemoveUserScramCredential":
      return {
        type: MetadataRecordType.RemoveUserScramCredentialRecord,
        version: 0,
        body: { ...record.data },
      };
    case "AccessControlEntry":
      return { type: MetadataRecordType.AccessControlEntryRecord, version: 0, body: { ...record.data } };
    case "ClientQuota":
      return {
        type: MetadataRecordType.ClientQuotaRecord,
        version: 0,
        body: { ...record.data, entity: record.data.entity.map((e) => ({ ...e })) },
      };
    case "RemoveAccessControlEntry":
      return {
        type: MetadataRecordType.RemoveAccessControlEntryRecord,
        version: 0,
        body: { id: record.data.id },
      };
    case "RegisterBroker": {
      const d = record.data;
      const body: RegisterBrokerRecord = {
        ...defaultRegisterBrokerRecord(),
        brokerId: d.brokerId,
        incarnationId: d.incarnationId,
        brokerEpoch: d.brokerEpoch,
        endPoints: d.endPoints.map((e) => ({ ...defaultRegisterBrokerRecordBrokerEndpoint(), ...e })),
        features: d.features.map((f) => ({ ...f })),
        rack: d.rack,
        fenced: d.fenced,
        inControlledShutdown: d.inControlledShutdown,
        logDirs: [...d.logDirs],
      };
      return { type: MetadataRecordType.RegisterBrokerRecord, version: 3, body };
    }
    case "BrokerRegistrationChange": {
      const d = record.data;
      const body: BrokerRegistrationChangeRecord = {
        brokerId: d.brokerId,
        brokerEpoch: d.brokerEpoch,
        fenced: d.fenced === undefined ? 0 : d.fenced ? FENCE : UNFENCE,
        inControlledShutdown: d.inControlledShutdown ? 1 : 0,
        logDirs: [],
        cordonedLogDirs: null,
      };
      return { type: MetadataRecordType.BrokerRegistrationChangeRecord, version: 1, body };
    }
  }
}

function fromWire(type: number, body: unknown): MetadataRecord {
  switch (type) {
    case MetadataRecordType.TopicRecord: {
      const b = body as TopicRecord;
      return { type: "Topic", data: { name: b.name, topicId: b.topicId } };
    }
    case MetadataRecordType.PartitionRecord: {
      const b = body as PartitionRecord;
      return {
        type: "Partition",
        data: {
          partitionId: b.partitionId,
          topicId: b.topicId,
          replicas: b.replicas,
          isr: b.isr,
          leader: b.leader,
          leaderEpoch: b.leaderEpoch,
          partitionEpoch: b.partitionEpoch,
          leaderRecoveryState: b.leaderRecoveryState,
        },
      };
    }
    case MetadataRecordType.PartitionChangeRecord: {
      const b = body as PartitionChangeRecord;
      return {
        type: "PartitionChange",
        data: {
          partitionId: b.partitionId,
          topicId: b.topicId,
          ...(b.isr !== null ? { isr: b.isr } : {}),
          ...(b.leader !== NO_LEADER_CHANGE ? { leader: b.leader } : {}),
          ...(b.replicas !== null ? { replicas: b.replicas } : {}),
          ...(b.leaderRecoveryState !== NO_RECOVERY_STATE_CHANGE
            ? { leaderRecoveryState: b.leaderRecoveryState }
            : {}),
        },
      };
    }
    case MetadataRecordType.ConfigRecord: {
      const b = body as ConfigRecord;
      return {
        type: "Config",
        data: { resourceType: b.resourceType, resourceName: b.resourceName, name: b.name, value: b.value },
      };
    }
    case MetadataRecordType.RemoveTopicRecord:
      return { type: "RemoveTopic", data: { topicId: (body as RemoveTopicRecord).topicId } };
    case MetadataRecordType.ProducerIdsRecord: {
      const b = body as ProducerIdsRecord;
      return {
        type: "ProducerIds",
        data: { brokerId: b.brokerId, brokerEpoch: b.brokerEpoch, nextProducerId: b.nextProducerId },
      };
    }
    case MetadataRecordType.FeatureLevelRecord: {
      const b = body as FeatureLevelRecord;
      return { type: "FeatureLevel", data: { name: b.name, featureLevel: b.featureLevel } };
    }
    case MetadataRecordType.RegisterBrokerRecord: {
      const b = body as RegisterBrokerRecord;
      return {
        type: "RegisterBroker",
        data: {
          brokerId: b.brokerId,
          incarnationId: b.incarnationId,
          brokerEpoch: b.brokerEpoch,
          endPoints: b.endPoints.map((e) => ({
            name: e.name,
            host: e.host,
            port: e.port,
            securityProtocol: e.securityProtocol,
          })),
          features: b.features.map((f) => ({
            name: f.name,
            minSupportedVersion: f.minSupportedVersion,
            maxSupportedVersion: f.maxSupportedVersion,
          })),
          rack: b.rack,
          fenced: b.fenced,
          inControlledShutdown: b.inControlledShutdown,
          logDirs: b.logDirs,
        },
      };
    }
    case MetadataRecordType.BrokerRegistrationChangeRecord: {
      const b = body as BrokerRegistrationChangeRecord;
      return {
        type: "BrokerRegistrationChange",
        data: {
          brokerId: b.brokerId,
          brokerEpoch: b.brokerEpoch,
          ...(b.fenced === FENCE ? { fenced: true } : b.fenced === UNFENCE ? { fenced: false } : {}),
          ...(b.inControlledShutdown === 1 ? { inControlledShutdown: true } : {}),
        },
      };
    }
    case MetadataRecordType.FenceBrokerRecord: {
      const b = body as FenceBrokerRecord;
      return {
        type: "BrokerRegistrationChange",
        data: { brokerId: b.id, brokerEpoch: b.epoch, fenced: true },
      };
    }
    case MetadataRecordType.UnfenceBrokerRecord: {
      const b = body as UnfenceBrokerRecord;
      return {
        type: "BrokerRegistrationChange",
        data: { brokerId: b.id, brokerEpoch: b.epoch, fenced: false },
      };
    }
    case MetadataRecordType.UserScramCredentialRecord: {
      const b = body as UserScramCredentialRecord;
      return {
        type: "UserScramCredential",
        data: {
          name: b.name,
          mechanism: b.mechanism,
          salt: b.salt,
          storedKey: b.storedKey,
          serverKey: b.serverKey,
          iterations: b.iterations,
        },
      };
    }
    case MetadataRecordType.RemoveUserScramCredentialRecord: {
      const b = body as RemoveUserScramCredentialRecord;
      return { type: "RemoveUserScramCredential", data: { name: b.name, mechanism: b.mechanism } };
    }
    case MetadataRecordType.AccessControlEntryRecord: {
      const b = body as AccessControlEntryRecord;
      return {
        type: "AccessControlEntry",
        data: {
          id: b.id,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        },
      };
    }
    case MetadataRecordType.RemoveAccessControlEntryRecord:
      return { type: "RemoveAccessControlEntry", data: { id: (body as RemoveAccessControlEntryRecord).id } };
    case MetadataRecordType.ClientQuotaRecord: {
      const b = body as ClientQuotaRecord;
      return {
        type: "ClientQuota",
        data: {
          entity: b.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })),
          key: b.key,
          value: b.value,
          remove: b.remove,
        },
      };
    }
    default:
      throw new KrillError("UNSUPPORTED", `metadata record type ${type} is not used by Krill`);
  }
}

export const metadataRecordSerde: RecordSerde = {
  encode(record: MetadataRecord): Buffer {
    const { type, version, body } = toWire(record);
    const codec = metadataRecordCodec(type)!;
    const w = new Writer(64);
    w.writeUnsignedVarint(FRAME_VERSION);
    w.writeUnsignedVarint(type);
    w.writeUnsignedVarint(version);
    codec.encode(w, body, version);
    return w.finish();
  },
  decode(payload: Buffer): MetadataRecord {
    const r = new Reader(payload);
    const frameVersion = r.readUnsignedVarint("frame version");
    if (frameVersion !== FRAME_VERSION) {
      throw new KrillError(
        "DECODE_ERROR",
        `metadata record frame version ${frameVersion}, expected ${FRAME_VERSION}`,
      );
    }
    const type = r.readUnsignedVarint("record type");
    const version = r.readUnsignedVarint("record version");
    const codec = metadataRecordCodec(type);
    if (codec === undefined || version < codec.minVersion || version > codec.maxVersion) {
      throw new KrillError("DECODE_ERROR", `unknown metadata record type ${type} version ${version}`);
    }
    const body = codec.decode(r, version);
    r.expectEnd(codec.name);
    return fromWire(type, body);
  },
};

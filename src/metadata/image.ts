/**
 * The metadata image: an immutable picture of the cluster (topics by name and id, partitions with
 * leader/replicas/isr/epochs, config overrides, brokers, producer-id allocation, features) as of
 * one metadata log offset. Handlers read the current image without locks; nothing mutates one: the
 * publisher replays committed records onto a copy (`apply`) and publishes the result.
 */
import {
  applyClientQuotaRecord,
  type ClientQuotaEntry,
  clientQuotaSnapshotRecords,
} from "./client-quotas.js";
import { CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC } from "./internal-topics.js";
import { applyPartitionChange } from "./partition-change.js";
import {
  type AccessControlEntryRecordData,
  CONFIG_RESOURCE_TYPE,
  type MetadataRecord,
  type RegisterBrokerRecordData,
  type UserScramCredentialRecordData,
} from "./records.js";

export interface PartitionImage {
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** Kafka's LeaderRecoveryState: 0 RECOVERED, 1 RECOVERING (after an unclean election). */
  readonly leaderRecoveryState: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id (always 0..n-1). */
  readonly partitions: readonly PartitionImage[];
}

export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  CONSUMER_OFFSETS_TOPIC,
  TRANSACTION_STATE_TOPIC,
]);

/** `${resourceType}:${resourceName}`. */
export function configKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

const EMPTY_CONFIGS: ReadonlyMap<string, string> = new Map();

/** `${mechanism}:${user}`: the key of a SCRAM credential. */
function scramKey(user: string, mechanism: number): string {
  return `${mechanism}:${user}`;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage(
    -1,
    new Map(),
    new Map(),
    new Map(),
    new Map(),
    new Map(),
    0n,
    new Map(),
    new Map(),
    new Map(),
  );

  private constructor(
    /** Offset of the last record applied; -1 for the empty image. */
    readonly offset: number,
    readonly topicsByName: ReadonlyMap<string, TopicImage>,
    readonly topicsById: ReadonlyMap<string, TopicImage>,
    readonly configs: ReadonlyMap<string, ReadonlyMap<string, string>>,
    readonly brokers: ReadonlyMap<number, RegisterBrokerRecordData>,
    readonly features: ReadonlyMap<string, number>,
    /** First producer id not yet allocated to any block. */
    readonly nextProducerId: bigint,
    /** SCRAM credentials (UserScramCredentialRecord) by `${mechanism}:${user}`. */
    readonly scramCredentials: ReadonlyMap<string, UserScramCredentialRecordData>,
    /** ACL bindings (AccessControlEntryRecord) by id (acls.ts). */
    readonly acls: ReadonlyMap<string, AccessControlEntryRecordData>,
    /** Client quotas (ClientQuotaRecord) by entity key (client-quotas.ts quotaEntityKey). */
    readonly clientQuotas: ReadonlyMap<string, ClientQuotaEntry>,
  ) {}

  scramCredential(user: string, mechanism: number): UserScramCredentialRecordData | undefined {
    return this.scramCredentials.get(scramKey(user, mechanism));
  }

  /** Whether `topic` exists and has a partition `partition`. */
  hasPartition(topic: string, partition: number): boolean {
    const t = this.topicsByName.get(topic);
    return t !== undefined && partition >= 0 && partition < t.partitions.length;
  }

  topicConfigs(topic: string): ReadonlyMap<string, string> {
    return this.configs.get(configKey(CONFIG_RESOURCE_TYPE.TOPIC, topic)) ?? EMPTY_CONFIGS;
  }

  brokerConfigs(brokerId: string): ReadonlyMap<string, string> {
    return this.configs.get(configKey(CONFIG_RESOURCE_TYPE.BROKER, brokerId)) ?? EMPTY_CONFIGS;
  }

  /** Registered, unfenced and not in controlled shutdown: may lead and join ISRs (Kafka's isActive). */
  isActiveBroker(brokerId: number): boolean {
    const b = this.brokers.get(brokerId);
    return b !== undefined && !b.fenced && !b.inControlledShutdown;
  }

  /** Every record needed to rebuild this image from nothing: what a snapshot holds. */
  toRecords(): MetadataRecord[] {
    const out: MetadataRecord[] = [];
    for (const [name, featureLevel] of this.features)
      out.push({ type: "FeatureLevel", data: { name, featureLevel } });
    for (const broker of this.brokers.values()) out.push({ type: "RegisterBroker", data: broker });
    for (const topic of this.topicsByName.values()) {
      out.push({ type: "Topic", data: { name: topic.name, topicId: topic.topicId } });
      for (const p of topic.partitions)
        out.push({ type: "Partition", data: { ...p, topicId: topic.topicId } });
    }
    for (const [key, entries] of this.configs) {
      const sep = key.indexOf(":");
      const resourceType = Number(key.slice(0, sep));
      const resourceName = key.slice(sep + 1);
      for (const [name, value] of entries)
        out.push({ type: "Config", data: { resourceType, resourceName, name, value } });
    }
    for (const credential of this.scramCredentials.values())
      out.push({ type: "UserScramCredential", data: credential });
    for (const acl of this.acls.values()) out.push({ type: "AccessControlEntry", data: acl });
    out.push(...clientQuotaSnapshotRecords(this.clientQuotas));
    if (this.nextProducerId > 0n) {
      out.push({
        type: "ProducerIds",
        data: { brokerId: -1, brokerEpoch: -1n, nextProducerId: this.nextProducerId },
      });
    }
    return out;
  }

  /**
   * A new image with `records` applied in order, the last at `offset`. Records that contradict
   * the image (a partition of an unknown topic) are programmer errors of the controller and throw.
   */
  apply(records: readonly MetadataRecord[], offset: number): MetadataImage {
    if (records.length === 0) return this;
    let byName: Map<string, TopicImage> | undefined;
    let byId: Map<string, TopicImage> | undefined;
    let configs: Map<string, ReadonlyMap<string, string>> | undefined;
    let brokers: Map<number, RegisterBrokerRecordData> | undefined;
    let features: Map<string, number> | undefined;
    let nextProducerId = this.nextProducerId;
    let scram: Map<string, UserScramCredentialRecordData> | undefined;
    let acls: Map<string, AccessControlEntryRecordData> | undefined;
    let clientQuotas: Map<string, ClientQuotaEntry> | undefined;
    const topics = () => {
      byName ??= new Map(this.topicsByName);
      byId ??= new Map(this.topicsById);
      return { byName, byId };
    };
    const putTopic = (t: TopicImage) => {
      const m = topics();
      m.byName.set(t.name, t);
      m.byId.set(t.topicId, t);
    };
    const topicById = (id: string): TopicImage => {
      const t = (byId ?? this.topicsById).get(id);
      if (t === undefined) throw new Error(`assertion: metadata record for unknown topic id ${id}`);
      return t;
    };
    for (const record of records) {
      switch (record.type) {
        case "Topic":
          putTopic({ name: record.data.name, topicId: record.data.topicId, partitions: [] });
          break;
        case "Partition": {
          const t = topicById(record.data.topicId);
          const { topicId: _ignored, ...partition } = record.data;
          const partitions = t.partitions.slice();
          partitions[record.data.partitionId] = partition;
          putTopic({ ...t, partitions });
          break;
        }
        case "PartitionChange": {
          const t = topicById(record.data.topicId);
          const old = t.partitions[record.data.partitionId];
          if (old === undefined)
            throw new Error(`assertion: change of unknown partition ${record.data.partitionId}`);
          // As Kafka's PartitionRegistration.merge: a leader field, even the same leader, bumps
          // the leader epoch; any change bumps the partition epoch.
          const partitions = t.partitions.slice();
          partitions[record.data.partitionId] = applyPartitionChange(old, record.data);
          putTopic({ ...t, partitions });
          break;
        }
        case "RemoveTopic": {
          const t = topicById(record.data.topicId);
          const m = topics();
          m.byName.delete(t.name);
          m.byId.delete(t.topicId);
          configs ??= new Map(this.configs);
          configs.delete(configKey(CONFIG_RESOURCE_TYPE.TOPIC, t.name));
          break;
        }
        case "Config": {
          configs ??= new Map(this.configs);
          const key = configKey(record.data.resourceType, record.data.resourceName);
          const entries = new Map(configs.get(key) ?? EMPTY_CONFIGS);
          if (record.data.value === null) entries.delete(record.data.name);
          else entries.set(record.data.name, record.data.value);
          if (entries.size === 0) configs.delete(key);
          else configs.set(key, entries);
          break;
        }
        case "ProducerIds":
          if (record.data.nextProducerId > nextProducerId) nextProducerId = record.data.nextProducerId;
          break;
        case "RegisterBroker":
          brokers ??= new Map(this.brokers);
          brokers.set(record.data.brokerId, record.data);
          break;
        case "BrokerRegistrationChange": {
          brokers ??= new Map(this.brokers);
          const b = brokers.get(record.data.brokerId);
          if (b === undefined || b.brokerEpoch !== record.data.brokerEpoch) {
            throw new Error(
              `assertion: registration change of broker ${record.data.brokerId} epoch ${record.data.brokerEpoch}, which is not registered`,
            );
          }
          brokers.set(b.brokerId, {
            ...b,
            fenced: record.data.fenced ?? b.fenced,
            inControlledShutdown: record.data.inControlledShutdown ?? b.inControlledShutdown,
          });
          break;
        }
        case "FeatureLevel":
          features ??= new Map(this.features);
          features.set(record.data.name, record.data.featureLevel);
          break;
        case "UserScramCredential":
          scram ??= new Map(this.scramCredentials);
          scram.set(scramKey(record.data.name, record.data.mechanism), record.data);
          break;
        case "RemoveUserScramCredential":
          scram ??= new Map(this.scramCredentials);
          scram.delete(scramKey(record.data.name, record.data.mechanism));
          break;
        case "AccessControlEntry":
          acls ??= new Map(this.acls);
          acls.set(record.data.id, record.data);
          break;
        case "ClientQuota":
          clientQuotas ??= new Map(this.clientQuotas);
          applyClientQuotaRecord(clientQuotas, record.data);
          break;
        case "RemoveAccessControlEntry":
          acls ??= new Map(this.acls);
          if (!acls.delete(record.data.id)) {
            throw new Error(`assertion: removal of unknown ACL ${record.data.id}`);
          }
          break;
      }
    }
    return new MetadataImage(
      offset,
      byName ?? this.topicsByName,
      byId ?? this.topicsById,
      configs ?? this.configs,
      brokers ?? this.brokers,
      features ?? this.features,
      nextProducerId,
      scram ?? this.scramCredentials,
      acls ?? this.acls,
      clientQuotas ?? this.clientQuotas,
    );
  }
}

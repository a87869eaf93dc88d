/**
 * The broker side of the controller (Kafka's ClusterControlManager with the heartbeat handling of
 * ReplicationControlManager): BrokerRegistration and BrokerHeartbeat turned into records, and
 * brokers fenced when their session expires. Pure logic over the committed image; the controller
 * (controller.ts) serializes the calls and proposes the records.
 *
 * - Registration writes RegisterBrokerRecord, fenced. A new incarnation gets a new broker epoch
 *   (the record's offset) and replaces the old one at once: the old incarnation's leaderships and
 *   ISR memberships go first (Kafka 4.4 does the same for the unclean-shutdown case, but refuses a
 *   new incarnation with DUPLICATE_BROKER_REGISTRATION while the old session is alive; Krill takes
 *   the new process as proof the old one is gone, which is what makes a restart fail over fast).
 *   The same incarnation again amends the record and keeps its epoch, fencing and shutdown state.
 * - A heartbeat from a stale epoch is STALE_BROKER_EPOCH. A fenced broker is unfenced
 *   (BrokerRegistrationChangeRecord) once its metadata offset reaches its registration, and
 *   leaderless partitions it can lead get it as leader. WantShutDown on a broker that leads
 *   something starts a controlled shutdown: its leaderships and ISR memberships move away and it
 *   is told to shut down once every active broker has replayed those moves.
 * - A broker silent for `broker.session.timeout.ms` is fenced, one at a time, its leaderships
 *   and ISR memberships moved first.
 */

import type { Clock } from "../clock.js";
import type { BrokerConfig } from "../config/broker-config.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { BrokerHeartbeatManager } from "./broker-heartbeats.js";
import { METADATA_VERSION_FEATURE, METADATA_VERSION_LATEST } from "./features.js";
import type { MetadataImage } from "./image.js";
import type { BrokerEndpoint, BrokerFeatureRange, MetadataRecord } from "./records.js";
import { leaderAndIsrUpdates, staleBrokerEpoch, type UncleanEnabled } from "./replication-control.js";

/** Plain data of Kafka's BrokerRegistrationRequest. */
export interface BrokerRegistrationRequest {
  readonly brokerId: number;
  readonly clusterId: string;
  /** A fresh UUID for each process start. */
  readonly incarnationId: string;
  readonly listeners: readonly BrokerEndpoint[];
  readonly features: readonly BrokerFeatureRange[];
  readonly rack: string | null;
  readonly logDirs: readonly string[];
  /** The epoch of the previous incarnation, -1 if unknown (KIP-966). */
  readonly previousBrokerEpoch: bigint;
}

export interface BrokerRegistrationReply {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** -1 on error. */
  readonly brokerEpoch: bigint;
}

/** Plain data of Kafka's BrokerHeartbeatRequest. */
export interface BrokerHeartbeatRequest {
  readonly brokerId: number;
  readonly brokerEpoch: bigint;
  /** The highest metadata offset this broker has applied. */
  readonly currentMetadataOffset: bigint;
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
  /**
   * The connection it came on, when it came over the network (the controller listener's
   * connection; its identity is the token): when that connection closes and no heartbeat follows,
   * the broker is fenced at once.
   */
  readonly connection?: BrokerConnection;
}

/** What the controller watches of the connection a heartbeat came on. */
export interface BrokerConnection {
  /** Resolves once the connection has closed (absent: an in-process caller, not watched). */
  readonly closed?: Promise<void>;
}

export interface BrokerHeartbeatReply {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly isCaughtUp: boolean;
  readonly isFenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly shouldShutDown: boolean;
}

function registrationError(errorCode: number, errorMessage: string): BrokerRegistrationReply {
  return { errorCode, errorMessage, brokerEpoch: -1n };
}

export class ClusterControl {
  readonly heartbeats: BrokerHeartbeatManager;
  readonly #clusterId: string | undefined;
  /** Offset of each broker's newest RegisterBrokerRecord written by this controller. */
  readonly #registrationOffsets = new Map<number, number>();

  constructor(clock: Clock, config: () => BrokerConfig, clusterId: string | undefined) {
    this.heartbeats = new BrokerHeartbeatManager(
      clock,
      () => config().int("broker.session.timeout.ms"),
      () => config().int("broker.heartbeat.interval.ms"),
    );
    this.#clusterId = clusterId;
  }

  /** This controller became active: sessions start over (BrokerHeartbeatManager.activate). */
  activate(): void {
    this.heartbeats.activate();
    this.#registrationOffsets.clear();
  }

  /**
   * Kafka's registerBroker. `nextOffset` is the offset the first record will get; the reply's
   * epoch is valid once the records are committed (`registered` must then be called).
   */
  register(
    image: MetadataImage,
    request: BrokerRegistrationRequest,
    nextOffset: number,
    uncleanEnabled: UncleanEnabled,
  ): { records: MetadataRecord[]; reply: BrokerRegistrationReply } {
    const fail = (errorCode: number, message: string) => ({
      records: [],
      reply: registrationError(errorCode, message),
    });
    if (this.#clusterId !== undefined && request.clusterId !== this.#clusterId) {
      return fail(
        ErrorCode.INCONSISTENT_CLUSTER_ID,
        `Expected cluster ID ${this.#clusterId}, but got cluster ID ${request.clusterId}`,
      );
    }
    if (new Set(request.logDirs).size !== request.logDirs.length)
      return fail(ErrorCode.INVALID_REGISTRATION, "Duplicate directory ID in request");
    for (const [id, b] of image.brokers) {
      const shared = id !== request.brokerId && b.logDirs.find((d) => request.logDirs.includes(d));
      if (shared) {
        return fail(
          ErrorCode.INVALID_REGISTRATION,
          `Broker ${id} is already registered with directory ${shared}`,
        );
      }
    }
    const records: MetadataRecord[] = [];
    // A fresh cluster finalizes metadata.version with the first registration.
    let finalizedMv = image.features.get(METADATA_VERSION_FEATURE);
    if (finalizedMv === undefined) {
      const mv = request.features.find((f) => f.name === METADATA_VERSION_FEATURE);
      finalizedMv = Math.min(METADATA_VERSION_LATEST, mv?.maxSupportedVersion ?? METADATA_VERSION_LATEST);
      records.push({
        type: "FeatureLevel",
        data: { name: METADATA_VERSION_FEATURE, featureLevel: finalizedMv },
      });
    }
    const finalized = new Map(image.features);
    finalized.set(METADATA_VERSION_FEATURE, finalizedMv);
    for (const f of request.features) {
      const level = finalized.get(f.name) ?? (f.name === METADATA_VERSION_FEATURE ? 1 : 0);
      if (level < f.minSupportedVersion || level > f.maxSupportedVersion) {
        return fail(
          ErrorCode.UNSUPPORTED_VERSION,
          `Unable to register because the broker does not support finalized version ${level} of ${f.name}. The broker wants a version between ${f.minSupportedVersion} and ${f.maxSupportedVersion}, inclusive.`,
        );
      }
    }
    for (const [name, level] of finalized) {
      if (level !== 0 && !request.features.some((f) => f.name === name)) {
        return fail(
          ErrorCode.UNSUPPORTED_VERSION,
          `Unable to register because the broker does not support finalized version ${level} of ${name}. The broker wants a version between 0 and 0, inclusive.`,
        );
      }
    }
    const existing = image.brokers.get(request.brokerId);
    const sameIncarnation = existing !== undefined && existing.incarnationId === request.incarnationId;
    if (existing !== undefined && !sameIncarnation) {
      // The old incarnation is gone: nothing may stay led by it or count it in sync.
      for (const data of leaderAndIsrUpdates(image, { remove: request.brokerId }, uncleanEnabled)) {
        records.push({ type: "PartitionChange", data });
      }
    }
    const registrationOffset = nextOffset + records.length;
    const brokerEpoch = sameIncarnation ? existing.brokerEpoch : BigInt(registrationOffset);
    records.push({
      type: "RegisterBroker",
      data: {
        brokerId: request.brokerId,
        incarnationId: request.incarnationId,
        brokerEpoch,
        endPoints: request.listeners,
        features: request.features,
        rack: request.rack,
        fenced: sameIncarnation ? existing.fenced : true,
        inControlledShutdown: sameIncarnation ? existing.inControlledShutdown : false,
        logDirs: request.logDirs,
      },
    });
    if (!sameIncarnation) this.heartbeats.register(request.brokerId);
    this.#registrationOffsets.set(request.brokerId, registrationOffset);
    return { records, reply: { errorCode: ErrorCode.NONE, errorMessage: null, brokerEpoch } };
  }

  /** The offset of the broker's registration record, as far as this controller knows. */
  registrationOffset(image: MetadataImage, brokerId: number): number | undefined {
    const known = this.#registrationOffsets.get(brokerId);
    if (known !== undefined) return known;
    // Registered under an earlier controller: its epoch is its registration's offset.
    const b = image.brokers.get(brokerId);
    return b === undefined ? undefined : Number(b.brokerEpoch);
  }

  /**
   * Kafka's processBrokerHeartbeat. `hasLeaderships` is whether the broker still leads anything.
   * After committing, a reply with `inControlledShutdown` needs `controlledShutdownCommitted`.
   */
  heartbeat(
    image: MetadataImage,
    request: BrokerHeartbeatRequest,
    hasLeaderships: () => boolean,
    uncleanEnabled: UncleanEnabled,
  ): { records: MetadataRecord[]; reply: BrokerHeartbeatReply } {
    const stale = staleBrokerEpoch(image, request.brokerId, request.brokerEpoch);
    const registrationOffset = this.registrationOffset(image, request.brokerId);
    if (stale !== undefined || registrationOffset === undefined) {
      return {
        records: [],
        reply: {
          errorCode: ErrorCode.STALE_BROKER_EPOCH,
          errorMessage: stale ?? `Receive a heartbeat from broker ${request.brokerId} before registration`,
          isCaughtUp: false,
          isFenced: true,
          inControlledShutdown: false,
          shouldShutDown: false,
        },
      };
    }
    const currentMetadataOffset = Number(request.currentMetadataOffset);
    const { current, next } = this.heartbeats.nextState(
      image,
      request.brokerId,
      { wantFence: request.wantFence, wantShutDown: request.wantShutDown, currentMetadataOffset },
      registrationOffset,
      hasLeaderships,
    );
    const records: MetadataRecord[] = [];
    if (current !== next) {
      switch (next) {
        case "fenced":
        case "shutdown-now":
          records.push(...this.fenceRecords(image, request.brokerId, uncleanEnabled));
          break;
        case "unfenced":
          records.push(...this.unfenceRecords(image, request.brokerId, uncleanEnabled));
          break;
        case "controlled-shutdown":
          records.push(...this.controlledShutdownRecords(image, request.brokerId, uncleanEnabled));
          break;
      }
    }
    const fenced = next === "fenced" || next === "shutdown-now";
    this.heartbeats.touch(request.brokerId, fenced, currentMetadataOffset);
    return {
      records,
      reply: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        isCaughtUp: currentMetadataOffset >= registrationOffset,
        isFenced: fenced,
        inControlledShutdown: next === "controlled-shutdown",
        shouldShutDown: next === "shutdown-now",
      },
    };
  }

  /** Kafka's handleBrokerFenced: leaderships and ISR memberships moved, then the fence. */
  fenceRecords(image: MetadataImage, brokerId: number, uncleanEnabled: UncleanEnabled): MetadataRecord[] {
    const b = image.brokers.get(brokerId);
    if (b === undefined) throw new Error(`assertion: fencing unregistered broker ${brokerId}`);
    const records: MetadataRecord[] = leaderAndIsrUpdates(image, { remove: brokerId }, uncleanEnabled).map(
      (data) => ({ type: "PartitionChange", data }),
    );
    records.push({
      type: "BrokerRegistrationChange",
      data: { brokerId, brokerEpoch: b.brokerEpoch, fenced: true },
    });
    return records;
  }

  /** Kafka's handleBrokerUnfenced: the unfence, then leaders for partitions that have none. */
  unfenceRecords(image: MetadataImage, brokerId: number, uncleanEnabled: UncleanEnabled): MetadataRecord[] {
    const b = image.brokers.get(brokerId);
    if (b === undefined) throw new Error(`assertion: unfencing unregistered broker ${brokerId}`);
    const records: MetadataRecord[] = [
      { type: "BrokerRegistrationChange", data: { brokerId, brokerEpoch: b.brokerEpoch, fenced: false } },
    ];
    for (const data of leaderAndIsrUpdates(image, { add: brokerId }, uncleanEnabled)) {
      records.push({ type: "PartitionChange", data });
    }
    return records;
  }

  /** Kafka's handleBrokerInControlledShutdown. */
  controlledShutdownRecords(
    image: MetadataImage,
    brokerId: number,
    uncleanEnabled: UncleanEnabled,
  ): MetadataRecord[] {
    const b = image.brokers.get(brokerId);
    if (b === undefined) throw new Error(`assertion: shutting down unregistered broker ${brokerId}`);
    const records: MetadataRecord[] = [];
    if (!b.inControlledShutdown) {
      records.push({
        type: "BrokerRegistrationChange",
        data: { brokerId, brokerEpoch: b.brokerEpoch, inControlledShutdown: true },
      });
    }
    for (const data of leaderAndIsrUpdates(image, { remove: brokerId }, uncleanEnabled)) {
      records.push({ type: "PartitionChange", data });
    }
    return records;
  }
}

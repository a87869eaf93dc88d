/** Shared set-up for coordinator tests: a coordinator on a manual clock and an in-memory log. */

import type { ConsumerGroupHeartbeatRequest } from "../../../src/protocol/generated/consumer-group-heartbeat-request.js";
import { encodeConsumerProtocolAssignment } from "../../../src/protocol/generated/consumer-protocol-assignment.js";
import { encodeConsumerProtocolSubscription } from "../../../src/protocol/generated/consumer-protocol-subscription.js";
import type { JoinGroupRequest } from "../../../src/protocol/generated/join-group-request.js";
import type { OffsetCommitRequest } from "../../../src/protocol/generated/offset-commit-request.js";
import type { SyncGroupRequest } from "../../../src/protocol/generated/sync-group-request.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { Writer } from "../../../src/protocol/primitives/writer.js";
import {
  type ClientInfo,
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type PartitionExists,
} from "../../../src/server/group/group-coordinator.js";
import { ManualTimer } from "../../../src/server/group/timer.js";
import { MemoryGroupStateLog, settle } from "./memory-log.js";

export const START_MS = 1_700_000_000_000;

/**
 * The coordinator tests run without a metadata image: every partition they commit to exists
 * (the handlers' check against the image is tested in offset-commit-partitions.test.ts).
 */
export const EVERY_PARTITION: PartitionExists = () => true;

export interface Harness {
  readonly timer: ManualTimer;
  readonly log: MemoryGroupStateLog;
  readonly coordinator: GroupCoordinator;
  /** A coordinator restarted on the same log and clock. */
  restart(): Promise<GroupCoordinator>;
}

export async function harness(config: Partial<GroupCoordinatorConfig> = {}): Promise<Harness> {
  const timer = new ManualTimer(START_MS);
  const log = new MemoryGroupStateLog();
  let n = 0;
  const make = () =>
    new GroupCoordinator({
      config: { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...config },
      log,
      timer,
      newUuid: () => `uuid-${++n}`,
    });
  const coordinator = make();
  await coordinator.load();
  return {
    timer,
    log,
    coordinator,
    async restart() {
      coordinator.close();
      const next = make();
      await next.load();
      return next;
    },
  };
}

export function client(clientId = "client", apiVersion = 9): ClientInfo {
  return { apiVersion, clientId, clientHost: "/127.0.0.1" };
}

export function subscription(topics: string[]): Buffer {
  const w = new Writer(64);
  w.writeInt16(0);
  encodeConsumerProtocolSubscription(
    w,
    { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null },
    0,
  );
  return w.finish();
}

export function assignment(topic: string, partitions: number[]): Buffer {
  const w = new Writer(64);
  w.writeInt16(0);
  encodeConsumerProtocolAssignment(w, { assignedPartitions: [{ topic, partitions }], userData: null }, 0);
  return w.finish();
}

export function joinRequest(
  groupId: string,
  memberId: string,
  options: Partial<JoinGroupRequest> = {},
): JoinGroupRequest {
  return {
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: subscription(["orders"]) }],
    reason: null,
    ...options,
  };
}

export function syncRequest(
  groupId: string,
  memberId: string,
  generationId: number,
  assignments: { memberId: string; assignment: Buffer }[] = [],
  options: Partial<SyncGroupRequest> = {},
): SyncGroupRequest {
  return {
    groupId,
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocolName: "range",
    assignments,
    ...options,
  };
}

export function commitRequest(
  groupId: string,
  generation: number,
  memberId: string,
  offsets: {
    topic: string;
    partition: number;
    offset: bigint;
    metadata?: string | null;
    leaderEpoch?: number;
  }[],
): OffsetCommitRequest {
  const byTopic = new Map<string, OffsetCommitRequest["topics"][number]>();
  for (const o of offsets) {
    let t = byTopic.get(o.topic);
    if (t === undefined) {
      t = { name: o.topic, topicId: ZERO_UUID, partitions: [] };
      byTopic.set(o.topic, t);
    }
    t.partitions.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch ?? -1,
      committedMetadata: o.metadata === undefined ? "" : o.metadata,
    });
  }
  return {
    groupId,
    generationIdOrMemberEpoch: generation,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [...byTopic.values()],
  };
}

/** A promise whose outcome can be inspected synchronously once settled. */
export interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly done: boolean;
  readonly value: T;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  return {
    promise,
    get done() {
      return done;
    },
    get value() {
      if (!done) throw new Error("promise has not settled");
      return value as T;
    },
  };
}

/** Joins a dynamic member through the KIP-394 two-step: returns the assigned member id. */
export async function firstJoin(
  h: Harness,
  groupId: string,
  clientId: string,
  options: Partial<JoinGroupRequest> = {},
): Promise<string> {
  const r = await h.coordinator.joinGroup(joinRequest(groupId, "", options), client(clientId));
  if (r.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${r.errorCode}`);
  return r.memberId;
}

export { settle };

/**
 * A ConsumerGroupHeartbeat (KIP-848): at epoch 0 a join subscribing to "orders" with a 30 s
 * rebalance timeout, otherwise a plain heartbeat that leaves every optional field unchanged.
 */
export function consumerHeartbeat(
  groupId: string,
  memberId: string,
  memberEpoch: number,
  over: Partial<ConsumerGroupHeartbeatRequest> = {},
): ConsumerGroupHeartbeatRequest {
  return {
    groupId,
    memberId,
    memberEpoch,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: memberEpoch === 0 ? 30_000 : -1,
    subscribedTopicNames: memberEpoch === 0 ? ["orders"] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: memberEpoch === 0 ? [] : null,
    ...over,
  };
}

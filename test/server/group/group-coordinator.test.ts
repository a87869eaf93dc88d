/**
 * The coordinator driven by a manual clock: every classic transition reached through the
 * protocol (joins, syncs, heartbeats, leaves, timeouts), the error codes Kafka gives, and the
 * state that survives a restart.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { coordinatorPartitionFor } from "../../../src/server/group/java-hash.js";
import { decodeGroupRecord } from "../../../src/server/group/offsets-records.js";
import {
  assignment,
  client,
  commitRequest,
  consumerHeartbeat,
  EVERY_PARTITION,
  firstJoin,
  type Harness,
  harness,
  joinRequest,
  START_MS,
  settle,
  subscription,
  syncRequest,
  track,
} from "./helpers.js";

const G = "orders-app";

/** Two members through a full first rebalance; returns their ids (leader first) and generation. */
async function stableGroupOfTwo(
  h: Harness,
): Promise<{ leader: string; follower: string; generation: number }> {
  const a = await firstJoin(h, G, "a");
  const b = await firstJoin(h, G, "b");
  const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
  const joinB = track(h.coordinator.joinGroup(joinRequest(G, b), client("b")));
  await settle();
  expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
  expect(joinA.done).toBe(false);
  h.timer.advance(3_000);
  await settle();
  // B arrived during the initial delay, so the delay is extended once.
  expect(joinA.done).toBe(false);
  h.timer.advance(3_000);
  await settle();
  expect(joinA.value.errorCode).toBe(ErrorCode.NONE);
  expect(joinB.value.errorCode).toBe(ErrorCode.NONE);
  const leader = joinA.value.leader;
  expect([a, b]).toContain(leader);
  const follower = leader === a ? b : a;
  const generation = joinA.value.generationId;
  const leaderJoin = leader === a ? joinA.value : joinB.value;
  expect(leaderJoin.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
  expect((leader === a ? joinB.value : joinA.value).members).toEqual([]);
  expect(h.coordinator.classicGroup(G)?.state).toBe("CompletingRebalance");

  const followerSync = track(h.coordinator.syncGroup(syncRequest(G, follower, generation)));
  await settle();
  expect(followerSync.done).toBe(false);
  const leaderSync = await h.coordinator.syncGroup(
    syncRequest(G, leader, generation, [
      { memberId: leader, assignment: assignment("orders", [0, 1]) },
      { memberId: follower, assignment: assignment("orders", [2, 3]) },
    ]),
  );
  await settle();
  expect(leaderSync.errorCode).toBe(ErrorCode.NONE);
  expect(leaderSync.assignment).toEqual(assignment("orders", [0, 1]));
  expect(followerSync.value.assignment).toEqual(assignment("orders", [2, 3]));
  expect(followerSync.value.protocolName).toBe("range");
  expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
  return { leader, follower, generation };
}

describe("classic group: joining", () => {
  it("KIP-394: a v4+ join without member id gets MEMBER_ID_REQUIRED and a member id", async () => {
    const h = await harness();
    const r = await h.coordinator.joinGroup(joinRequest(G, ""), client("app-1"));
    expect(r.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(r.memberId).toBe("app-1-uuid-1");
    expect(h.coordinator.classicGroup(G)?.state).toBe("Empty");
    // The pending member expires after its session timeout if it never comes back.
    h.timer.advance(10_000);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
  });

  it("a v3 join is admitted at once and completes after the initial delay", async () => {
    const h = await harness();
    const join = track(h.coordinator.joinGroup(joinRequest(G, ""), client("old", 3)));
    await settle();
    expect(join.done).toBe(false);
    h.timer.advance(2_999);
    await settle();
    expect(join.done).toBe(false);
    h.timer.advance(1);
    await settle();
    expect(join.value.errorCode).toBe(ErrorCode.NONE);
    expect(join.value.generationId).toBe(1);
    expect(join.value.leader).toBe(join.value.memberId);
    expect(join.value.protocolName).toBe("range");
  });

  it("the initial delay is extended while new members keep arriving, up to the rebalance timeout", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 3_000 });
    const first = track(
      h.coordinator.joinGroup(joinRequest(G, "", { rebalanceTimeoutMs: 7_000 }), client("a", 3)),
    );
    h.timer.advance(2_000);
    track(h.coordinator.joinGroup(joinRequest(G, "", { rebalanceTimeoutMs: 7_000 }), client("b", 3)));
    h.timer.advance(1_000); // first delay over, but a member came: extend
    await settle();
    expect(first.done).toBe(false);
    h.timer.advance(3_000);
    await settle();
    expect(first.value.errorCode).toBe(ErrorCode.NONE);
    expect(first.value.members).toHaveLength(2);
  });

  it("validates group id, session timeout and protocols", async () => {
    const h = await harness();
    expect((await h.coordinator.joinGroup(joinRequest("", ""), client())).errorCode).toBe(
      ErrorCode.INVALID_GROUP_ID,
    );
    expect(
      (await h.coordinator.joinGroup(joinRequest(G, "", { sessionTimeoutMs: 10 }), client())).errorCode,
    ).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(
      (await h.coordinator.joinGroup(joinRequest(G, "", { sessionTimeoutMs: 3_600_000 }), client()))
        .errorCode,
    ).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(
      (await h.coordinator.joinGroup(joinRequest(G, "", { protocolType: "" }), client())).errorCode,
    ).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.coordinator.joinGroup(joinRequest(G, "ghost"), client())).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect(h.coordinator.groupCount).toBe(0);
  });

  it("a member with an incompatible protocol cannot join a live group", async () => {
    const h = await harness();
    await stableGroupOfTwo(h);
    const r = await h.coordinator.joinGroup(
      joinRequest(G, "", { protocols: [{ name: "cooperative-sticky", metadata: subscription(["orders"]) }] }),
      client("c"),
    );
    expect(r.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const other = await h.coordinator.joinGroup(joinRequest(G, "", { protocolType: "connect" }), client("c"));
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  it("group.max.size refuses the member beyond the limit", async () => {
    const h = await harness({ groupMaxSize: 1, groupInitialRebalanceDelayMs: 0 });
    const a = await firstJoin(h, G, "a");
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    h.timer.advance(0);
    await settle();
    expect(joinA.value.errorCode).toBe(ErrorCode.NONE);
    const r = await h.coordinator.joinGroup(joinRequest(G, ""), client("b"));
    expect(r.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(h.coordinator.classicGroup(G)?.size).toBe(1);
  });

  it("bounds members pending their second join", async () => {
    const { PENDING_MEMBERS_MAX } = await import("../../../src/server/group/group-coordinator.js");
    const h = await harness();
    for (let i = 0; i < PENDING_MEMBERS_MAX; i++) {
      expect((await h.coordinator.joinGroup(joinRequest(G, ""), client())).errorCode).toBe(
        ErrorCode.MEMBER_ID_REQUIRED,
      );
    }
    // One more is taken in and the oldest forgotten (join-flood.test.ts), so the count stays.
    expect((await h.coordinator.joinGroup(joinRequest(G, ""), client())).errorCode).toBe(
      ErrorCode.MEMBER_ID_REQUIRED,
    );
    expect(h.coordinator.classicGroup(G)?.numPendingJoinMembers).toBe(PENDING_MEMBERS_MAX);
    // They expire after their session timeout, and the group with them.
    h.timer.advance(10_000);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
    expect(h.timer.size).toBe(1); // only the offset expiry task is left
  });
});

describe("classic group: rebalancing", () => {
  it("Empty -> PreparingRebalance -> CompletingRebalance -> Stable, with assignments delivered", async () => {
    const h = await harness();
    await stableGroupOfTwo(h);
    const desc = h.coordinator.describeGroups([G])[0]!;
    expect(desc.groupState).toBe("Stable");
    expect(desc.protocolType).toBe("consumer");
    expect(desc.protocolData).toBe("range");
    expect(desc.members).toHaveLength(2);
    expect(desc.members.every((m) => m.memberAssignment.length > 0)).toBe(true);
  });

  it("Stable -> PreparingRebalance when a new member joins; others are told by heartbeat", async () => {
    const h = await harness();
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    const c = await firstJoin(h, G, "c");
    const joinC = track(h.coordinator.joinGroup(joinRequest(G, c), client("c")));
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
    expect(h.coordinator.heartbeat(G, leader, null, generation)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    // Sync in PreparingRebalance is refused too.
    expect((await h.coordinator.syncGroup(syncRequest(G, follower, generation))).errorCode).toBe(
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    const rejoinLeader = track(h.coordinator.joinGroup(joinRequest(G, leader), client("a")));
    const rejoinFollower = track(h.coordinator.joinGroup(joinRequest(G, follower), client("b")));
    await settle();
    // Everyone rejoined: the join phase completes without waiting for the timeout.
    expect(joinC.value.errorCode).toBe(ErrorCode.NONE);
    expect(joinC.value.generationId).toBe(generation + 1);
    expect(rejoinLeader.value.members).toHaveLength(3);
    expect(rejoinFollower.value.members).toHaveLength(0);
    expect(h.coordinator.classicGroup(G)?.state).toBe("CompletingRebalance");
  });

  it("a member that does not rejoin within the rebalance timeout is removed", async () => {
    const h = await harness();
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    // The follower's join with changed metadata starts a rebalance; the leader never rejoins.
    const rejoin = track(
      h.coordinator.joinGroup(
        joinRequest(G, follower, {
          protocols: [{ name: "range", metadata: subscription(["orders", "refunds"]) }],
        }),
        client("b"),
      ),
    );
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
    // Heartbeats keep the leader's session alive, but it still has to rejoin.
    for (let i = 0; i < 5; i++) {
      h.timer.advance(5_000);
      h.coordinator.heartbeat(G, leader, null, generation);
    }
    h.timer.advance(5_000);
    await settle();
    expect(rejoin.value.errorCode).toBe(ErrorCode.NONE);
    expect(rejoin.value.leader).toBe(follower);
    expect(rejoin.value.members.map((m) => m.memberId)).toEqual([follower]);
    expect(h.coordinator.classicGroup(G)?.member(leader)).toBeUndefined();
    expect(h.coordinator.heartbeat(G, leader, null, generation + 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it("a member killed without leaving loses its partitions after the session timeout", async () => {
    const h = await harness();
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    // The leader keeps heartbeating; the follower goes silent.
    for (let t = 0; t < 9_000; t += 3_000) {
      h.timer.advance(3_000);
      expect(h.coordinator.heartbeat(G, leader, null, generation)).toBe(ErrorCode.NONE);
    }
    h.timer.advance(1_000); // 10s since the follower's last heartbeat
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
    expect(h.coordinator.classicGroup(G)?.member(follower)).toBeUndefined();
    const rejoin = await h.coordinator.joinGroup(joinRequest(G, leader), client("a"));
    expect(rejoin.generationId).toBe(generation + 1);
    expect(rejoin.members.map((m) => m.memberId)).toEqual([leader]);
  });

  it("CompletingRebalance -> PreparingRebalance when a member leaves; parked syncs get REBALANCE_IN_PROGRESS", async () => {
    const h = await harness();
    const a = await firstJoin(h, G, "a");
    const b = await firstJoin(h, G, "b");
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    track(h.coordinator.joinGroup(joinRequest(G, b), client("b")));
    h.timer.advance(6_000);
    await settle();
    const generation = joinA.value.generationId;
    const follower = joinA.value.leader === a ? b : a;
    const leader = joinA.value.leader;
    const parked = track(h.coordinator.syncGroup(syncRequest(G, follower, generation)));
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("CompletingRebalance");
    // A commit now is refused: the generation has not got its assignment yet.
    const commit = await h.coordinator.commitOffsets(
      commitRequest(G, generation, leader, [{ topic: "orders", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    expect(commit[0]!.partitions[0]!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const left = h.coordinator.leaveGroup(G, [{ memberId: leader, groupInstanceId: null }]);
    expect(left.members[0]!.errorCode).toBe(ErrorCode.NONE);
    await settle();
    expect(parked.value.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
  });

  it("PreparingRebalance -> Empty when the last member leaves; the empty generation is stored", async () => {
    const h = await harness();
    const { leader, follower } = await stableGroupOfTwo(h);
    h.coordinator.leaveGroup(G, [{ memberId: follower, groupInstanceId: null }]);
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
    h.coordinator.leaveGroup(G, [{ memberId: leader, groupInstanceId: null }]);
    await settle();
    const group = h.coordinator.classicGroup(G)!;
    expect(group.state).toBe("Empty");
    expect(group.generationId).toBe(2);
    const last = [...h.log.partitions.get(coordinatorPartitionFor(G, 50))!].pop()!;
    const decoded = decodeGroupRecord(last);
    expect(decoded.type === "GroupMetadata" && decoded.value?.members).toEqual([]);
  });

  it("a member that never sends SyncGroup is removed after the rebalance timeout", async () => {
    const h = await harness();
    const a = await firstJoin(h, G, "a");
    const b = await firstJoin(h, G, "b");
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    track(h.coordinator.joinGroup(joinRequest(G, b), client("b")));
    h.timer.advance(6_000);
    await settle();
    const leader = joinA.value.leader;
    const follower = leader === a ? b : a;
    const generation = joinA.value.generationId;
    await h.coordinator.syncGroup(
      syncRequest(G, leader, generation, [{ memberId: leader, assignment: assignment("orders", [0]) }]),
    );
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
    // The follower keeps its session with heartbeats but never syncs.
    for (let i = 0; i < 6; i++) {
      h.timer.advance(5_000);
      h.coordinator.heartbeat(G, follower, null, generation);
      h.coordinator.heartbeat(G, leader, null, generation);
    }
    expect(h.coordinator.classicGroup(G)?.member(follower)).toBeUndefined();
    expect(h.coordinator.classicGroup(G)?.state).toBe("PreparingRebalance");
  });

  it("a failed assignment write answers the sync with an error and rebalances", async () => {
    const h = await harness();
    const a = await firstJoin(h, G, "a");
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    h.timer.advance(3_000);
    await settle();
    h.log.failNext = 1;
    const sync = await h.coordinator.syncGroup(
      syncRequest(G, a, joinA.value.generationId, [{ memberId: a, assignment: assignment("orders", [0]) }]),
    );
    expect(sync.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.coordinator.classicGroup(G)?.state).not.toBe("Stable");
  });

  it("rejects heartbeats and syncs with the wrong generation or member", async () => {
    const h = await harness();
    const { leader, generation } = await stableGroupOfTwo(h);
    expect(h.coordinator.heartbeat(G, leader, null, generation - 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(h.coordinator.heartbeat(G, "nobody", null, generation)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.coordinator.heartbeat("other", leader, null, generation)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.coordinator.heartbeat(G, leader, null, generation)).toBe(ErrorCode.NONE);
    expect((await h.coordinator.syncGroup(syncRequest(G, leader, generation + 1))).errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    expect(
      (await h.coordinator.syncGroup(syncRequest(G, leader, generation, [], { protocolName: "roundrobin" })))
        .errorCode,
    ).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A follower rejoining with unchanged metadata in Stable gets the current generation back.
    const stableGroup = h.coordinator.classicGroup(G)!;
    const follower = [...stableGroup.members.keys()].find((id) => id !== leader)!;
    const again = await h.coordinator.joinGroup(joinRequest(G, follower), client("b"));
    expect(again.generationId).toBe(generation);
    expect(stableGroup.state).toBe("Stable");
  });

  it("leave with unknown members reports them per member; a missing group is UNKNOWN_MEMBER_ID", async () => {
    const h = await harness();
    const { leader } = await stableGroupOfTwo(h);
    const r = h.coordinator.leaveGroup(G, [
      { memberId: "ghost", groupInstanceId: null },
      { memberId: "", groupInstanceId: "no-such-instance" },
      { memberId: leader, groupInstanceId: null },
    ]);
    expect(r.members.map((m) => m.errorCode)).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
      ErrorCode.UNKNOWN_MEMBER_ID,
      ErrorCode.NONE,
    ]);
    expect(h.coordinator.leaveGroup("missing", []).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe("classic group: static membership (KIP-345)", () => {
  it("a restarted static member takes over without a rebalance and the old id is fenced", async () => {
    const h = await harness();
    const join = track(
      h.coordinator.joinGroup(joinRequest(G, "", { groupInstanceId: "host-1" }), client("a")),
    );
    h.timer.advance(3_000);
    await settle();
    const oldId = join.value.memberId;
    expect(oldId.startsWith("host-1-")).toBe(true);
    const generation = join.value.generationId;
    await h.coordinator.syncGroup(
      syncRequest(G, oldId, generation, [{ memberId: oldId, assignment: assignment("orders", [0]) }], {
        groupInstanceId: "host-1",
      }),
    );
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");

    const rejoin = await h.coordinator.joinGroup(
      joinRequest(G, "", { groupInstanceId: "host-1" }),
      client("a"),
    );
    expect(rejoin.errorCode).toBe(ErrorCode.NONE);
    expect(rejoin.memberId).not.toBe(oldId);
    expect(rejoin.generationId).toBe(generation);
    expect(rejoin.skipAssignment).toBe(true);
    expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
    // The zombie with the old id is fenced; the new one keeps the assignment.
    expect(h.coordinator.heartbeat(G, oldId, "host-1", generation)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const sync = await h.coordinator.syncGroup(
      syncRequest(G, rejoin.memberId, generation, [], { groupInstanceId: "host-1" }),
    );
    expect(sync.assignment).toEqual(assignment("orders", [0]));
    // Admin removal by instance id.
    const left = h.coordinator.leaveGroup(G, [{ memberId: "", groupInstanceId: "host-1" }]);
    expect(left.members[0]!.errorCode).toBe(ErrorCode.NONE);
  });
});

describe("offsets", () => {
  it("standalone commits (generation -1) create a simple group and round-trip metadata and epochs", async () => {
    const h = await harness();
    const results = await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [
        { topic: "orders", partition: 0, offset: 42n, metadata: "checkpoint-7", leaderEpoch: 3 },
        { topic: "orders", partition: 1, offset: 7n, metadata: null },
      ]),
      8,
      EVERY_PARTITION,
    );
    expect(results[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 0]);
    const fetched = h.coordinator.fetchOffsets("tool", [{ name: "orders", partitionIndexes: [0, 1, 2] }]);
    expect(fetched.topics[0]!.partitions).toEqual([
      {
        partitionIndex: 0,
        committedOffset: 42n,
        committedLeaderEpoch: 3,
        metadata: "checkpoint-7",
        errorCode: 0,
      },
      { partitionIndex: 1, committedOffset: 7n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
      { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: 0 },
    ]);
    expect(h.coordinator.listGroups([], []).groups).toEqual([
      { groupId: "tool", protocolType: "", groupState: "Empty", groupType: "classic" },
    ]);
  });

  it("group.max.offsets bounds the partitions a group holds offsets for; deletes make room", async () => {
    const h = await harness({ groupMaxOffsets: 2 });
    const commit = (partitions: number[]) =>
      h.coordinator.commitOffsets(
        commitRequest(
          "tool",
          -1,
          "",
          partitions.map((partition) => ({ topic: "orders", partition, offset: 1n })),
        ),
        8,
        EVERY_PARTITION,
      );
    // The same partition twice in one request counts once.
    const first = await commit([0, 0, 1, 2]);
    expect(first[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 0, 0, ErrorCode.GROUP_MAX_SIZE_REACHED]);
    expect((await commit([1, 0]))[0]!.partitions.map((p) => p.errorCode)).toEqual([0, 0]);
    expect(
      (await h.coordinator.deleteOffsets("tool", [{ name: "orders", partitionIndexes: [0] }])).errorCode,
    ).toBe(ErrorCode.NONE);
    expect((await commit([2]))[0]!.partitions.map((p) => p.errorCode)).toEqual([0]);
    // Partitions that do not exist are answered before anything else and never stored.
    const missing = await h.coordinator.commitOffsets(
      commitRequest("other", 3, "someone", [{ topic: "orders", partition: 9, offset: 1n }]),
      8,
      () => false,
    );
    expect(missing[0]!.partitions.map((p) => p.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(h.coordinator.classicGroup("other")).toBeUndefined();
  });

  it("commits are checked against generation and membership", async () => {
    const h = await harness();
    const { leader, generation } = await stableGroupOfTwo(h);
    const commit = (gen: number, member: string, version = 8) =>
      h.coordinator.commitOffsets(
        commitRequest(G, gen, member, [{ topic: "orders", partition: 0, offset: 5n }]),
        version,
        EVERY_PARTITION,
      );
    expect((await commit(generation, leader))[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect((await commit(generation + 1, leader))[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    expect((await commit(generation, "ghost"))[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // A standalone commit to a live group is refused.
    expect((await commit(-1, ""))[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const missing = (v: number) =>
      h.coordinator.commitOffsets(
        commitRequest("nope", 3, "m", [{ topic: "orders", partition: 0, offset: 1n }]),
        v,
        EVERY_PARTITION,
      );
    expect((await missing(8))[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await missing(9))[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("metadata longer than offset.metadata.max.bytes is refused for that partition only", async () => {
    const h = await harness({ offsetMetadataMaxBytes: 8 });
    const r = await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [
        { topic: "t", partition: 0, offset: 1n, metadata: "123456789" },
        { topic: "t", partition: 1, offset: 1n, metadata: "ok" },
      ]),
      8,
      EVERY_PARTITION,
    );
    expect(r[0]!.partitions.map((p) => p.errorCode)).toEqual([
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
      ErrorCode.NONE,
    ]);
  });

  it("a failed append is reported and the offset is not visible", async () => {
    const h = await harness();
    h.log.failNext = 1;
    const r = await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [{ topic: "t", partition: 0, offset: 9n }]),
      8,
      EVERY_PARTITION,
    );
    expect(r[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(
      h.coordinator.fetchOffsets("tool", [{ name: "t", partitionIndexes: [0] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(-1n);
  });

  it("committed offsets and group metadata survive a restart", async () => {
    const h = await harness();
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    await h.coordinator.commitOffsets(
      commitRequest(G, generation, leader, [
        { topic: "orders", partition: 0, offset: 100n, metadata: "m", leaderEpoch: 5 },
      ]),
      8,
      EVERY_PARTITION,
    );
    await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [{ topic: "orders", partition: 3, offset: 9n }]),
      8,
      EVERY_PARTITION,
    );
    const restarted = await h.restart();
    // The replaced coordinator neither answers nor writes any more.
    const recordsBefore = h.log.recordCount;
    const stale = await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [{ topic: "orders", partition: 3, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    expect(stale[0]!.partitions[0]!.errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(h.log.recordCount).toBe(recordsBefore);
    expect(restarted.fetchOffsets(G, null).topics).toEqual([
      {
        name: "orders",
        partitions: [
          { partitionIndex: 0, committedOffset: 100n, committedLeaderEpoch: 5, metadata: "m", errorCode: 0 },
        ],
      },
    ]);
    expect(
      restarted.fetchOffsets("tool", [{ name: "orders", partitionIndexes: [3] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(9n);
    const group = restarted.classicGroup(G)!;
    expect(group.state).toBe("Stable");
    expect(group.generationId).toBe(generation);
    expect(group.leaderId).toBe(leader);
    expect(group.member(follower)?.assignment).toEqual(assignment("orders", [2, 3]));
    // Loaded members that never come back are expired after their session timeout.
    h.timer.advance(10_000);
    await settle();
    expect(restarted.classicGroup(G)?.state).toBe("Empty");
    expect(restarted.classicGroup(G)?.generationId).toBe(generation + 1);
  });

  it("answers COORDINATOR_LOAD_IN_PROGRESS until loaded", async () => {
    const { GroupCoordinator, DEFAULT_GROUP_COORDINATOR_CONFIG } = await import(
      "../../../src/server/group/group-coordinator.js"
    );
    const { ManualTimer } = await import("../../../src/server/group/timer.js");
    const { MemoryGroupStateLog } = await import("./memory-log.js");
    const c = new GroupCoordinator({
      config: DEFAULT_GROUP_COORDINATOR_CONFIG,
      log: new MemoryGroupStateLog(),
      timer: new ManualTimer(),
    });
    expect((await c.joinGroup(joinRequest(G, ""), client())).errorCode).toBe(
      ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
    );
    expect(c.heartbeat(G, "m", null, 1)).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(c.fetchOffsets(G, null).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(c.listGroups([], []).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await c.load();
    expect(c.listGroups([], []).errorCode).toBe(ErrorCode.NONE);
  });

  it("offsets of an empty group expire after offsets.retention, then the group is gone", async () => {
    const h = await harness({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    await h.coordinator.commitOffsets(
      commitRequest(G, generation, leader, [{ topic: "orders", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    await h.coordinator.commitOffsets(
      commitRequest("live-tool", -1, "", [{ topic: "orders", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    // While the group has members, its offsets stay however old they are (it subscribes to orders).
    for (let i = 0; i < 10; i++) {
      h.timer.advance(9_000);
      h.coordinator.heartbeat(G, leader, null, generation);
      h.coordinator.heartbeat(G, follower, null, generation);
    }
    await settle();
    expect(h.coordinator.fetchOffsets(G, null).topics).toHaveLength(1);
    expect(h.coordinator.classicGroup("live-tool")).toBeUndefined();
    h.coordinator.leaveGroup(G, [
      { memberId: leader, groupInstanceId: null },
      { memberId: follower, groupInstanceId: null },
    ]);
    await settle();
    expect(h.coordinator.classicGroup(G)?.state).toBe("Empty");
    h.timer.advance(50_000);
    await settle();
    expect(h.coordinator.fetchOffsets(G, null).topics).toHaveLength(1);
    h.timer.advance(20_000);
    await settle();
    expect(h.coordinator.fetchOffsets(G, null).topics).toHaveLength(0);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
    // The expiry is durable: a restart does not bring the offsets back.
    const restarted = await h.restart();
    expect(restarted.listGroups([], []).groups).toEqual([]);
  });
});

describe("admin", () => {
  it("lists with state and type filters, case-insensitively", async () => {
    const h = await harness();
    await stableGroupOfTwo(h);
    await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [{ topic: "t", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    const ids = (states: string[], types: string[]) =>
      h.coordinator
        .listGroups(states, types)
        .groups.map((g) => g.groupId)
        .sort();
    expect(ids([], [])).toEqual([G, "tool"]);
    expect(ids(["stable"], [])).toEqual([G]);
    expect(ids(["EMPTY"], [])).toEqual(["tool"]);
    expect(ids([], ["Classic"])).toEqual([G, "tool"]);
    expect(ids([], ["consumer"])).toEqual([]);
  });

  it("describes an unknown group as Dead with no error; from v6 GROUP_ID_NOT_FOUND (KIP-1043)", async () => {
    const h = await harness();
    const dead = { groupId: "nope", groupState: "Dead", protocolType: "", protocolData: "", members: [] };
    expect(h.coordinator.describeGroups(["nope"])).toEqual([{ ...dead, errorCode: 0, errorMessage: null }]);
    expect(h.coordinator.describeGroups(["nope"], true)).toEqual([
      { ...dead, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: "Group nope not found." },
    ]);
    // A KIP-848 group is not a classic group.
    const joined = await h.coordinator.consumerGroupHeartbeat(consumerHeartbeat("kip848", "", 0), client());
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    expect(h.coordinator.describeGroups(["kip848"], true)[0]).toEqual(
      expect.objectContaining({
        errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
        errorMessage: "Group kip848 is not a classic group.",
        groupState: "Dead",
      }),
    );
  });

  it("deletes only empty groups, tombstoning their offsets", async () => {
    const h = await harness();
    const { leader, follower, generation } = await stableGroupOfTwo(h);
    await h.coordinator.commitOffsets(
      commitRequest(G, generation, leader, [{ topic: "orders", partition: 0, offset: 3n }]),
      8,
      EVERY_PARTITION,
    );
    expect(await h.coordinator.deleteGroups([G, "missing", ""])).toEqual([
      { groupId: G, errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: "missing", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: "", errorCode: ErrorCode.INVALID_GROUP_ID },
    ]);
    h.coordinator.leaveGroup(G, [
      { memberId: leader, groupInstanceId: null },
      { memberId: follower, groupInstanceId: null },
    ]);
    await settle();
    expect(await h.coordinator.deleteGroups([G])).toEqual([{ groupId: G, errorCode: 0 }]);
    expect(h.coordinator.fetchOffsets(G, null).topics).toEqual([]);
    expect(h.coordinator.describeGroups([G])[0]!.groupState).toBe("Dead");
    const restarted = await h.restart();
    expect(
      restarted.fetchOffsets(G, [{ name: "orders", partitionIndexes: [0] }]).topics[0]!.partitions[0]!
        .committedOffset,
    ).toBe(-1n);
    expect(restarted.classicGroup(G)).toBeUndefined();
  });

  it("OffsetDelete refuses subscribed topics of a live consumer group and deletes the rest", async () => {
    const h = await harness();
    const { leader, generation } = await stableGroupOfTwo(h);
    await h.coordinator.commitOffsets(
      commitRequest(G, generation, leader, [
        { topic: "orders", partition: 0, offset: 3n },
        { topic: "old-topic", partition: 0, offset: 8n },
      ]),
      8,
      EVERY_PARTITION,
    );
    const r = await h.coordinator.deleteOffsets(G, [
      { name: "orders", partitionIndexes: [0] },
      { name: "old-topic", partitionIndexes: [0] },
    ]);
    expect(r.errorCode).toBe(0);
    expect(r.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([
      ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC,
      ErrorCode.NONE,
    ]);
    expect(h.coordinator.fetchOffsets(G, null).topics.map((t) => t.name)).toEqual(["orders"]);
    expect((await h.coordinator.deleteOffsets("missing", [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it("drops the offsets of deleted topics, durably", async () => {
    const h = await harness();
    await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [
        { topic: "orders", partition: 0, offset: 4n },
        { topic: "refunds", partition: 1, offset: 6n },
      ]),
      8,
      EVERY_PARTITION,
    );
    await h.coordinator.commitOffsets(
      commitRequest("other", -1, "", [{ topic: "orders", partition: 2, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    expect(await h.coordinator.onTopicsDeleted(["orders"])).toBe(2);
    expect(h.coordinator.fetchOffsets("tool", null).topics.map((t) => t.name)).toEqual(["refunds"]);
    const restarted = await h.restart();
    expect(restarted.fetchOffsets("other", null).topics).toEqual([]);
    expect(restarted.fetchOffsets("tool", null).topics.map((t) => t.name)).toEqual(["refunds"]);
  });

  it("uses the wall time of the injected clock for commit timestamps", async () => {
    const h = await harness();
    await h.coordinator.commitOffsets(
      commitRequest("tool", -1, "", [{ topic: "t", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    const records = h.log.partitions.get(coordinatorPartitionFor("tool", 50))!;
    const decoded = decodeGroupRecord(records[0]!);
    expect(decoded.type === "OffsetCommit" && decoded.value?.commitTimestamp).toBe(BigInt(START_MS));
  });
});

describe("loading damaged or unusual records", () => {
  it("loads any well-formed GroupMetadata record without tripping an assertion", async () => {
    const { GroupCoordinator, DEFAULT_GROUP_COORDINATOR_CONFIG } = await import(
      "../../../src/server/group/group-coordinator.js"
    );
    const { ManualTimer } = await import("../../../src/server/group/timer.js");
    const { MemoryGroupStateLog } = await import("./memory-log.js");
    const { groupMetadataRecord } = await import("../../../src/server/group/offsets-records.js");
    const id = fc.constantFrom("a", "b", "c");
    const member = fc.record({
      memberId: id,
      groupInstanceId: fc.option(fc.constantFrom("i1", "i2")),
      clientId: fc.string({ maxLength: 5 }),
      clientHost: fc.string({ maxLength: 5 }),
      rebalanceTimeout: fc.integer({ min: -1, max: 100_000 }),
      sessionTimeout: fc.integer({ min: 1, max: 100_000 }),
      subscription: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
      assignment: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
    });
    const value = fc.record({
      protocolType: fc.constantFrom("", "consumer", "connect"),
      generation: fc.integer({ min: 0, max: 100 }),
      protocol: fc.option(fc.constantFrom("range", "roundrobin")),
      leader: fc.option(id),
      currentStateTimestamp: fc.bigInt({ min: -1n, max: 10n ** 13n }),
      members: fc.array(member, { maxLength: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const log = new MemoryGroupStateLog();
        await log.append(0, [groupMetadataRecord("g", v)]);
        const timer = new ManualTimer(START_MS);
        const c = new GroupCoordinator({
          config: { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicPartitions: 1 },
          log,
          timer,
        });
        await c.load();
        const group = c.classicGroup("g")!;
        expect(group.state).toBe(v.members.length === 0 ? "Empty" : "Stable");
        if (group.size > 0) expect(group.members.has(group.leaderId ?? "")).toBe(true);
        // Sessions run out and the group settles without errors.
        timer.advance(200_000);
        await settle();
        expect(c.describeGroups(["g"])[0]!.errorCode).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

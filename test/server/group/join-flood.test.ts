/**
 * JoinGroup floods (issue 19 item 2): thousands of JoinGroup requests without member id, each
 * answered MEMBER_ID_REQUIRED and never followed up, must neither keep a real member out of the
 * group nor hold up its rebalances. Kafka keeps such "pending" members until their session
 * timeout and never refuses a new member because of them; Krill bounds them per group by
 * forgetting the oldest.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { PENDING_MEMBERS_MAX } from "../../../src/server/group/group-coordinator.js";
import {
  client,
  consumerHeartbeat,
  firstJoin,
  type Harness,
  harness,
  joinRequest,
  settle,
  syncRequest,
  track,
} from "./helpers.js";

const G = "flooded";
/** The attacker's session timeout: Kafka's consumer default, so its pending members last 45 s. */
const FLOOD_SESSION_TIMEOUT_MS = 45_000;

async function flood(h: Harness, count: number): Promise<void> {
  const joins: Promise<{ errorCode: number }>[] = [];
  for (let i = 0; i < count; i++) {
    joins.push(
      h.coordinator.joinGroup(
        joinRequest(G, "", { sessionTimeoutMs: FLOOD_SESSION_TIMEOUT_MS }),
        client(`flood-${i}`),
      ),
    );
  }
  for (const r of await Promise.all(joins)) expect(r.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
}

/** A real member's two JoinGroups and SyncGroup in a new group, no time passing (delay 0). */
async function joinAlone(h: Harness, clientId: string): Promise<{ memberId: string; generation: number }> {
  const memberId = await firstJoin(h, G, clientId);
  const join = track(h.coordinator.joinGroup(joinRequest(G, memberId), client(clientId)));
  h.timer.advance(0);
  await settle();
  expect(join.value.errorCode).toBe(ErrorCode.NONE);
  expect(join.value.leader).toBe(memberId);
  const sync = await h.coordinator.syncGroup(syncRequest(G, memberId, join.value.generationId));
  expect(sync.errorCode).toBe(ErrorCode.NONE);
  expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
  return { memberId, generation: join.value.generationId };
}

describe("JoinGroup floods", () => {
  it("a real member joins a group flooded with pending members at once", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0 });
    await flood(h, PENDING_MEMBERS_MAX);
    await joinAlone(h, "real");
    expect(h.coordinator.classicGroup(G)?.size).toBe(1);
  });

  it("keeps at most PENDING_MEMBERS_MAX pending members, forgetting the oldest", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0 });
    const oldest = await firstJoin(h, G, "oldest");
    await flood(h, PENDING_MEMBERS_MAX);
    const group = h.coordinator.classicGroup(G)!;
    expect(group.numPendingJoinMembers).toBe(PENDING_MEMBERS_MAX);
    expect(group.isPendingMember(oldest)).toBe(false);
    // The forgotten member is told to start over, as after its pending session expired.
    const late = await h.coordinator.joinGroup(joinRequest(G, oldest), client("oldest"));
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    // One timer per pending member, never more.
    expect(h.timer.size).toBe(PENDING_MEMBERS_MAX + 1); // + the offset expiry task
    h.timer.advance(FLOOD_SESSION_TIMEOUT_MS);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
    expect(h.timer.size).toBe(1);
  });

  it("pending members do not count against group.max.size (Kafka's acceptJoiningMember)", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0, groupMaxSize: 1 });
    await flood(h, 100);
    await joinAlone(h, "real");
    // The group is full now: a second real member is refused, as Kafka refuses it.
    const r = await h.coordinator.joinGroup(joinRequest(G, ""), client("second"));
    expect(r.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it("a rebalance completes when every real member rejoined, whatever is pending", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0 });
    const a = await joinAlone(h, "a");
    // The flood arrives while the group is Stable: it does not rebalance the group.
    await flood(h, 1_000);
    expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
    expect(h.coordinator.heartbeat(G, a.memberId, null, a.generation)).toBe(ErrorCode.NONE);
    // A second real member joins; a rejoins after its heartbeat says so; no time passes.
    const b = await firstJoin(h, G, "b");
    const joinB = track(h.coordinator.joinGroup(joinRequest(G, b), client("b")));
    await settle();
    expect(h.coordinator.heartbeat(G, a.memberId, null, a.generation)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoinA = track(h.coordinator.joinGroup(joinRequest(G, a.memberId), client("a")));
    await settle();
    expect(joinB.done).toBe(true);
    expect(rejoinA.value.errorCode).toBe(ErrorCode.NONE);
    expect(rejoinA.value.generationId).toBe(a.generation + 1);
    expect(rejoinA.value.members).toHaveLength(2);
    expect(h.coordinator.classicGroup(G)?.state).toBe("CompletingRebalance");
  });

  it("pending members expiring during the initial delay do not cut it short", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 3_000 });
    await flood(h, 10);
    const a = await firstJoin(h, G, "a");
    h.timer.advance(1_000);
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    await settle();
    // The flood's pending members expire 45 s after they came; the delay runs its 3 s regardless.
    h.timer.advance(2_999);
    await settle();
    expect(joinA.done).toBe(false);
    h.timer.advance(1);
    await settle();
    expect(joinA.value.errorCode).toBe(ErrorCode.NONE);
  });

  it("a KIP-848 member takes over an empty classic group that has only pending members", async () => {
    const h = await harness();
    await flood(h, 1_000);
    const r = await h.coordinator.consumerGroupHeartbeat(consumerHeartbeat(G, "", 0), client("kip848"));
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(h.coordinator.consumerGroup(G)?.members.size).toBe(1);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
    // The flood's timers find no classic group when they fire; the member heartbeats meanwhile.
    h.timer.advance(FLOOD_SESSION_TIMEOUT_MS / 2);
    const hb = await h.coordinator.consumerGroupHeartbeat(
      consumerHeartbeat(G, r.memberId!, r.memberEpoch),
      client("kip848"),
    );
    expect(hb.errorCode).toBe(ErrorCode.NONE);
    h.timer.advance(FLOOD_SESSION_TIMEOUT_MS / 2);
    expect(h.coordinator.consumerGroup(G)?.members.size).toBe(1);
    expect(h.coordinator.classicGroup(G)).toBeUndefined();
  });
});

/**
 * KIP-848 consumer groups: the assignors, reconciliation, and ConsumerGroupHeartbeat driven
 * through the coordinator on a manual clock, checking after every step that no partition is
 * owned by two members at once.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ConsumerGroupHeartbeatRequest } from "../../../src/protocol/generated/consumer-group-heartbeat-request.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  type Assignment,
  type ConsumerGroup,
  RANGE_ASSIGNOR,
  type TopicInfo,
  UNIFORM_ASSIGNOR,
} from "../../../src/server/group/consumer-group.js";
import {
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
  type GroupCoordinatorConfig,
} from "../../../src/server/group/group-coordinator.js";
import { ManualTimer } from "../../../src/server/group/timer.js";
import { client, commitRequest, EVERY_PARTITION, consumerHeartbeat as hb, joinRequest } from "./helpers.js";
import { MemoryGroupStateLog } from "./memory-log.js";

const ORDERS = "AAAAAAAAAAAAAAAAAAAAAQ";
const REFUNDS = "AAAAAAAAAAAAAAAAAAAAAg";

function topicsMap(entries: [string, TopicInfo][]): Map<string, TopicInfo> {
  return new Map(entries);
}

function flat(a: Assignment | undefined): string[] {
  if (a === undefined) return [];
  return [...a].flatMap(([t, ps]) => [...ps].map((p) => `${t}-${p}`)).sort();
}

describe("assignors", () => {
  const topics = topicsMap([
    ["orders", { topicId: ORDERS, partitionCount: 5 }],
    ["refunds", { topicId: REFUNDS, partitionCount: 2 }],
  ]);

  it("range gives contiguous ranges in member id order, extra partitions first", () => {
    const r = RANGE_ASSIGNOR.assign({
      members: new Map([
        ["b", ["orders"]],
        ["a", ["orders"]],
      ]),
      topics,
      previous: new Map(),
    });
    expect([...r.get("a")!.get(ORDERS)!]).toEqual([0, 1, 2]);
    expect([...r.get("b")!.get(ORDERS)!]).toEqual([3, 4]);
  });

  it("uniform keeps what it can when a member joins", () => {
    const first = UNIFORM_ASSIGNOR.assign({
      members: new Map([["a", ["orders"]]]),
      topics,
      previous: new Map(),
    });
    expect(flat(first.get("a"))).toHaveLength(5);
    const second = UNIFORM_ASSIGNOR.assign({
      members: new Map([
        ["a", ["orders"]],
        ["b", ["orders"]],
      ]),
      topics,
      previous: first,
    });
    const a = flat(second.get("a"));
    const b = flat(second.get("b"));
    expect(a.length + b.length).toBe(5);
    expect(Math.abs(a.length - b.length)).toBe(1);
    // Everything a keeps, it had before: only the moved partitions change hands.
    expect(a.every((p) => flat(first.get("a")).includes(p))).toBe(true);
  });

  it("uniform: every partition exactly once, to a subscriber, balanced for equal subscriptions", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10 }),
        fc.boolean(),
        (members, partitions, extra, heterogeneous) => {
          const ts = topicsMap([
            ["t1", { topicId: "T1", partitionCount: partitions }],
            ["t2", { topicId: "T2", partitionCount: extra }],
          ]);
          const subs = new Map<string, string[]>();
          for (let i = 0; i < members; i++)
            subs.set(`m${i}`, heterogeneous && i % 2 === 1 ? ["t1"] : ["t1", "t2"]);
          const r = UNIFORM_ASSIGNOR.assign({ members: subs, topics: ts, previous: new Map() });
          const seen = new Map<string, string>();
          for (const [m, a] of r) {
            for (const [t, ps] of a) {
              for (const p of ps) {
                expect(seen.has(`${t}-${p}`)).toBe(false);
                seen.set(`${t}-${p}`, m);
                expect(subs.get(m)!).toContain(t === "T1" ? "t1" : "t2");
              }
            }
          }
          expect(seen.size).toBe(partitions + extra);
          if (!heterogeneous) {
            const loads = [...r.values()].map((a) => flat(a).length);
            expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

interface Setup {
  timer: ManualTimer;
  coordinator: GroupCoordinator;
  /** The topics the coordinator sees; replace the map to model a new metadata image. */
  state: { topics: Map<string, TopicInfo> };
}

async function setup(
  config: Partial<GroupCoordinatorConfig> = {},
  shared: { log?: MemoryGroupStateLog; timer?: ManualTimer } = {},
): Promise<Setup & { log: MemoryGroupStateLog }> {
  const timer = shared.timer ?? new ManualTimer(1_000_000);
  const log = shared.log ?? new MemoryGroupStateLog();
  const topics = topicsMap([
    ["orders", { topicId: ORDERS, partitionCount: 4 }],
    ["refunds", { topicId: REFUNDS, partitionCount: 2 }],
  ]);
  let n = 0;
  const coordinator = new GroupCoordinator({
    config: { ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...config },
    log,
    timer,
    newUuid: () => `id-${++n}`,
    topics: () => state.topics,
  });
  const state = { topics };
  await coordinator.load();
  return { timer, coordinator, state, log };
}

/** No partition is owned (assigned or pending revocation) by two members. */
function checkExclusive(group: ConsumerGroup | undefined): void {
  if (group === undefined) return;
  const owners = new Map<string, string>();
  for (const m of group.members.values()) {
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const key of flat(a)) {
        const other = owners.get(key);
        if (other !== undefined && other !== m.memberId)
          throw new Error(`${key} owned by ${other} and ${m.memberId}`);
        owners.set(key, m.memberId);
      }
    }
  }
}

const owned = (partitions: number[], topicId = ORDERS) => [{ topicId, partitions }];

describe("ConsumerGroupHeartbeat", () => {
  it("a second member gets partitions only after the first revoked them", async () => {
    const { coordinator } = await setup();
    const c = client("java");
    const g = () => coordinator.consumerGroup("app");
    const j1 = await coordinator.consumerGroupHeartbeat(hb("app", "m1", 0), c);
    expect(j1.errorCode).toBe(0);
    expect(j1.memberEpoch).toBe(1);
    expect(j1.heartbeatIntervalMs).toBe(5_000);
    expect(j1.assignment?.topicPartitions).toEqual([{ topicId: ORDERS, partitions: [0, 1, 2, 3] }]);
    expect(g()?.state).toBe("Stable");

    const j2 = await coordinator.consumerGroupHeartbeat(hb("app", "m2", 0), c);
    checkExclusive(g());
    expect(j2.memberEpoch).toBe(2);
    // m1 still owns everything: m2 waits with nothing.
    expect(j2.assignment?.topicPartitions).toEqual([]);
    expect(g()?.members.get("m2")?.state).toBe("UNRELEASED_PARTITIONS");
    expect(g()?.state).toBe("Reconciling");

    // m1 is told to keep two partitions; its epoch stays until it confirms the revocation.
    const r1 = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { topicPartitions: owned([0, 1, 2, 3]) }),
      c,
    );
    checkExclusive(g());
    expect(r1.memberEpoch).toBe(1);
    const kept = r1.assignment!.topicPartitions[0]!.partitions;
    expect(kept).toHaveLength(2);
    const r2 = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { topicPartitions: owned(kept) }),
      c,
    );
    expect(r2.memberEpoch).toBe(2);
    expect(r2.assignment).toBeNull();
    const got = await coordinator.consumerGroupHeartbeat(
      hb("app", "m2", 2, { topicPartitions: owned([]) }),
      c,
    );
    checkExclusive(g());
    const theirs = got.assignment!.topicPartitions[0]!.partitions;
    expect([...kept, ...theirs].sort()).toEqual([0, 1, 2, 3]);
    expect(g()?.state).toBe("Stable");

    // A leave hands everything back to the other member.
    const left = await coordinator.consumerGroupHeartbeat(hb("app", "m2", -1), c);
    expect(left.memberEpoch).toBe(-1);
    const all = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 2, { topicPartitions: owned(kept) }),
      c,
    );
    expect(all.memberEpoch).toBe(3);
    expect(all.assignment?.topicPartitions).toEqual([{ topicId: ORDERS, partitions: [0, 1, 2, 3] }]);
  });

  it("a member that stops heartbeating is removed after the session timeout", async () => {
    const { coordinator, timer } = await setup({ consumerSessionTimeoutMs: 10_000 });
    const c = client();
    await coordinator.consumerGroupHeartbeat(hb("app", "m1", 0), c);
    await coordinator.consumerGroupHeartbeat(hb("app", "m2", 0), c);
    for (let i = 0; i < 3; i++) {
      timer.advance(4_000);
      const m1 = coordinator.consumerGroup("app")!.members.get("m1")!;
      await coordinator.consumerGroupHeartbeat(
        hb("app", "m1", m1.memberEpoch, {
          topicPartitions: owned(flat(m1.assignedPartitions).map((k) => Number(k.split("-")[1]))),
        }),
        c,
      );
    }
    expect(coordinator.consumerGroup("app")?.members.has("m2")).toBe(false);
    expect((await coordinator.consumerGroupHeartbeat(hb("app", "m2", 2), c)).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it("a member that does not revoke within its rebalance timeout is fenced", async () => {
    const { coordinator, timer } = await setup();
    const c = client();
    await coordinator.consumerGroupHeartbeat(hb("app", "m1", 0, { rebalanceTimeoutMs: 5_000 }), c);
    await coordinator.consumerGroupHeartbeat(hb("app", "m2", 0), c);
    const r = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { topicPartitions: owned([0, 1, 2, 3]) }),
      c,
    );
    expect(coordinator.consumerGroup("app")?.members.get("m1")?.state).toBe("UNREVOKED_PARTITIONS");
    expect(r.memberEpoch).toBe(1);
    timer.advance(5_000);
    expect(coordinator.consumerGroup("app")?.members.has("m1")).toBe(false);
    const m2 = await coordinator.consumerGroupHeartbeat(
      hb("app", "m2", 2, { topicPartitions: owned([]) }),
      c,
    );
    expect(m2.assignment?.topicPartitions).toEqual([{ topicId: ORDERS, partitions: [0, 1, 2, 3] }]);
  });

  it("fences stale and future epochs, accepts the previous epoch when the response was lost", async () => {
    const { coordinator } = await setup();
    const c = client();
    await coordinator.consumerGroupHeartbeat(hb("app", "m1", 0), c);
    expect((await coordinator.consumerGroupHeartbeat(hb("app", "m1", 7), c)).errorCode).toBe(
      ErrorCode.FENCED_MEMBER_EPOCH,
    );
    // A subscription change moves the group to epoch 2; the member follows.
    await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { subscribedTopicNames: ["orders", "refunds"] }),
      c,
    );
    const m = coordinator.consumerGroup("app")!.members.get("m1")!;
    expect(m.memberEpoch).toBe(2);
    expect(m.previousMemberEpoch).toBe(1);
    // Previous epoch with a subset of the current assignment: accepted.
    expect(
      (
        await coordinator.consumerGroupHeartbeat(
          hb("app", "m1", m.previousMemberEpoch, { topicPartitions: owned([0]) }),
          c,
        )
      ).errorCode,
    ).toBe(0);
    expect((await coordinator.consumerGroupHeartbeat(hb("app", "ghost", 3), c)).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it("validates requests as Kafka does", async () => {
    const { coordinator } = await setup();
    const c = client();
    const code = async (r: ConsumerGroupHeartbeatRequest) =>
      (await coordinator.consumerGroupHeartbeat(r, c)).errorCode;
    expect(await code(hb("", "m", 0))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "m", 0, { subscribedTopicNames: [] }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "m", 0, { rebalanceTimeoutMs: -1 }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "m", 0, { topicPartitions: owned([1]) }))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "", 3))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "m", -7))).toBe(ErrorCode.INVALID_REQUEST);
    expect(await code(hb("g", "m", 0, { serverAssignor: "sticky" }))).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(await code(hb("g", "m", 0, { subscribedTopicNames: null, subscribedTopicRegex: "orders(" }))).toBe(
      ErrorCode.INVALID_REGULAR_EXPRESSION,
    );
  });

  it("subscribes by regex, whole names only, never internal topics", async () => {
    const { coordinator, state } = await setup();
    state.topics = new Map([
      ...state.topics,
      ["__consumer_offsets", { topicId: "AAAAAAAAAAAAAAAAAAAAAw", partitionCount: 50 }],
      ["orders-archive", { topicId: "AAAAAAAAAAAAAAAAAAAABA", partitionCount: 1 }],
    ]);
    const r = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 0, {
        subscribedTopicNames: null,
        subscribedTopicRegex: "orders|ref.*",
        serverAssignor: "range",
      }),
      client(),
    );
    expect(r.assignment?.topicPartitions).toEqual([
      { topicId: ORDERS, partitions: [0, 1, 2, 3] },
      { topicId: REFUNDS, partitions: [0, 1] },
    ]);
    // A topic created later that matches joins the subscription at the next heartbeat.
    state.topics = new Map([
      ...state.topics,
      ["refunds-eu", { topicId: "AAAAAAAAAAAAAAAAAAAABQ", partitionCount: 1 }],
    ]);
    const next = await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { topicPartitions: null }),
      client(),
    );
    expect(next.memberEpoch).toBe(2);
    expect(next.assignment?.topicPartitions.map((t) => t.topicId)).toContain("AAAAAAAAAAAAAAAAAAAABQ");
  });

  it("static members: a departed instance's partitions go to its replacement; a live one is not replaced", async () => {
    const { coordinator } = await setup();
    const c = client();
    await coordinator.consumerGroupHeartbeat(hb("app", "a1", 0, { instanceId: "host-a" }), c);
    await coordinator.consumerGroupHeartbeat(hb("app", "b1", 0, { instanceId: "host-b" }), c);
    expect(
      (await coordinator.consumerGroupHeartbeat(hb("app", "a2", 0, { instanceId: "host-a" }), c)).errorCode,
    ).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    const before = flat(coordinator.consumerGroup("app")!.members.get("a1")!.assignedPartitions);
    const left = await coordinator.consumerGroupHeartbeat(hb("app", "a1", -2, { instanceId: "host-a" }), c);
    expect(left.memberEpoch).toBe(-2);
    const back = await coordinator.consumerGroupHeartbeat(hb("app", "a2", 0, { instanceId: "host-a" }), c);
    expect(back.errorCode).toBe(0);
    // The replacement keeps the instance's share at once (no waiting for a release).
    const after = flat(coordinator.consumerGroup("app")!.members.get("a2")!.assignedPartitions);
    expect(after).toHaveLength(2);
    expect(after.every((p) => before.includes(p))).toBe(true);
    expect(back.assignment?.topicPartitions[0]?.partitions).toHaveLength(2);
    expect(coordinator.consumerGroup("app")!.members.has("a1")).toBe(false);
  });

  it("classic and consumer groups: Kafka's conversion rules", async () => {
    const { coordinator } = await setup({ groupInitialRebalanceDelayMs: 0 });
    // A group with classic members cannot take KIP-848 members.
    const classicJoin = coordinator.joinGroup(joinRequest("mixed", "", {}), client("old", 3));
    // Kafka's answers with group.consumer.migration.policy=disabled: a join is an upgrade refused,
    // a heartbeat with an epoch finds no consumer group.
    const refusedJoin = await coordinator.consumerGroupHeartbeat(hb("mixed", "m1", 0), client());
    expect(refusedJoin.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(refusedJoin.errorMessage).toBe(
      "Cannot upgrade classic group mixed to consumer group because online upgrade is disabled.",
    );
    const refusedHeartbeat = await coordinator.consumerGroupHeartbeat(hb("mixed", "m1", 3), client());
    expect(refusedHeartbeat.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(refusedHeartbeat.errorMessage).toBe("Group mixed is not a consumer group.");
    expect(coordinator.classicGroup("mixed")?.size).toBe(1);
    void classicJoin;
    // And the reverse.
    await coordinator.consumerGroupHeartbeat(hb("modern", "m1", 0), client());
    expect((await coordinator.joinGroup(joinRequest("modern", ""), client())).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    // An empty classic group (offsets only) is converted, keeping its offsets.
    await coordinator.commitOffsets(
      commitRequest("was-simple", -1, "", [{ topic: "orders", partition: 0, offset: 9n }]),
      9,
      EVERY_PARTITION,
    );
    const joined = await coordinator.consumerGroupHeartbeat(hb("was-simple", "m1", 0), client());
    expect(joined.errorCode).toBe(0);
    expect(
      coordinator.fetchOffsets("was-simple", [{ name: "orders", partitionIndexes: [0] }]).topics[0]!
        .partitions[0]!.committedOffset,
    ).toBe(9n);
    expect(
      coordinator
        .listGroups([], ["consumer"])
        .groups.map((g) => g.groupId)
        .sort(),
    ).toEqual(["modern", "was-simple"]);
  });

  it("offset commits and fetches check the member epoch", async () => {
    const { coordinator } = await setup();
    const r = await coordinator.consumerGroupHeartbeat(hb("app", "m1", 0), client());
    const commit = (epoch: number, member: string, version = 9) =>
      coordinator.commitOffsets(
        commitRequest("app", epoch, member, [{ topic: "orders", partition: 0, offset: 3n }]),
        version,
        EVERY_PARTITION,
      );
    expect((await commit(r.memberEpoch, "m1"))[0]!.partitions[0]!.errorCode).toBe(0);
    expect((await commit(r.memberEpoch + 1, "m1"))[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    expect((await commit(r.memberEpoch, "m1", 8))[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.UNSUPPORTED_VERSION,
    );
    expect((await commit(r.memberEpoch, "nobody"))[0]!.partitions[0]!.errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect(coordinator.fetchOffsets("app", null, "m1", r.memberEpoch).topics).toHaveLength(1);
    expect(coordinator.fetchOffsets("app", null, "m1", 99).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(coordinator.fetchOffsets("app", null).errorCode).toBe(0);
  });

  it("ConsumerGroupDescribe shows epochs, assignor, members and names topics", async () => {
    const { coordinator } = await setup();
    await coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 0, { serverAssignor: "range" }),
      client("java-client"),
    );
    const [d] = coordinator.consumerGroupDescribe(["app"]);
    expect(d).toMatchObject({
      errorCode: 0,
      groupState: "Stable",
      groupEpoch: 1,
      assignmentEpoch: 1,
      assignorName: "range",
    });
    expect(d!.members[0]).toMatchObject({
      memberId: "m1",
      memberEpoch: 1,
      clientId: "java-client",
      subscribedTopicNames: ["orders"],
      assignment: { topicPartitions: [{ topicId: ORDERS, topicName: "orders", partitions: [0, 1, 2, 3] }] },
    });
    await coordinator.commitOffsets(
      commitRequest("classic-one", -1, "", [{ topic: "orders", partition: 0, offset: 1n }]),
      8,
      EVERY_PARTITION,
    );
    const [missing, classic] = coordinator.consumerGroupDescribe(["nope", "classic-one"]);
    expect(missing!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(classic!.errorMessage).toMatch(/not a consumer group/);
  });

  it("group epochs, members and assignments survive a restart; removed members and groups stay gone", async () => {
    const first = await setup();
    const c = client();
    await first.coordinator.consumerGroupHeartbeat(hb("app", "m1", 0), c);
    await first.coordinator.consumerGroupHeartbeat(hb("app", "m2", 0), c);
    const r1 = await first.coordinator.consumerGroupHeartbeat(
      hb("app", "m1", 1, { topicPartitions: owned([0, 1, 2, 3]) }),
      c,
    );
    const kept = r1.assignment!.topicPartitions[0]!.partitions;
    await first.coordinator.consumerGroupHeartbeat(hb("app", "m1", 1, { topicPartitions: owned(kept) }), c);
    await first.coordinator.consumerGroupHeartbeat(hb("app", "m2", 2, { topicPartitions: owned([]) }), c);
    await first.coordinator.consumerGroupHeartbeat(hb("gone", "x1", 0), c);
    await first.coordinator.consumerGroupHeartbeat(hb("gone", "x1", -1), c);
    expect(await first.coordinator.deleteGroups(["gone"])).toEqual([{ groupId: "gone", errorCode: 0 }]);
    await first.coordinator.consumerGroupHeartbeat(
      hb("app", "m3", 0, { subscribedTopicNames: ["refunds"] }),
      c,
    );
    await first.coordinator.consumerGroupHeartbeat(hb("app", "m3", -1), c);
    const before = first.coordinator.consumerGroup("app")!;
    first.coordinator.close();

    const second = await setup({}, { log: first.log, timer: first.timer });
    const after = second.coordinator.consumerGroup("app")!;
    expect(after.groupEpoch).toBe(before.groupEpoch);
    expect(after.assignmentEpoch).toBe(before.assignmentEpoch);
    expect([...after.members.keys()].sort()).toEqual(["m1", "m2"]);
    for (const id of ["m1", "m2"]) {
      const a = after.members.get(id)!;
      const b = before.members.get(id)!;
      expect({ epoch: a.memberEpoch, state: a.state, partitions: flat(a.assignedPartitions) }).toEqual({
        epoch: b.memberEpoch,
        state: b.state,
        partitions: flat(b.assignedPartitions),
      });
      expect(flat(after.targetAssignment.get(id))).toEqual(flat(before.targetAssignment.get(id)));
    }
    expect(second.coordinator.consumerGroup("gone")).toBeUndefined();
    // The members carry on with their epochs, and no partition changes hands.
    const m1 = after.members.get("m1")!;
    const again = await second.coordinator.consumerGroupHeartbeat(
      hb("app", "m1", m1.memberEpoch, { topicPartitions: owned(kept) }),
      c,
    );
    expect(again.errorCode).toBe(0);
    // m1 had not caught up with m3's join and leave before the restart; it does now, keeping its partitions.
    expect(again.memberEpoch).toBe(before.groupEpoch);
    expect(flat(second.coordinator.consumerGroup("app")!.members.get("m1")!.assignedPartitions)).toEqual(
      kept.map((p) => `${ORDERS}-${p}`).sort(),
    );
    checkExclusive(second.coordinator.consumerGroup("app"));
    // Members that do not come back expire after the session timeout.
    second.timer.advance(45_000);
    expect(second.coordinator.consumerGroup("app")!.members.size).toBe(0);
  });
});

describe("uniform assignor at scale", () => {
  it("assigns 2000 partitions to 500 members with mixed subscriptions quickly and completely", () => {
    const topics = topicsMap(
      Array.from({ length: 20 }, (_, i): [string, TopicInfo] => [
        `t${i}`,
        { topicId: `T${i}`, partitionCount: 100 },
      ]),
    );
    const members = new Map<string, string[]>();
    for (let m = 0; m < 500; m++) members.set(`m${m}`, m % 3 === 0 ? ["t0", "t1", "t2"] : [...topics.keys()]);
    // The balancing step is budgeted, so this finishes well inside the test timeout.
    const r = UNIFORM_ASSIGNOR.assign({ members, topics, previous: new Map() });
    const owners = new Map<string, string>();
    for (const [m, a] of r) for (const k of flat(a)) owners.set(k, m);
    expect(owners.size).toBe(2000);
    // Members subscribed to everything are within one partition of each other.
    const loads = [...r].filter(([m]) => Number(m.slice(1)) % 3 !== 0).map(([, a]) => flat(a).length);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
  });
});

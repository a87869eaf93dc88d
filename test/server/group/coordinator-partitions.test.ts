/**
 * The group coordinator across a cluster: it serves only the partitions of __consumer_offsets it
 * was given (the ones its node leads), loads one when its node becomes leader and drops it when
 * leadership moves away. Two coordinators over one log stand for the old and the new leader.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  GroupCoordinator,
} from "../../../src/server/group/group-coordinator.js";
import { ManualTimer } from "../../../src/server/group/timer.js";
import {
  client,
  commitRequest,
  EVERY_PARTITION,
  firstJoin,
  joinRequest,
  START_MS,
  settle,
  track,
} from "./helpers.js";
import { MemoryGroupStateLog } from "./memory-log.js";

const config = { ...DEFAULT_GROUP_COORDINATOR_CONFIG, offsetsTopicPartitions: 4 };

function node(log: MemoryGroupStateLog, timer: ManualTimer): GroupCoordinator {
  return new GroupCoordinator({ config, log, timer, newUuid: () => `uuid-${Math.random()}` });
}

describe("group coordinator partitions (leadership of __consumer_offsets)", () => {
  it("serves the groups of loaded partitions only, and hands a partition over with its offsets", async () => {
    const log = new MemoryGroupStateLog();
    const timer = new ManualTimer(START_MS);
    const a = node(log, timer);
    const b = node(log, timer);
    const group = "orders-app";
    const p = a.partitionFor(group);
    const other = (p + 1) % 4;
    // Before any partition is given, as a lone broker loading: LOAD_IN_PROGRESS.
    expect(a.fetchOffsets(group, null).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    await a.loadPartition(p);
    await b.loadPartition(other);
    expect(a.partitions.get(p)).toBe("loaded");
    // b leads another partition: the group is not its to serve.
    expect(b.fetchOffsets(group, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await b.joinGroup(joinRequest(group, ""), client("x"))).errorCode).toBe(
      ErrorCode.NOT_COORDINATOR,
    );
    const committed = await a.commitOffsets(
      commitRequest(group, -1, "", [{ topic: "orders", partition: 0, offset: 42n }]),
      9,
      EVERY_PARTITION,
    );
    expect(committed[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    // A member parks in JoinGroup (the initial rebalance delay) when leadership moves away.
    const member = await firstJoin({ coordinator: a, log, timer, restart: async () => a }, group, "c1");
    const parked = track(a.joinGroup(joinRequest(group, member), client("c1")));
    await settle();
    expect(parked.done).toBe(false);
    a.unloadPartition(p);
    await settle();
    expect(parked.done).toBe(true);
    expect(parked.value.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(a.fetchOffsets(group, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(a.classicGroup(group)).toBeUndefined();
    // The new leader replays the partition: the committed offset is there.
    await b.loadPartition(p);
    const fetched = b.fetchOffsets(group, [{ name: "orders", partitionIndexes: [0] }]);
    expect(fetched.errorCode).toBe(ErrorCode.NONE);
    expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(42n);
    expect(b.listGroups([], []).groups.map((g) => g.groupId)).toEqual([group]);
    expect(a.listGroups([], []).errorCode).toBe(ErrorCode.NONE);
    expect(a.listGroups([], []).groups).toEqual([]);
    a.close();
    b.close();
  });

  it("forgets a load that leadership left while it replayed, and loads again when it returns", async () => {
    const log = new MemoryGroupStateLog();
    const timer = new ManualTimer(START_MS);
    const writer = node(log, timer);
    await writer.load();
    const group = "g1";
    const p = writer.partitionFor(group);
    await writer.commitOffsets(
      commitRequest(group, -1, "", [{ topic: "t", partition: 0, offset: 7n }]),
      9,
      EVERY_PARTITION,
    );
    writer.close();
    const c = node(log, timer);
    const loading = c.loadPartition(p);
    c.unloadPartition(p);
    await loading;
    expect(c.partitions.has(p)).toBe(false);
    expect(c.fetchOffsets(group, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    await c.loadPartition(p);
    expect(
      c.fetchOffsets(group, [{ name: "t", partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset,
    ).toBe(7n);
    c.close();
  });
});

/**
 * How long a classic join takes on the coordinator's clock. The benchmark (bench/notes.md) saw
 * slow joins; these pin down that the coordinator itself adds no waiting beyond Kafka's: with
 * group.initial.rebalance.delay.ms=0 a new group completes its join without any time passing, and
 * a rebalance completes as soon as the last known member rejoins, not at the rebalance timeout.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  assignment,
  client,
  firstJoin,
  harness,
  joinRequest,
  settle,
  syncRequest,
  track,
} from "./helpers.js";

const G = "latency";

describe("join latency on the coordinator's clock", () => {
  it("a new group with delay 0 completes its first join and sync without time passing", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0 });
    const started = h.timer.nowMs();
    const memberId = await firstJoin(h, G, "a");
    const join = track(h.coordinator.joinGroup(joinRequest(G, memberId), client("a")));
    // The delay-0 timer falls due at "now": running due tasks completes the join.
    h.timer.advance(0);
    await settle();
    expect(join.value.errorCode).toBe(ErrorCode.NONE);
    expect(join.value.generationId).toBe(1);
    expect(join.value.leader).toBe(memberId);
    const sync = await h.coordinator.syncGroup(
      syncRequest(G, memberId, 1, [{ memberId, assignment: assignment("orders", [0, 1]) }]),
    );
    expect(sync.errorCode).toBe(ErrorCode.NONE);
    expect(h.timer.nowMs()).toBe(started);
    expect(h.coordinator.classicGroup(G)?.state).toBe("Stable");
  });

  it("a new group with the default delay waits it out (Kafka's behaviour, for contrast)", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 3_000 });
    const memberId = await firstJoin(h, G, "a");
    const join = track(h.coordinator.joinGroup(joinRequest(G, memberId), client("a")));
    h.timer.advance(2_999);
    await settle();
    expect(join.done).toBe(false);
    h.timer.advance(1);
    await settle();
    expect(join.value.errorCode).toBe(ErrorCode.NONE);
  });

  it("a rebalance completes when the last known member rejoins, not at the rebalance timeout", async () => {
    const h = await harness({ groupInitialRebalanceDelayMs: 0 });
    const a = await firstJoin(h, G, "a");
    const joinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    h.timer.advance(0);
    await settle();
    expect(joinA.value.generationId).toBe(1);
    await h.coordinator.syncGroup(
      syncRequest(G, a, 1, [{ memberId: a, assignment: assignment("orders", [0]) }]),
    );
    const started = h.timer.nowMs();

    // A second member arrives: the group rebalances; the first learns it from its heartbeat.
    const b = await firstJoin(h, G, "b");
    const joinB = track(h.coordinator.joinGroup(joinRequest(G, b), client("b")));
    await settle();
    expect(joinB.done).toBe(false);
    expect(h.coordinator.heartbeat(G, a, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoinA = track(h.coordinator.joinGroup(joinRequest(G, a), client("a")));
    await settle();
    expect(rejoinA.value.errorCode).toBe(ErrorCode.NONE);
    expect(joinB.value.errorCode).toBe(ErrorCode.NONE);
    expect(joinB.value.generationId).toBe(2);
    expect(h.timer.nowMs()).toBe(started);
  });
});

/**
 * Random schedules of classic-group traffic on a manual clock (joins, rejoins, leader syncs,
 * follower syncs, heartbeats, leaves, silent members, time passing), checked after every step by
 * named invariants. fast-check prints the seed and the shrunk schedule of a failure, so it
 * replays exactly.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import {
  assignment,
  client,
  harness,
  joinRequest,
  settle,
  syncRequest,
  type Tracked,
  track,
} from "./helpers.js";

const G = "sim";
const MAX_SIZE = 2;

type Op =
  | { kind: "join"; who: number }
  | { kind: "sync"; who: number }
  | { kind: "heartbeat"; who: number }
  | { kind: "leave"; who: number }
  | { kind: "advance"; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("join" as const), who: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("sync" as const), who: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("heartbeat" as const), who: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("leave" as const), who: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 12_000 }) }),
);

interface Client {
  memberId: string;
  generation: number;
  isLeader: boolean;
  members: string[];
  pendingJoin: Tracked<import("../../../src/server/group/classic-group.js").JoinGroupResult> | null;
  pendingSync: Tracked<import("../../../src/server/group/classic-group.js").SyncGroupResult> | null;
  /** The assignment this client last received, with its generation. */
  received: { generation: number; assignment: Buffer } | null;
}

describe("classic group simulation", () => {
  it("keeps its invariants under random schedules", async () => {
    const statesSeen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const h = await harness({ groupMaxSize: MAX_SIZE, groupInitialRebalanceDelayMs: 1_000 });
        const clients: Client[] = Array.from({ length: 3 }, () => ({
          memberId: "",
          generation: -1,
          isLeader: false,
          members: [],
          pendingJoin: null,
          pendingSync: null,
          received: null,
        }));
        /** What each leader handed out per generation: memberId -> assignment. */
        const handedOut = new Map<number, Map<string, Buffer>>();
        let lastGeneration = 0;

        const absorb = () => {
          for (const c of clients) {
            if (c.pendingJoin?.done) {
              const r = c.pendingJoin.value;
              c.pendingJoin = null;
              if (r.errorCode === ErrorCode.NONE) {
                c.memberId = r.memberId;
                c.generation = r.generationId;
                c.isLeader = r.leader === r.memberId;
                c.members = r.members.map((m) => m.memberId);
              } else if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
                c.memberId = r.memberId;
              } else if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
                c.memberId = "";
                c.generation = -1;
              }
            }
            if (c.pendingSync?.done) {
              const r = c.pendingSync.value;
              c.pendingSync = null;
              if (r.errorCode === ErrorCode.NONE)
                c.received = { generation: c.generation, assignment: r.assignment };
            }
          }
        };

        const check = () => {
          const group = h.coordinator.classicGroup(G);
          if (group === undefined) return;
          statesSeen.add(group.state);
          // no-oversized-group: group.max.size holds.
          expect(group.size).toBeLessThanOrEqual(MAX_SIZE);
          // generation-monotonic: generations never go back.
          expect(group.generationId).toBeGreaterThanOrEqual(lastGeneration);
          lastGeneration = group.generationId;
          // one-leader: a group with members has a leader among them.
          if (group.size > 0) expect(group.members.has(group.leaderId ?? "")).toBe(true);
          // no-parked-requests-when-empty: an empty group holds no parked join or sync.
          if (group.isEmpty) {
            for (const m of group.members.values()) {
              expect(m.isAwaitingJoin || m.isAwaitingSync).toBe(false);
            }
          }
          // delivered-assignment: what a member received is what its leader sent for that generation.
          for (const c of clients) {
            if (c.received === null) continue;
            const sent = handedOut.get(c.received.generation)?.get(c.memberId);
            if (sent !== undefined) expect(c.received.assignment.equals(sent)).toBe(true);
          }
          // stable-means-assigned: in Stable, every member holds the generation's assignment.
          if (group.is("Stable")) {
            const sent = handedOut.get(group.generationId);
            expect(sent).toBeDefined();
            for (const m of group.members.values()) {
              expect(m.assignment.equals(sent!.get(m.memberId) ?? Buffer.alloc(0))).toBe(true);
            }
          }
        };

        for (const o of ops) {
          if (o.kind === "advance") {
            h.timer.advance(o.ms);
          } else {
            const c = clients[o.who]!;
            const cl = client(`c${o.who}`);
            if (o.kind === "join" && c.pendingJoin === null) {
              c.pendingJoin = track(h.coordinator.joinGroup(joinRequest(G, c.memberId), cl));
            } else if (o.kind === "sync" && c.pendingSync === null && c.generation >= 0) {
              let assignments: { memberId: string; assignment: Buffer }[] = [];
              if (c.isLeader) {
                assignments = c.members.map((m, i) => ({
                  memberId: m,
                  assignment: assignment("orders", [i]),
                }));
                if (!handedOut.has(c.generation)) {
                  handedOut.set(c.generation, new Map(assignments.map((a) => [a.memberId, a.assignment])));
                }
              }
              c.pendingSync = track(
                h.coordinator.syncGroup(syncRequest(G, c.memberId, c.generation, assignments)),
              );
            } else if (o.kind === "heartbeat" && c.memberId !== "") {
              const code = h.coordinator.heartbeat(G, c.memberId, null, c.generation);
              if (code === ErrorCode.UNKNOWN_MEMBER_ID) {
                c.memberId = "";
                c.generation = -1;
              }
            } else if (o.kind === "leave" && c.memberId !== "") {
              h.coordinator.leaveGroup(G, [{ memberId: c.memberId, groupInstanceId: null }]);
              c.memberId = "";
              c.generation = -1;
            }
          }
          await settle();
          absorb();
          check();
        }
        // Everyone leaves: the group empties and every parked request is answered.
        for (const c of clients) {
          if (c.memberId !== "")
            h.coordinator.leaveGroup(G, [{ memberId: c.memberId, groupInstanceId: null }]);
        }
        h.timer.advance(400_000);
        await settle();
        absorb();
        check();
        for (const c of clients) {
          expect(c.pendingJoin).toBeNull();
          expect(c.pendingSync).toBeNull();
        }
        const group = h.coordinator.classicGroup(G);
        if (group !== undefined) expect(group.size).toBe(0);
      }),
      {
        numRuns: 300,
        // One schedule known to reach Stable, then rebalance with a second member, always runs.
        examples: [
          [
            [
              { kind: "join", who: 0 },
              { kind: "join", who: 0 },
              { kind: "advance", ms: 2_000 },
              { kind: "sync", who: 0 },
              { kind: "join", who: 1 },
              { kind: "join", who: 1 },
              { kind: "heartbeat", who: 0 },
              { kind: "join", who: 0 },
              { kind: "sync", who: 1 },
              { kind: "advance", ms: 11_000 },
            ],
          ],
        ],
      },
    );
    // The schedules are rich enough to reach every live state.
    expect([...statesSeen].sort()).toEqual(["CompletingRebalance", "Empty", "PreparingRebalance", "Stable"]);
  }, 120_000);
});

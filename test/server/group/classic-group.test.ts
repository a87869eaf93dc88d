import { describe, expect, it } from "vitest";
import {
  CLASSIC_VALID_PREVIOUS_STATES,
  ClassicGroup,
  type ClassicGroupState,
  ClassicMember,
  isLegalClassicTransition,
} from "../../../src/server/group/classic-group.js";

const STATES: ClassicGroupState[] = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"];

const LEGAL: [ClassicGroupState, ClassicGroupState][] = [
  ["Empty", "PreparingRebalance"],
  ["Empty", "Dead"],
  ["PreparingRebalance", "CompletingRebalance"],
  ["PreparingRebalance", "Empty"],
  ["PreparingRebalance", "Dead"],
  ["CompletingRebalance", "Stable"],
  ["CompletingRebalance", "PreparingRebalance"],
  ["CompletingRebalance", "Dead"],
  ["Stable", "PreparingRebalance"],
  ["Stable", "Dead"],
  ["Dead", "Dead"],
];

describe("classic group state machine", () => {
  it("the transition table is exactly Kafka's", () => {
    const table: string[] = [];
    for (const [to, froms] of CLASSIC_VALID_PREVIOUS_STATES)
      for (const from of froms) table.push(`${from}->${to}`);
    expect(table.sort()).toEqual(LEGAL.map(([a, b]) => `${a}->${b}`).sort());
  });

  for (const from of STATES) {
    for (const to of STATES) {
      const legal = LEGAL.some(([a, b]) => a === from && b === to);
      it(`${from} -> ${to} is ${legal ? "legal" : "rejected"}`, () => {
        const group = new ClassicGroup("g", from, 0);
        expect(isLegalClassicTransition(from, to)).toBe(legal);
        if (legal) {
          group.transitionTo(to, 42);
          expect(group.state).toBe(to);
          expect(group.previousState).toBe(from);
          expect(group.currentStateTimestampMs).toBe(42);
        } else {
          expect(() => group.transitionTo(to, 42)).toThrow(/cannot go from/);
          expect(group.state).toBe(from);
        }
      });
    }
  }
});

function member(id: string, protocols: string[], instance: string | null = null): ClassicMember {
  return new ClassicMember(
    id,
    instance,
    "client",
    "/127.0.0.1",
    30_000,
    10_000,
    "consumer",
    protocols.map((name) => ({ name, metadata: Buffer.from(name) })),
  );
}

describe("classic group bookkeeping", () => {
  it("selects the protocol every member supports that most members prefer", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    g.add(member("a", ["range", "roundrobin"]), null);
    g.add(member("b", ["roundrobin", "range"]), null);
    g.add(member("c", ["roundrobin", "range", "sticky"]), null);
    expect(g.selectProtocol()).toBe("roundrobin");
    g.transitionTo("PreparingRebalance", 1);
    // A protocol only some members support is never chosen.
    expect(g.supportsProtocols("consumer", [{ name: "sticky", metadata: Buffer.alloc(0) }])).toBe(false);
  });

  it("an empty group accepts any non-empty protocol type; a live one only its own", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    expect(g.supportsProtocols("", [{ name: "x", metadata: Buffer.alloc(0) }])).toBe(false);
    expect(g.supportsProtocols("consumer", [])).toBe(false);
    g.add(member("a", ["range"]), null);
    g.transitionTo("PreparingRebalance", 1);
    expect(g.supportsProtocols("connect", [{ name: "range", metadata: Buffer.alloc(0) }])).toBe(false);
    expect(g.supportsProtocols("consumer", [{ name: "range", metadata: Buffer.alloc(0) }])).toBe(true);
  });

  it("the first member leads; the next one takes over when the leader leaves", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    g.add(member("a", ["range"]), null);
    g.add(member("b", ["range"]), null);
    expect(g.leaderId).toBe("a");
    g.remove("a");
    expect(g.leaderId).toBe("b");
    g.remove("b");
    expect(g.leaderId).toBeNull();
  });

  it("counts members awaiting join; all-joined does not wait for pending members", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    const a = member("a", ["range"]);
    g.addPendingMember("p");
    expect(g.hasAllMembersJoined()).toBe(true);
    g.add(a, () => {});
    expect(g.numAwaitingJoin).toBe(1);
    expect(g.hasAllMembersJoined()).toBe(true);
    expect(g.isPendingMember("p")).toBe(true);
    g.remove("p");
    expect(g.hasAllMembersJoined()).toBe(true);
    expect(
      g.completeJoin(a, {
        errorCode: 0,
        generationId: 1,
        protocolType: null,
        protocolName: null,
        leader: "",
        skipAssignment: false,
        memberId: "a",
        members: [],
      }),
    ).toBe(true);
    expect(g.numAwaitingJoin).toBe(0);
    expect(
      g.completeJoin(a, {
        errorCode: 0,
        generationId: 1,
        protocolType: null,
        protocolName: null,
        leader: "",
        skipAssignment: false,
        memberId: "a",
        members: [],
      }),
    ).toBe(false);
  });

  it("refuses a second static member with the same instance id", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    g.add(member("a", ["range"], "i1"), null);
    expect(() => g.add(member("b", ["range"], "i1"), null)).toThrow(/already/);
  });

  it("replacing a static member fences whoever waits on the old id", () => {
    const g = new ClassicGroup("g", "Empty", 0);
    const old = member("old", ["range"], "i1");
    let fencedWith = -1;
    g.add(old, (r) => {
      fencedWith = r.errorCode;
    });
    const replacement = g.replaceStaticMember("i1", "old", "new", 82);
    expect(fencedWith).toBe(82);
    expect(g.staticMemberId("i1")).toBe("new");
    expect(g.leaderId).toBe("new");
    expect(replacement.protocols).toEqual(old.protocols);
    expect(g.member("old")).toBeUndefined();
  });
});

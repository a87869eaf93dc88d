import { describe, expect, it } from "vitest";
import {
  canGrantVote,
  type EpochState,
  endEpochElectionBackoffMs,
  LEGAL_TRANSITIONS,
  MemoryQuorumStateStore,
  QuorumState,
} from "../../src/raft/quorum-state.js";

const votes = () => ({ granted: new Set([1]), rejected: new Set<number>() });
const unattached = (epoch: number, votedId = -1): EpochState => ({
  name: "unattached",
  epoch,
  votedId,
  electionDeadlineMs: 0,
});
const prospective = (epoch: number, leaderId = -1): EpochState => ({
  name: "prospective",
  epoch,
  leaderId,
  votedId: -1,
  electionDeadlineMs: 0,
  votes: votes(),
  retries: 1,
});
const candidate = (epoch: number): EpochState => ({
  name: "candidate",
  epoch,
  electionDeadlineMs: 0,
  votes: votes(),
  retries: 1,
  backoffUntilMs: null,
});
const follower = (epoch: number, leaderId: number): EpochState => ({
  name: "follower",
  epoch,
  leaderId,
  fetchDeadlineMs: 0,
  highWatermark: null,
  hasFetchedFromLeader: true,
  fetchingSnapshot: null,
});

describe("QuorumState", () => {
  it("writes the election before a durable transition takes effect", () => {
    const store = new MemoryQuorumStateStore();
    const q = new QuorumState(1, [1, 2, 3], store);
    q.transition(unattached(0), true);
    q.transition(unattached(0, 2), true);
    expect(store.read()).toEqual({ epoch: 0, leaderId: -1, votedId: 2 });
    q.transition(prospective(0), true);
    q.transition(candidate(1), true);
    expect(store.read()).toEqual({ epoch: 1, leaderId: -1, votedId: 1 });
  });

  it("refuses every transition the table does not list", () => {
    const q = new QuorumState(1, [1, 2, 3], new MemoryQuorumStateStore());
    q.transition(unattached(1), true);
    // An unattached voter cannot stand without a pre-vote, nor lead without an election.
    expect(() => q.transition(candidate(2), true)).toThrow(/illegal quorum transition unattached/);
    q.transition(follower(1, 2), true);
    expect(() => q.transition(follower(1, 3), true)).toThrow(/higher epoch/);
    expect(() => q.transition(unattached(0), true)).toThrow(/epoch decreases/);
    q.transition(prospective(1, 2), true);
    expect(() => q.transition(candidate(3), true)).toThrow(/exactly one/);
    expect(LEGAL_TRANSITIONS.leader).not.toContain("candidate");
  });

  it("lets a deposed leader follow the leader of a higher epoch (simulation seed 355)", () => {
    const q = new QuorumState(1, [1, 2, 3], new MemoryQuorumStateStore());
    q.transition(candidate(1), true);
    q.transition(
      {
        name: "leader",
        epoch: 1,
        epochStartOffset: 0,
        grantingVoters: [1, 2],
        voters: new Map(),
        observers: new Map(),
        highWatermark: null,
        fetchedVoters: new Set(),
        checkQuorumDeadlineMs: 0,
        unackedVoters: new Set(),
        resignRequested: false,
      },
      true,
    );
    expect(() => q.transition(follower(1, 2), true)).toThrow(/higher epoch/);
    q.transition(follower(2, 2), true);
    expect(q.state.name).toBe("follower");
  });

  it("lets an observer move only between unattached and follower", () => {
    const q = new QuorumState(9, [1, 2, 3], new MemoryQuorumStateStore());
    q.transition(unattached(0), true);
    expect(() => q.transition(prospective(0), true)).toThrow(/illegal/);
    q.transition(follower(2, 1), true);
    q.transition(unattached(3), true);
  });
});

describe("canGrantVote", () => {
  it("grants one vote per epoch, and pre-votes only to an up-to-date log", () => {
    expect(canGrantVote(unattached(1), 2, true, false)).toBe(true);
    expect(canGrantVote(unattached(1), 2, false, false)).toBe(false);
    expect(canGrantVote(unattached(1, 3), 2, true, false)).toBe(false);
    expect(canGrantVote(unattached(1, 2), 2, true, false)).toBe(true);
    expect(canGrantVote(unattached(1, 3), 2, true, true)).toBe(true);
    expect(canGrantVote(candidate(1), 2, true, false)).toBe(false);
    expect(canGrantVote(candidate(1), 2, true, true)).toBe(true);
  });

  it("refuses pre-votes while the leader is heard, and real votes in an epoch that has a leader", () => {
    expect(canGrantVote(follower(1, 3), 2, true, true)).toBe(false);
    expect(
      canGrantVote({ ...follower(1, 3), hasFetchedFromLeader: false } as EpochState, 2, true, true),
    ).toBe(true);
    expect(canGrantVote(prospective(1, 3), 2, true, false)).toBe(false);
    expect(canGrantVote(prospective(1), 2, true, false)).toBe(true);
  });
});

describe("endEpochElectionBackoffMs", () => {
  it("lets the first preferred successor stand at once and the others later", () => {
    expect(endEpochElectionBackoffMs(2, [2, 3, 4], 1000)).toBe(0);
    expect(endEpochElectionBackoffMs(3, [2, 3, 4], 1000)).toBe(250);
    expect(endEpochElectionBackoffMs(4, [2, 3, 4], 1000)).toBe(500);
    expect(endEpochElectionBackoffMs(5, [2, 3, 4], 1000)).toBe(1000);
  });
});

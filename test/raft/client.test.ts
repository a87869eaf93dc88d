import { describe, expect, it } from "vitest";
import { RaftClient } from "../../src/raft/client.js";
import { defaultQuorumConfig } from "../../src/raft/config.js";
import { MemoryRaftLog } from "../../src/raft/memory-log.js";
import { MemoryQuorumStateStore } from "../../src/raft/quorum-state.js";
import {
  Errors,
  type RaftBatch,
  type RaftClock,
  type RaftRequest,
  type RaftResponse,
} from "../../src/raft/types.js";
import { Prng } from "./simulation.js";

/** One RaftClient on a hand-driven clock, with every message it sends captured. */
function harness(nodeId: number, voters: number[]) {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const clock: RaftClock = {
    nowMs: () => now,
    setTimer(delayMs, fn) {
      const t = { at: now + delayMs, fn, cancelled: false };
      timers.push(t);
      return t;
    },
    clearTimer(h) {
      (h as { cancelled: boolean }).cancelled = true;
    },
  };
  const sent: { to: number; correlationId: number; request: RaftRequest }[] = [];
  const answers: { to: number; correlationId: number; response: RaftResponse }[] = [];
  const committed: RaftBatch[] = [];
  const unreachable: number[] = [];
  const log = new MemoryRaftLog();
  const store = new MemoryQuorumStateStore();
  const client = new RaftClient({
    nodeId,
    clusterId: "c1",
    config: defaultQuorumConfig(voters),
    clock,
    random: new Prng(1),
    channel: {
      send: (to, correlationId, request) => sent.push({ to, correlationId, request }),
      respond: (to, correlationId, response) => answers.push({ to, correlationId, response }),
    },
    log,
    store,
    listener: {
      handleCommit: (b) => committed.push(b),
      handleLoadSnapshot() {},
      handleLeaderChange() {},
      handleVoterUnreachable: (id) => unreachable.push(id),
    },
  });
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.cancelled = true;
      now = due.at;
      due.fn();
    }
    now = until;
  };
  return { client, log, store, sent, answers, committed, unreachable, advance };
}

const fetch = (over: Partial<Extract<RaftRequest, { api: "Fetch" }>>): RaftRequest => ({
  api: "Fetch",
  clusterId: "c1",
  replicaId: 2,
  maxWaitMs: 0,
  maxBytes: 1 << 20,
  currentLeaderEpoch: 1,
  fetchOffset: 0,
  lastFetchedEpoch: 0,
  highWatermark: -1,
  ...over,
});

describe("RaftClient", () => {
  it("as the only voter, elects itself at start and commits what it is given after the linger", () => {
    const h = harness(1, [1]);
    h.client.start();
    expect(h.client.state.name).toBe("leader");
    expect(h.client.epoch).toBe(1);
    expect(h.store.read()).toEqual({ epoch: 1, leaderId: 1, votedId: -1 });
    // The LeaderChangeMessage is committed at once: it is the record of the leader's own epoch.
    expect(h.client.highWatermark).toBe(1);
    const r = h.client.propose([Buffer.from("a"), Buffer.from("b")]);
    expect(r).toEqual({ ok: true, epoch: 1, lastOffset: 2 });
    expect(h.client.highWatermark).toBe(1);
    h.advance(25);
    expect(h.client.highWatermark).toBe(3);
    expect(h.committed.map((b) => b.records.map((x) => x.type))).toEqual([
      ["leaderChange"],
      ["data", "data"],
    ]);
  });

  it("comes back Resigned in its epoch after a restart as leader, then stands again", () => {
    const h = harness(1, [1, 2, 3]);
    h.store.write({ epoch: 4, leaderId: 1, votedId: -1 });
    h.client.start();
    expect(h.client.state.name).toBe("resigned");
    expect(h.sent.filter((m) => m.request.api === "EndQuorumEpoch").map((m) => m.to)).toEqual([2, 3]);
    h.advance(2000);
    expect(h.client.state.name).toBe("prospective");
    expect(h.client.epoch).toBe(4);
    expect(h.sent.filter((m) => m.request.api === "Vote" && m.request.preVote).length).toBe(2);
  });

  it("a candidate refused by one voter and unable to reach the other backs off at once, not after its election timeout", () => {
    const h = harness(1, [1, 2, 3]);
    h.store.write({ epoch: 5, leaderId: -1, votedId: 1 });
    h.client.start();
    expect(h.client.state.name).toBe("candidate");
    const votes = h.sent.filter((m) => m.request.api === "Vote" && !m.request.preVote);
    expect(votes.map((m) => m.to)).toEqual([2, 3]);
    // Node 2 stood too and voted for itself; node 3 is down (its leader's crash: connection refused).
    h.client.handleResponse(2, votes[0]!.correlationId, {
      api: "Vote",
      errorCode: Errors.NONE,
      leaderId: -1,
      leaderEpoch: 5,
      voteGranted: false,
    });
    h.client.handleSendFailure(3, votes[1]!.correlationId);
    const s = h.client.state;
    expect(s.name === "candidate" && s.backoffUntilMs !== null).toBe(true);
    // The backoff of a first retry is at most 100 ms; the election timeout is at least 1000 ms.
    h.advance(150);
    expect(h.client.state.name).toBe("prospective");
  });

  it("stores a vote before answering it, and refuses a second candidate in the same epoch", () => {
    const h = harness(2, [1, 2, 3]);
    h.client.start();
    const vote = (candidate: number): RaftRequest => ({
      api: "Vote",
      clusterId: "c1",
      voterId: 2,
      replicaEpoch: 1,
      replicaId: candidate,
      lastOffsetEpoch: 0,
      lastOffset: 0,
      preVote: false,
    });
    h.client.handleRequest(1, 7, vote(1));
    expect(h.store.read()).toEqual({ epoch: 1, leaderId: -1, votedId: 1 });
    expect(h.answers.at(-1)?.response).toMatchObject({
      api: "Vote",
      errorCode: Errors.NONE,
      voteGranted: true,
    });
    h.client.handleRequest(3, 8, vote(3));
    expect(h.answers.at(-1)?.response).toMatchObject({ api: "Vote", voteGranted: false });
  });

  it("backs off before asking again a voter that answered with an error (simulation seed 1775)", () => {
    const h = harness(2, [1, 2, 3]);
    h.store.write({ epoch: 3, leaderId: 1, votedId: -1 });
    h.client.start();
    expect(h.client.state.name).toBe("follower");
    const first = h.sent.at(-1)!;
    expect(first).toMatchObject({ to: 1, request: { api: "Fetch", currentLeaderEpoch: 3 } });
    // The old leader has resigned and knows no successor: NOT_LEADER_OR_FOLLOWER, no leader.
    h.client.handleResponse(1, first.correlationId, {
      api: "Fetch",
      errorCode: Errors.NOT_LEADER_OR_FOLLOWER,
      leaderId: -1,
      leaderEpoch: 3,
      highWatermark: -1,
      logStartOffset: 0,
      divergingEpoch: null,
      snapshotId: null,
      batches: [],
    });
    const sentAfterError = h.sent.length;
    h.advance(19);
    expect(h.sent.length).toBe(sentAfterError);
    h.advance(1);
    expect(h.sent.length).toBe(sentAfterError + 1);
  });

  it("answers bad requests with Kafka's errors", () => {
    const h = harness(1, [1]);
    h.client.start();
    h.client.handleRequest(2, 1, { ...fetch({}), clusterId: "other" } as RaftRequest);
    expect(h.answers.at(-1)?.response.errorCode).toBe(Errors.INCONSISTENT_CLUSTER_ID);
    h.client.handleRequest(2, 2, fetch({ lastFetchedEpoch: 5 }));
    expect(h.answers.at(-1)?.response.errorCode).toBe(Errors.INVALID_REQUEST);
    h.client.handleRequest(2, 3, fetch({ currentLeaderEpoch: 0 }));
    expect(h.answers.at(-1)?.response).toMatchObject({
      errorCode: Errors.FENCED_LEADER_EPOCH,
      leaderId: 1,
      leaderEpoch: 1,
    });
    h.client.handleRequest(2, 4, fetch({ currentLeaderEpoch: 9 }));
    expect(h.answers.at(-1)?.response.errorCode).toBe(Errors.UNKNOWN_LEADER_EPOCH);
    h.client.handleRequest(2, 5, fetch({ fetchOffset: 1, lastFetchedEpoch: 0 }));
    expect(h.answers.at(-1)?.response).toMatchObject({
      errorCode: Errors.NONE,
      divergingEpoch: { epoch: 0, endOffset: 0 },
    });
  });

  it("parks a fetch at the log end until the log grows (long poll)", () => {
    const h = harness(1, [1]);
    h.client.start();
    h.client.handleRequest(
      9,
      1,
      fetch({ replicaId: 9, fetchOffset: 1, lastFetchedEpoch: 1, maxWaitMs: 500, highWatermark: 1 }),
    );
    expect(h.answers.length).toBe(0);
    h.client.propose([Buffer.from("x")]);
    h.advance(25);
    const answer = h.answers.at(-1);
    expect(answer?.correlationId).toBe(1);
    expect(answer?.response).toMatchObject({ api: "Fetch", errorCode: Errors.NONE, highWatermark: 2 });
    expect((answer!.response as Extract<RaftResponse, { api: "Fetch" }>).batches[0]?.baseOffset).toBe(1);
    expect(h.client.describeQuorum().observers.map((o) => o.replicaId)).toEqual([9]);
  });
});

/** A follower of leader 1 in epoch 3 that has fetched from it once (nothing to append). */
function followerThatFetched(nodeId: number, voters: number[]) {
  const h = harness(nodeId, voters);
  h.store.write({ epoch: 3, leaderId: 1, votedId: -1 });
  h.client.start();
  const first = h.sent.at(-1)!;
  expect(first).toMatchObject({ to: 1, request: { api: "Fetch" } });
  h.client.handleResponse(1, first.correlationId, {
    api: "Fetch",
    errorCode: Errors.NONE,
    leaderId: 1,
    leaderEpoch: 3,
    highWatermark: 0,
    logStartOffset: 0,
    divergingEpoch: null,
    snapshotId: null,
    batches: [],
  });
  return h;
}

const preVoteAnswer = (granted: boolean, leaderId: number): RaftResponse => ({
  api: "Vote",
  errorCode: Errors.NONE,
  leaderId,
  leaderEpoch: 3,
  voteGranted: granted,
});

describe("RaftClient: the leader's connection closes (fast failover)", () => {
  it("the first voter by id stands at once when its leader closes the fetch connection", () => {
    const h = followerThatFetched(2, [1, 2, 3]);
    const pending = h.sent.at(-1)!;
    expect(pending.request.api).toBe("Fetch");
    h.client.handleSendFailure(1, pending.correlationId, true);
    expect(h.client.state.name).toBe("prospective");
    expect(h.client.epoch).toBe(3);
    expect(h.client.unreachableVoters).toEqual(new Set([1]));
    expect(h.unreachable).toEqual([1]);
    const preVotes = h.sent.filter((m) => m.request.api === "Vote" && m.request.preVote);
    expect(preVotes.map((m) => m.to).sort()).toEqual([1, 3]);
    // Node 3 noticed too: it grants, and node 2 stands for epoch 4.
    h.client.handleResponse(3, preVotes.find((m) => m.to === 3)!.correlationId, preVoteAnswer(true, 1));
    expect(h.client.state.name).toBe("candidate");
    expect(h.client.epoch).toBe(4);
  });

  it("the others wait a backoff by rank; a timeout or a failure of another kind changes nothing", () => {
    const h = followerThatFetched(3, [1, 2, 3]);
    h.client.handleSendFailure(1, h.sent.at(-1)!.correlationId, false);
    expect(h.client.state.name).toBe("follower");
    expect(h.client.unreachableVoters.size).toBe(0);
    h.advance(20); // the retry backoff: the next Fetch
    h.client.handleSendFailure(1, h.sent.at(-1)!.correlationId, true);
    expect(h.client.state.name).toBe("follower");
    // Node 3 is second of [2, 3]: it stands after half of election.backoff.max.ms (500 ms), not
    // after the 2 s fetch timeout, and meanwhile grants pre-votes (it no longer hears from 1).
    h.client.handleRequest(2, 1, {
      api: "Vote",
      clusterId: "c1",
      voterId: 3,
      replicaEpoch: 3,
      replicaId: 2,
      lastOffsetEpoch: 0,
      lastOffset: 0,
      preVote: true,
    });
    expect(h.answers.at(-1)?.response).toMatchObject({ api: "Vote", voteGranted: true });
    h.advance(499);
    expect(h.client.state.name).toBe("follower");
    h.advance(1);
    expect(h.client.state.name).toBe("prospective");
  });

  it("a pre-vote refused on behalf of the closed leader is asked again; a live leader's refusal ends it", () => {
    const h = followerThatFetched(2, [1, 2, 3]);
    h.client.handleSendFailure(1, h.sent.at(-1)!.correlationId, true);
    const toNode3 = () => h.sent.filter((m) => m.to === 3 && m.request.api === "Vote");
    // Node 3 has not noticed yet: it refuses, still naming 1 as its leader.
    h.client.handleResponse(3, toNode3()[0]!.correlationId, preVoteAnswer(false, 1));
    expect(h.client.state.name).toBe("prospective");
    h.advance(20);
    expect(toNode3().length).toBe(2);
    h.client.handleResponse(3, toNode3()[1]!.correlationId, preVoteAnswer(true, -1));
    expect(h.client.state.name).toBe("candidate");

    // Leader 1 is alive after all (only the connection was reset): its own refusal clears it
    // from the unreachable voters, node 3's refusal then counts, and node 2 follows 1 again in
    // the same epoch.
    const g = followerThatFetched(2, [1, 2, 3]);
    g.client.handleSendFailure(1, g.sent.at(-1)!.correlationId, true);
    const to = (id: number) => g.sent.filter((m) => m.to === id && m.request.api === "Vote").at(-1)!;
    g.client.handleResponse(1, to(1).correlationId, preVoteAnswer(false, 1));
    expect(g.client.unreachableVoters.size).toBe(0);
    g.client.handleResponse(3, to(3).correlationId, preVoteAnswer(false, 1));
    expect(g.client.state).toMatchObject({ name: "follower", leaderId: 1, epoch: 3 });
  });

  it("a new leader starts with no unreachable voters and learns them from BeginQuorumEpoch", () => {
    const h = followerThatFetched(2, [1, 2, 3]);
    h.client.handleSendFailure(1, h.sent.at(-1)!.correlationId, true);
    const preVote = h.sent.filter((m) => m.to === 3 && m.request.api === "Vote").at(-1)!;
    h.client.handleResponse(3, preVote.correlationId, preVoteAnswer(true, -1));
    const vote = h.sent.filter((m) => m.to === 3 && m.request.api === "Vote").at(-1)!;
    h.client.handleResponse(3, vote.correlationId, { ...preVoteAnswer(true, -1), leaderEpoch: 4 });
    expect(h.client.state.name).toBe("leader");
    expect(h.client.unreachableVoters.size).toBe(0);
    const begin = h.sent.filter((m) => m.to === 1 && m.request.api === "BeginQuorumEpoch").at(-1)!;
    h.client.handleSendFailure(1, begin.correlationId, true);
    expect(h.client.unreachableVoters).toEqual(new Set([1]));
    expect(h.unreachable).toEqual([1, 1]);
  });
});

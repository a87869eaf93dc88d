/**
 * SingleVoterEndpoint: a single node's answers to the quorum RPCs, as Kafka's leader of a quorum of
 * one answers them (the over-the-wire side is in test/server/controller-listener.test.ts).
 */
import { describe, expect, it } from "vitest";
import { SingleVoterEndpoint } from "../../src/raft/single-voter-endpoint.js";
import { Errors, type RaftRequest } from "../../src/raft/types.js";

const EPOCH = 4;
const endpoint = new SingleVoterEndpoint({
  nodeId: 1,
  clusterId: "c",
  log: () => ({ epoch: EPOCH, startOffset: 10, endOffset: 42 }),
  nowMs: () => 1_000,
});
const error = (r: RaftRequest) => endpoint.answer(r).errorCode;

describe("a single node's quorum answers", () => {
  it("leads its own epoch and answers DescribeQuorum as the only voter", () => {
    expect(endpoint.leaderId).toBe(1);
    expect(endpoint.epoch).toBe(EPOCH);
    expect(endpoint.answer({ api: "DescribeQuorum" })).toEqual({
      api: "DescribeQuorum",
      errorCode: Errors.NONE,
      leaderId: 1,
      leaderEpoch: EPOCH,
      highWatermark: 42,
      currentVoters: [
        { replicaId: 1, logEndOffset: 42, lastFetchTimestamp: 1_000, lastCaughtUpTimestamp: 1_000 },
      ],
      observers: [],
    });
    endpoint.setEndpoint({ name: "CONTROLLER", host: "h", port: 9093 });
    expect([...endpoint.endpoints]).toEqual([[1, { name: "CONTROLLER", host: "h", port: 9093 }]]);
  });

  it("never grants a vote, and checks cluster, fields, epoch and voter key first", () => {
    const vote = (f: Partial<Extract<RaftRequest, { api: "Vote" }>> = {}): RaftRequest => ({
      api: "Vote",
      clusterId: "c",
      voterId: 1,
      replicaEpoch: EPOCH + 1,
      replicaId: 2,
      lastOffsetEpoch: EPOCH,
      lastOffset: 100,
      preVote: false,
      ...f,
    });
    expect(endpoint.answer(vote())).toMatchObject({
      errorCode: Errors.NONE,
      voteGranted: false,
      leaderId: 1,
    });
    expect(
      endpoint.answer(vote({ preVote: true, replicaEpoch: EPOCH, lastOffsetEpoch: EPOCH })),
    ).toMatchObject({
      errorCode: Errors.NONE,
      voteGranted: false,
    });
    expect(error(vote({ clusterId: "x" }))).toBe(Errors.INCONSISTENT_CLUSTER_ID);
    expect(error(vote({ lastOffsetEpoch: EPOCH + 1 }))).toBe(Errors.INVALID_REQUEST);
    expect(error(vote({ replicaId: -1 }))).toBe(Errors.INVALID_REQUEST);
    expect(error(vote({ replicaEpoch: EPOCH - 1, lastOffsetEpoch: 0 }))).toBe(Errors.FENCED_LEADER_EPOCH);
    expect(error(vote({ voterId: 3 }))).toBe(Errors.INVALID_VOTER_KEY);
  });

  it("accepts BeginQuorumEpoch and EndQuorumEpoch only from itself in its epoch", () => {
    for (const api of ["BeginQuorumEpoch", "EndQuorumEpoch"] as const) {
      const req = (leaderId: number, leaderEpoch: number, clusterId: string | null = null): RaftRequest =>
        api === "BeginQuorumEpoch"
          ? { api, clusterId, voterId: 1, leaderId, leaderEpoch }
          : { api, clusterId, leaderId, leaderEpoch, preferredCandidates: [] };
      expect(error(req(1, EPOCH))).toBe(Errors.NONE);
      expect(error(req(2, EPOCH + 1))).toBe(Errors.INVALID_REQUEST);
      expect(error(req(1, EPOCH + 1))).toBe(Errors.INVALID_REQUEST);
      expect(error(req(2, EPOCH - 1))).toBe(Errors.FENCED_LEADER_EPOCH);
      expect(error(req(1, EPOCH, "x"))).toBe(Errors.INCONSISTENT_CLUSTER_ID);
    }
  });

  it("checks Fetch and FetchSnapshot epochs as a leader, and does not serve its log", () => {
    const fetch = (currentLeaderEpoch: number, f: Partial<Extract<RaftRequest, { api: "Fetch" }>> = {}) =>
      endpoint.answer({
        api: "Fetch",
        clusterId: null,
        replicaId: 2,
        maxWaitMs: 500,
        maxBytes: 1024,
        currentLeaderEpoch,
        fetchOffset: 0,
        lastFetchedEpoch: 0,
        highWatermark: -1,
        ...f,
      });
    expect(fetch(EPOCH)).toMatchObject({
      errorCode: Errors.BROKER_NOT_AVAILABLE,
      leaderId: 1,
      leaderEpoch: EPOCH,
      logStartOffset: 10,
      batches: [],
    });
    expect(fetch(EPOCH + 1).errorCode).toBe(Errors.UNKNOWN_LEADER_EPOCH);
    expect(fetch(EPOCH - 1).errorCode).toBe(Errors.FENCED_LEADER_EPOCH);
    expect(fetch(EPOCH, { fetchOffset: -1 }).errorCode).toBe(Errors.INVALID_REQUEST);
    expect(fetch(EPOCH, { clusterId: "x" }).errorCode).toBe(Errors.INCONSISTENT_CLUSTER_ID);
    const snapshot = (currentLeaderEpoch: number) =>
      error({
        api: "FetchSnapshot",
        clusterId: null,
        replicaId: 2,
        maxBytes: 1024,
        currentLeaderEpoch,
        snapshotId: { offset: 10, epoch: 1 },
        position: 0,
      });
    expect(snapshot(EPOCH)).toBe(Errors.BROKER_NOT_AVAILABLE);
    expect(snapshot(EPOCH + 1)).toBe(Errors.UNKNOWN_LEADER_EPOCH);
    expect(snapshot(EPOCH - 1)).toBe(Errors.FENCED_LEADER_EPOCH);
  });
});

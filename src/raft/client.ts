/**
 * RaftClient: one node of the KRaft metadata quorum (Kafka's KafkaRaftClient), pull-based
 * replication of `__cluster_metadata-0` under KIP-595 with pre-vote (KIP-996) and snapshots
 * (KIP-630), static voters (kraft.version 0).
 *
 * Concurrency contract: single-threaded and deterministic. Every entry point (start,
 * handleRequest, handleResponse, handleSendFailure, propose, shutdown, and the wake-up timer)
 * runs to completion synchronously and ends by polling the time-driven work and arming one timer
 * for the next poll. The clock, random source, network channel, log and quorum-state store come
 * in through the constructor; nothing here reads the time, draws random numbers or does I/O by
 * itself, so the simulation (test/raft/simulation.ts) replays any run from its seed.
 *
 * Durability: a state change that must survive a crash (a vote, a new epoch, a known leader) is
 * written to the quorum-state store, fsynced, before the response that reveals it is sent; the
 * leader counts only its flushed log end towards the high watermark, and a voter flushes what it
 * fetched before it fetches again (its next Fetch is what acknowledges it).
 *
 * Length: about 1,240 lines, over the usual 1,000, because it is the one place where every
 * message meets every state (Kafka's KafkaRaftClient is 3,900); the pure rules are already out
 * (quorum-state.ts: transitions, vote granting; log.ts: offset validation, truncation;
 * request-manager.ts). The next cut is Kafka's LeaderState (replica progress, high watermark,
 * check-quorum, parked fetches) into its own class.
 */
import assert from "node:assert/strict";
import { type Random, randomInt } from "../random.js";
import {
  CHECK_QUORUM_TIMEOUT_FACTOR,
  ELECTION_BACKOFF_BASE_MS,
  FETCH_MAX_WAIT_MS,
  type QuorumConfig,
} from "./config.js";
import { type RaftLog, truncateToEndOffset, validateOffsetAndEpoch } from "./log.js";
import {
  canGrantVote,
  type EpochState,
  endEpochElectionBackoffMs,
  leaderIdOf,
  QuorumState,
  type QuorumStateStore,
  type ReplicaProgress,
  type VoteTally,
} from "./quorum-state.js";
import { RequestManager } from "./request-manager.js";
import {
  type BeginQuorumEpochRequest,
  batchEndOffset,
  compareOffsetAndEpoch,
  type DescribeQuorumResponse,
  type EndQuorumEpochRequest,
  Errors,
  type FetchRequest,
  type FetchResponse,
  type FetchSnapshotRequest,
  type FetchSnapshotResponse,
  type OffsetAndEpoch,
  type RaftBatch,
  type RaftChannel,
  type RaftClock,
  type RaftRecord,
  type RaftRequest,
  type RaftResponse,
  type ReplicaDescription,
  type VoteRequest,
} from "./types.js";

/** What the state machine on top (the controller, or the simulation's counter) is told. */
export interface RaftListener {
  /** Committed batches, in offset order, each once per process lifetime (after a snapshot load). */
  handleCommit(batch: RaftBatch): void;
  /** The state machine must replace its state by this snapshot; commits continue from its end. */
  handleLoadSnapshot(id: OffsetAndEpoch, bytes: Buffer): void;
  handleLeaderChange(leaderId: number, epoch: number): void;
  /** A voter joined `RaftClient.unreachableVoters` (its connection was refused or closed by its side). */
  handleVoterUnreachable?(voterId: number): void;
}

export interface RaftClientOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: QuorumConfig;
  readonly clock: RaftClock;
  readonly random: Random;
  readonly channel: RaftChannel;
  readonly log: RaftLog;
  readonly store: QuorumStateStore;
  readonly listener?: RaftListener;
  /** Largest Fetch answer (Kafka: 8 MiB). */
  readonly fetchMaxBytes?: number;
  readonly logger?: (line: string) => void;
}

export type ProposeResult =
  | { readonly ok: true; readonly epoch: number; readonly lastOffset: number }
  | { readonly ok: false; readonly errorCode: number; readonly reason: string };

const FETCH_MAX_BYTES_DEFAULT = 8 * 1024 * 1024;
const FETCH_SNAPSHOT_MAX_BYTES = 1024 * 1024;
/** Bounds: proposals waiting for the linger, parked fetches, observers tracked, snapshot download. */
const PENDING_RECORDS_MAX = 100_000;
const PARKED_FETCHES_MAX = 10_000;
const OBSERVERS_MAX = 10_000;
const SNAPSHOT_DOWNLOAD_BYTES_MAX = 1024 * 1024 * 1024;
const POLL_ROUNDS_MAX = 100;

interface ParkedFetch {
  readonly correlationId: number;
  readonly request: FetchRequest;
  readonly deadlineMs: number;
}

/** Kafka's Snapshots.BOOTSTRAP_SNAPSHOT_ID: every node has its own from formatting; none is fetched. */
function isBootstrapSnapshot(id: OffsetAndEpoch): boolean {
  return id.offset === 0 && id.epoch === 0;
}

export class RaftClient {
  readonly nodeId: number;
  private readonly quorum: QuorumState;
  private readonly requests: RequestManager;
  private readonly config: QuorumConfig;
  private readonly voterIds: readonly number[];
  private readonly majority: number;
  private pending: RaftRecord[] = [];
  private lingerDeadlineMs = 0;
  private readonly parked = new Map<number, ParkedFetch>();
  /** The next offset the listener has not seen; -1 until the first snapshot/commit delivery. */
  private listenerNextOffset = -1;
  private shutdownDeadlineMs: number | null = null;
  private timer: unknown = null;
  private closed = false;
  private lastNotifiedLeader = { leaderId: -2, epoch: -1 };
  /** See `unreachableVoters`. */
  private readonly closedVoters = new Set<number>();

  constructor(private readonly opts: RaftClientOptions) {
    this.nodeId = opts.nodeId;
    this.config = opts.config;
    this.voterIds = opts.config.voters.map((v) => v.id);
    this.majority = Math.floor(this.voterIds.length / 2) + 1;
    this.quorum = new QuorumState(opts.nodeId, this.voterIds, opts.store);
    this.requests = new RequestManager(
      opts.channel,
      opts.config.requestTimeoutMs,
      opts.config.retryBackoffMs,
    );
  }

  // ---- introspection -------------------------------------------------------------------------

  get state(): EpochState {
    return this.quorum.state;
  }

  get epoch(): number {
    return this.quorum.epoch;
  }

  get leaderId(): number {
    return leaderIdOf(this.quorum.state, this.nodeId);
  }

  /** The high watermark this node knows (the leader's own, or the last one a leader sent), or null. */
  get highWatermark(): number | null {
    const s = this.quorum.state;
    return s.name === "leader" || s.name === "follower" ? s.highWatermark : null;
  }

  get isVoter(): boolean {
    return this.quorum.isVoter();
  }

  /**
   * Voters whose connection was last refused, reset or closed by their side (see
   * handleSendFailure) since this node last became leader, and that have sent nothing since: as
   * far as this node can tell, their process is gone. The active controller fences their co-located brokers without waiting for
   * first contact (docs/replication.md, "Fast failover").
   */
  get unreachableVoters(): ReadonlySet<number> {
    return this.closedVoters;
  }

  /** Whether `propose` takes records now: this node leads, is not resigning, shutting down or closed. */
  get acceptsProposals(): boolean {
    const s = this.quorum.state;
    return !this.closed && s.name === "leader" && !s.resignRequested && this.shutdownDeadlineMs === null;
  }

  /** Lets the simulation watch every state change. */
  set onTransition(fn: ((from: EpochState | null, to: EpochState) => void) | null) {
    this.quorum.onTransition = fn;
  }

  isShutdownComplete(): boolean {
    if (this.shutdownDeadlineMs === null) return false;
    if (this.opts.clock.nowMs() >= this.shutdownDeadlineMs) return true;
    const s = this.quorum.state;
    if (s.name === "leader" || s.name === "candidate") return false;
    if (s.name === "resigned") return s.unackedVoters.size === 0;
    return true;
  }

  // ---- entry points --------------------------------------------------------------------------

  /** Reads the stored election and the log, takes the initial state (QuorumState.initialize). */
  start(): void {
    const now = this.now();
    const election = this.quorum.readElection();
    const logEpoch = this.opts.log.lastFetchedEpoch();
    const isVoter = this.quorum.isVoter();
    let initial: EpochState;
    if (election.epoch < logEpoch) {
      initial = this.unattached(logEpoch, -1, now);
    } else if (isVoter && election.leaderId === this.nodeId) {
      // A restarted leader comes back Resigned in its epoch: it can neither vote again in that
      // epoch nor reuse (epoch, offset) pairs that it may have lost from an unflushed tail.
      initial = this.resigned(election.epoch, [], now);
    } else if (isVoter && election.votedId === this.nodeId) {
      initial = {
        name: "candidate",
        epoch: election.epoch,
        ...this.freshElection(now, 1),
        backoffUntilMs: null,
      };
    } else if (election.votedId !== -1 && isVoter) {
      initial = this.unattached(election.epoch, election.votedId, now);
    } else if (election.leaderId !== -1 && election.leaderId !== this.nodeId) {
      initial = this.follower(election.epoch, election.leaderId, now);
    } else {
      initial = this.unattached(election.epoch, -1, now);
    }
    this.quorum.transition(initial, true);
    if (this.isOnlyVoter()) {
      if (initial.name === "candidate") this.maybeWinElection();
      else this.toProspective(now);
    }
    this.afterEvent();
  }

  handleRequest(sourceId: number, correlationId: number, request: RaftRequest): void {
    if (this.closed) return;
    this.closedVoters.delete(sourceId);
    const response = this.dispatchRequest(sourceId, correlationId, request);
    if (response !== null) this.opts.channel.respond(sourceId, correlationId, response);
    this.afterEvent();
  }

  handleResponse(sourceId: number, correlationId: number, response: RaftResponse): void {
    if (this.closed) return;
    this.closedVoters.delete(sourceId);
    const inflight = this.requests.takeInflight(sourceId, correlationId);
    if (inflight !== null && inflight.api === response.api) {
      const ok = this.dispatchResponse(sourceId, response, inflight.preVote);
      if (!ok) this.requests.backoff(sourceId, this.now());
    }
    this.afterEvent();
  }

  /**
   * The request failed without an answer. `peerClosed`: the destination refused, reset or closed
   * the connection (its process is gone or its listener closed, as when it was killed: its kernel
   * closes its sockets at once), rather than a timeout or an undecodable answer.
   */
  handleSendFailure(destinationId: number, correlationId: number, peerClosed = false): void {
    if (this.closed) return;
    if (peerClosed) this.noteVoterClosed(destinationId);
    const inflight = this.requests.takeInflight(destinationId, correlationId);
    if (inflight !== null) {
      const now = this.now();
      this.requests.backoff(destinationId, now);
      if (peerClosed) this.maybeStandEarly(destinationId, now);
      // A voter that cannot be reached will not vote in this election. Counted with the
      // rejections, it can leave the candidate short of a majority, which then backs off at once
      // instead of waiting out its election timeout: the usual case after a leader's crash, when
      // both survivors stand at the same moment and each votes for itself. Only the timing of the
      // next round changes (Kafka waits for the election timeout there).
      const s = this.quorum.state;
      if (inflight.api === "Vote" && !inflight.preVote && s.name === "candidate") {
        s.votes.rejected.add(destinationId);
        if (this.isRejected(s.votes) && s.backoffUntilMs === null) {
          s.backoffUntilMs = now + this.electionBackoffMs(s.retries);
        }
      }
    }
    this.afterEvent();
  }

  /**
   * Appends records as the leader; they are written as one batch after append.linger.ms. The
   * result names the last offset: the records are committed once the high watermark passes it.
   */
  propose(values: readonly Buffer[]): ProposeResult {
    const s = this.quorum.state;
    if (!this.acceptsProposals || s.name !== "leader") {
      return { ok: false, errorCode: Errors.NOT_LEADER_OR_FOLLOWER, reason: "not the leader" };
    }
    if (values.length === 0) return { ok: false, errorCode: Errors.INVALID_REQUEST, reason: "no records" };
    if (this.pending.length + values.length > PENDING_RECORDS_MAX) {
      return {
        ok: false,
        errorCode: Errors.BROKER_NOT_AVAILABLE,
        reason: "too many records waiting to be appended",
      };
    }
    if (this.pending.length === 0) this.lingerDeadlineMs = this.now() + this.config.appendLingerMs;
    for (const value of values) this.pending.push({ type: "data", value });
    const lastOffset = this.opts.log.endOffset() + this.pending.length - 1;
    this.afterEvent();
    return { ok: true, epoch: s.epoch, lastOffset };
  }

  /**
   * Makes a snapshot of the state machine at `id` (an offset at or below the high watermark and
   * the epoch of the record before it) the log's start; the log's prefix is deleted.
   */
  createSnapshot(id: OffsetAndEpoch, bytes: Buffer): boolean {
    const log = this.opts.log;
    const hw = this.highWatermark;
    if (hw === null || id.offset > hw || id.offset <= log.startOffset()) return false;
    const last = log.read(id.offset - 1, 1)[0];
    if (last === undefined || last.epoch !== id.epoch) return false;
    log.installSnapshot(id, bytes);
    return true;
  }

  /** Graceful shutdown: a leader resigns (EndQuorumEpoch) and waits for acknowledgements until the timeout. */
  shutdown(timeoutMs: number): void {
    if (this.closed || this.shutdownDeadlineMs !== null) return;
    this.shutdownDeadlineMs = this.now() + timeoutMs;
    this.afterEvent();
  }

  /** Stops all activity (the process is going away); events after this are ignored. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer);
    this.timer = null;
  }

  describeQuorum(): DescribeQuorumResponse {
    const s = this.quorum.state;
    const base = { api: "DescribeQuorum" as const, leaderId: this.leaderId, leaderEpoch: s.epoch };
    if (s.name !== "leader") {
      return {
        ...base,
        errorCode: Errors.NOT_LEADER_OR_FOLLOWER,
        highWatermark: -1,
        currentVoters: [],
        observers: [],
      };
    }
    const now = this.now();
    const describe = (id: number, p: ReplicaProgress): ReplicaDescription =>
      id === this.nodeId
        ? {
            replicaId: id,
            logEndOffset: this.opts.log.endOffset(),
            lastFetchTimestamp: now,
            lastCaughtUpTimestamp: now,
          }
        : {
            replicaId: id,
            logEndOffset: p.endOffset ?? -1,
            lastFetchTimestamp: p.lastFetchTimeMs,
            lastCaughtUpTimestamp: p.lastCaughtUpTimeMs,
          };
    return {
      ...base,
      errorCode: Errors.NONE,
      highWatermark: s.highWatermark ?? -1,
      currentVoters: [...s.voters].map(([id, p]) => describe(id, p)),
      observers: [...s.observers].map(([id, p]) => describe(id, p)),
    };
  }

  // ---- a peer's connection closed ------------------------------------------------------------

  private noteVoterClosed(voterId: number): void {
    if (voterId === this.nodeId || !this.voterIds.includes(voterId) || this.closedVoters.has(voterId)) return;
    this.closedVoters.add(voterId);
    this.info(`voter ${voterId} refused or closed the connection`);
    this.opts.listener?.handleVoterUnreachable?.(voterId);
  }

  /**
   * Fast failover: a voter whose leader refused or closed its fetch connection, after it had
   * fetched from that leader in this epoch, stands without waiting out the fetch timeout: the
   * leader's process is most likely gone (a killed process's kernel closes its sockets at once).
   * The voters stand in order of id, the first at once and the others after a backoff doubling by
   * rank (as after EndQuorumEpoch), so that two of them rarely split the vote; and it stops
   * refusing pre-votes on the leader's behalf. The pre-vote keeps this from disrupting a live
   * leader: while a majority still fetches from it, the pre-vote is refused and this node goes
   * back to following it, in the same epoch. Kafka waits for controller.quorum.fetch.timeout.ms
   * (a disconnect is only BROKER_NOT_AVAILABLE there, retried after a backoff).
   */
  private maybeStandEarly(destinationId: number, now: number): void {
    const s = this.quorum.state;
    if (
      s.name !== "follower" ||
      s.leaderId !== destinationId ||
      !s.hasFetchedFromLeader ||
      !this.quorum.isVoter() ||
      this.shutdownDeadlineMs !== null
    ) {
      return;
    }
    const successors = this.voterIds.filter((id) => id !== s.leaderId).sort((a, b) => a - b);
    const waitMs = endEpochElectionBackoffMs(this.nodeId, successors, this.config.electionBackoffMaxMs);
    s.hasFetchedFromLeader = false;
    s.fetchDeadlineMs = Math.min(s.fetchDeadlineMs, now + waitMs);
    this.info(`leader ${s.leaderId} closed the connection in epoch ${s.epoch}: standing in ${waitMs} ms`);
  }

  // ---- polling -------------------------------------------------------------------------------

  private now(): number {
    return this.opts.clock.nowMs();
  }

  private afterEvent(): void {
    if (this.closed) return;
    let delayMs = 0;
    for (let round = 0; delayMs === 0; round++) {
      assert.ok(
        round < POLL_ROUNDS_MAX,
        `poll made no progress after ${POLL_ROUNDS_MAX} rounds in ${this.state.name}`,
      );
      delayMs = this.poll(this.now());
    }
    this.deliverCommitted();
    if (this.timer !== null) this.opts.clock.clearTimer(this.timer);
    this.timer = Number.isFinite(delayMs) ? this.opts.clock.setTimer(delayMs, () => this.onTimer()) : null;
  }

  private onTimer(): void {
    this.timer = null;
    this.afterEvent();
  }

  /** The time-driven work of the current state; returns the ms until it needs to run again (0: now). */
  private poll(now: number): number {
    this.requests.expire(now);
    const s = this.quorum.state;
    let next: number;
    switch (s.name) {
      case "leader":
        next = this.pollLeader(s, now);
        break;
      case "candidate":
        next = this.pollCandidate(s, now);
        break;
      case "prospective":
        next = this.pollProspective(s, now);
        break;
      case "follower":
        next = this.pollFollower(s, now);
        break;
      case "unattached":
        next = this.pollUnattached(s, now);
        break;
      case "resigned":
        next = this.pollResigned(s, now);
        break;
    }
    return next === 0 ? 0 : Math.max(1, Math.min(next, this.requests.nextDeadlineMs(now)));
  }

  private pollLeader(s: Extract<EpochState, { name: "leader" }>, now: number): number {
    const checkQuorumRemaining =
      this.voterIds.length === 1 ? Number.POSITIVE_INFINITY : s.checkQuorumDeadlineMs - now;
    if (this.shutdownDeadlineMs !== null || s.resignRequested || checkQuorumRemaining <= 0) {
      if (checkQuorumRemaining <= 0) {
        this.info(`resigns in epoch ${s.epoch}: no majority fetched within the check-quorum timeout`);
      }
      this.toResigned(s, now);
      return 0;
    }
    let next = checkQuorumRemaining;
    if (this.pending.length > 0) {
      if (now >= this.lingerDeadlineMs) {
        const records = this.pending;
        this.pending = [];
        this.opts.log.appendAsLeader(records, s.epoch, now);
        this.flushLeaderLog(s);
      } else {
        next = Math.min(next, this.lingerDeadlineMs - now);
      }
    }
    for (const voterId of s.unackedVoters) {
      if (this.requests.isReady(voterId, now)) {
        const request: BeginQuorumEpochRequest = {
          api: "BeginQuorumEpoch",
          clusterId: this.opts.clusterId,
          voterId,
          leaderId: this.nodeId,
          leaderEpoch: s.epoch,
        };
        this.requests.send(voterId, request, now);
      }
    }
    for (const [sourceId, parked] of this.parked) {
      if (parked.deadlineMs <= now) this.completeParked(sourceId, parked);
      else next = Math.min(next, parked.deadlineMs - now);
    }
    return next;
  }

  private pollCandidate(s: Extract<EpochState, { name: "candidate" }>, now: number): number {
    if (s.backoffUntilMs !== null && this.shutdownDeadlineMs === null) {
      if (now >= s.backoffUntilMs) {
        this.toProspective(now);
        return 0;
      }
      return s.backoffUntilMs - now;
    }
    if (now >= s.electionDeadlineMs && this.shutdownDeadlineMs === null) {
      s.backoffUntilMs = now + this.electionBackoffMs(s.retries);
      this.info(`election in epoch ${s.epoch} timed out; backing off until ${s.backoffUntilMs}`);
      return 0;
    }
    this.sendVoteRequests(s.epoch, s.votes, false, now);
    return this.shutdownDeadlineMs !== null ? this.untilShutdownDeadline(now) : s.electionDeadlineMs - now;
  }

  private pollProspective(s: Extract<EpochState, { name: "prospective" }>, now: number): number {
    if (this.shutdownDeadlineMs === null && (now >= s.electionDeadlineMs || this.isRejected(s.votes))) {
      this.leaveProspective(s, now);
      return 0;
    }
    this.sendVoteRequests(s.epoch, s.votes, true, now);
    return s.electionDeadlineMs - now;
  }

  private pollFollower(s: Extract<EpochState, { name: "follower" }>, now: number): number {
    if (this.quorum.isVoter()) {
      if (this.shutdownDeadlineMs !== null) return Number.POSITIVE_INFINITY;
      if (now >= s.fetchDeadlineMs) {
        this.info(`no fetch answer from leader ${s.leaderId} within the fetch timeout in epoch ${s.epoch}`);
        this.toProspective(now);
        return 0;
      }
      this.maybeSendFetch(s, s.leaderId, now);
      return s.fetchDeadlineMs - now;
    }
    // An observer never stands for election: when the leader is silent it asks any voter.
    if (now >= s.fetchDeadlineMs || this.requests.isBackingOff(s.leaderId, now)) {
      if (now >= s.fetchDeadlineMs) s.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
      this.fetchFromAnyVoter(now);
    } else {
      this.maybeSendFetch(s, s.leaderId, now);
    }
    return s.fetchDeadlineMs - now;
  }

  private pollUnattached(s: Extract<EpochState, { name: "unattached" }>, now: number): number {
    if (!this.quorum.isVoter()) {
      this.fetchFromAnyVoter(now);
      return Number.POSITIVE_INFINITY;
    }
    if (this.shutdownDeadlineMs !== null) return Number.POSITIVE_INFINITY;
    if (now >= s.electionDeadlineMs) {
      this.toProspective(now);
      return 0;
    }
    return s.electionDeadlineMs - now;
  }

  private pollResigned(s: Extract<EpochState, { name: "resigned" }>, now: number): number {
    for (const voterId of s.unackedVoters) {
      if (this.requests.isReady(voterId, now)) {
        const request: EndQuorumEpochRequest = {
          api: "EndQuorumEpoch",
          clusterId: this.opts.clusterId,
          leaderId: this.nodeId,
          leaderEpoch: s.epoch,
          preferredCandidates: s.preferredSuccessors,
        };
        this.requests.send(voterId, request, now);
      }
    }
    if (this.shutdownDeadlineMs !== null) return this.untilShutdownDeadline(now);
    if (now >= s.electionDeadlineMs) {
      this.toProspective(now);
      return 0;
    }
    return s.electionDeadlineMs - now;
  }

  /** While shutting down, the only deadline left is the shutdown's own (the owner then closes). */
  private untilShutdownDeadline(now: number): number {
    const remaining = (this.shutdownDeadlineMs ?? now) - now;
    return remaining > 0 ? remaining : Number.POSITIVE_INFINITY;
  }

  private sendVoteRequests(epoch: number, votes: VoteTally, preVote: boolean, now: number): void {
    if (this.isRejected(votes)) return;
    const log = this.opts.log;
    for (const voterId of this.voterIds) {
      if (voterId === this.nodeId || votes.granted.has(voterId) || votes.rejected.has(voterId)) continue;
      if (!this.requests.isReady(voterId, now)) continue;
      const request: VoteRequest = {
        api: "Vote",
        clusterId: this.opts.clusterId,
        voterId,
        replicaEpoch: epoch,
        replicaId: this.nodeId,
        lastOffsetEpoch: log.lastFetchedEpoch(),
        lastOffset: log.endOffset(),
        preVote,
      };
      this.requests.send(voterId, request, now);
    }
  }

  private maybeSendFetch(
    s: Extract<EpochState, { name: "follower" }>,
    destinationId: number,
    now: number,
  ): void {
    if (!this.requests.isReady(destinationId, now)) return;
    if (s.fetchingSnapshot !== null) {
      const request: FetchSnapshotRequest = {
        api: "FetchSnapshot",
        clusterId: this.opts.clusterId,
        replicaId: this.nodeId,
        maxBytes: FETCH_SNAPSHOT_MAX_BYTES,
        currentLeaderEpoch: s.epoch,
        snapshotId: s.fetchingSnapshot.id,
        position: s.fetchingSnapshot.size,
      };
      this.requests.send(destinationId, request, now);
      return;
    }
    this.requests.send(destinationId, this.fetchRequest(s.epoch, s.highWatermark), now);
  }

  private fetchRequest(epoch: number, highWatermark: number | null): FetchRequest {
    const log = this.opts.log;
    return {
      api: "Fetch",
      clusterId: this.opts.clusterId,
      replicaId: this.nodeId,
      maxWaitMs: FETCH_MAX_WAIT_MS,
      maxBytes: this.opts.fetchMaxBytes ?? FETCH_MAX_BYTES_DEFAULT,
      currentLeaderEpoch: epoch,
      fetchOffset: log.endOffset(),
      lastFetchedEpoch: log.lastFetchedEpoch(),
      highWatermark: highWatermark ?? -1,
    };
  }

  private fetchFromAnyVoter(now: number): void {
    const ready = this.voterIds.filter((id) => id !== this.nodeId && this.requests.isReady(id, now));
    if (ready.length === 0 || this.voterIds.some((id) => this.requests.hasInflight(id))) return;
    const target = ready[randomInt(this.opts.random, ready.length)]!;
    this.requests.send(target, this.fetchRequest(this.quorum.epoch, this.highWatermark), now);
  }

  // ---- transitions ---------------------------------------------------------------------------

  private randomElectionTimeoutMs(): number {
    const t = this.config.electionTimeoutMs;
    return t === 0 ? 0 : t + randomInt(this.opts.random, t);
  }

  private electionBackoffMs(retries: number): number {
    const bound = 2 << Math.min(20, Math.max(0, retries - 1));
    return Math.min(
      ELECTION_BACKOFF_BASE_MS * randomInt(this.opts.random, bound),
      this.config.electionBackoffMaxMs,
    );
  }

  private freshElection(now: number, retries: number) {
    return {
      electionDeadlineMs: now + this.randomElectionTimeoutMs(),
      votes: { granted: new Set([this.nodeId]), rejected: new Set<number>() },
      retries,
    };
  }

  private unattached(epoch: number, votedId: number, now: number): EpochState {
    return { name: "unattached", epoch, votedId, electionDeadlineMs: now + this.randomElectionTimeoutMs() };
  }

  private follower(epoch: number, leaderId: number, now: number): EpochState {
    return {
      name: "follower",
      epoch,
      leaderId,
      fetchDeadlineMs: now + this.config.fetchTimeoutMs,
      highWatermark: this.highWatermarkOrNull(),
      hasFetchedFromLeader: false,
      fetchingSnapshot: null,
    };
  }

  private resigned(epoch: number, preferredSuccessors: readonly number[], now: number): EpochState {
    return {
      name: "resigned",
      epoch,
      electionDeadlineMs: now + this.randomElectionTimeoutMs(),
      unackedVoters: new Set(this.voterIds.filter((id) => id !== this.nodeId)),
      preferredSuccessors,
    };
  }

  /** The high watermark carried into a new follower state (never backwards within a process). */
  private highWatermarkOrNull(): number | null {
    const s = this.quorum.maybeState;
    return s?.name === "leader" || s?.name === "follower" ? s.highWatermark : null;
  }

  private isOnlyVoter(): boolean {
    return this.voterIds.length === 1 && this.voterIds[0] === this.nodeId;
  }

  private transition(next: EpochState, durable: boolean): void {
    const wasLeader = this.quorum.state.name === "leader";
    this.quorum.transition(next, durable);
    this.requests.reset();
    if (wasLeader) {
      this.pending = [];
      for (const [sourceId, parked] of this.parked) this.completeParked(sourceId, parked);
    }
    const leaderId = this.leaderId;
    if (leaderId !== this.lastNotifiedLeader.leaderId || next.epoch !== this.lastNotifiedLeader.epoch) {
      this.lastNotifiedLeader = { leaderId, epoch: next.epoch };
      this.opts.listener?.handleLeaderChange(leaderId, next.epoch);
    }
  }

  private toUnattached(epoch: number, now: number): void {
    this.transition(this.unattached(epoch, -1, now), true);
  }

  private toFollower(epoch: number, leaderId: number, now: number): void {
    this.transition(this.follower(epoch, leaderId, now), true);
  }

  private toProspective(now: number): void {
    const s = this.quorum.state;
    const leaderId = s.name === "follower" ? s.leaderId : -1;
    const votedId = s.name === "unattached" ? s.votedId : s.name === "candidate" ? this.nodeId : -1;
    const retries = s.name === "candidate" ? s.retries + 1 : 1;
    this.transition(
      { name: "prospective", epoch: s.epoch, leaderId, votedId, ...this.freshElection(now, retries) },
      true,
    );
    this.maybeWinElection();
  }

  private toCandidate(now: number, retries: number): void {
    const epoch = this.quorum.epoch + 1;
    this.transition(
      { name: "candidate", epoch, ...this.freshElection(now, retries), backoffUntilMs: null },
      true,
    );
    this.maybeWinElection();
  }

  /** A prospective with a majority of pre-votes stands; a candidate with a majority of votes leads. */
  private maybeWinElection(): void {
    const s = this.quorum.state;
    const now = this.now();
    if (s.name === "prospective" && s.votes.granted.size >= this.majority) {
      this.toCandidate(now, s.retries);
    } else if (s.name === "candidate" && s.votes.granted.size >= this.majority) {
      this.toLeader(s, now);
    }
  }

  private toLeader(candidate: Extract<EpochState, { name: "candidate" }>, now: number): void {
    const log = this.opts.log;
    const epochStartOffset = log.endOffset();
    const voters = new Map<number, ReplicaProgress>();
    for (const id of this.voterIds)
      voters.set(id, { endOffset: null, lastFetchTimeMs: -1, lastCaughtUpTimeMs: -1 });
    const leader: EpochState = {
      name: "leader",
      epoch: candidate.epoch,
      epochStartOffset,
      grantingVoters: [...candidate.votes.granted].sort((a, b) => a - b),
      voters,
      observers: new Map(),
      highWatermark: null,
      fetchedVoters: new Set(),
      checkQuorumDeadlineMs: now + Math.floor(this.config.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR),
      unackedVoters: new Set(this.voterIds.filter((id) => id !== this.nodeId)),
      resignRequested: false,
    };
    // Only fresh evidence counts for the new leader's controller: its BeginQuorumEpoch to every
    // voter finds the dead ones again within a round trip.
    this.closedVoters.clear();
    this.transition(leader, true);
    this.info(`became leader of epoch ${leader.epoch} at offset ${epochStartOffset}`);
    // The high watermark may only pass records of earlier epochs once one of this epoch is
    // committed; the LeaderChangeMessage is that record, written at once.
    log.appendAsLeader(
      [
        {
          type: "leaderChange",
          leaderId: this.nodeId,
          voters: [...this.voterIds],
          grantingVoters: leader.grantingVoters,
        },
      ],
      leader.epoch,
      now,
    );
    this.flushLeaderLog(leader);
  }

  private toResigned(s: Extract<EpochState, { name: "leader" }>, now: number): void {
    const successors = [...s.voters]
      .filter(([id]) => id !== this.nodeId)
      .sort(([, a], [, b]) => (b.endOffset ?? -1) - (a.endOffset ?? -1))
      .map(([id]) => id);
    this.transition(this.resigned(s.epoch, successors, now), false);
  }

  /** After a lost or timed-out pre-vote: back to the known leader, else unattached in the same epoch. */
  private leaveProspective(s: Extract<EpochState, { name: "prospective" }>, now: number): void {
    if (s.leaderId !== -1) {
      this.toFollower(s.epoch, s.leaderId, now);
    } else {
      this.transition(this.unattached(s.epoch, s.votedId, now), true);
    }
  }

  private isRejected(votes: VoteTally): boolean {
    return this.voterIds.length - votes.rejected.size < this.majority;
  }

  /**
   * A request or response names a leader and an epoch: a higher epoch, or the leader of ours when
   * we knew none, moves this node (Kafka's maybeTransition).
   */
  private maybeTransition(leaderId: number, epoch: number, now: number): void {
    const current = this.quorum.epoch;
    if (epoch > current) {
      if (leaderId >= 0 && leaderId !== this.nodeId) this.toFollower(epoch, leaderId, now);
      else this.toUnattached(epoch, now);
    } else if (epoch === current && leaderId >= 0 && leaderId !== this.nodeId && this.leaderId === -1) {
      this.toFollower(epoch, leaderId, now);
    }
  }

  /** Kafka's maybeHandleCommonResponse: true when the response needs no further handling. */
  private handleCommonResponse(errorCode: number, leaderId: number, epoch: number, now: number): boolean {
    if (epoch < this.quorum.epoch || errorCode === Errors.UNKNOWN_LEADER_EPOCH) return true;
    if (
      epoch > this.quorum.epoch ||
      errorCode === Errors.FENCED_LEADER_EPOCH ||
      errorCode === Errors.NOT_LEADER_OR_FOLLOWER
    ) {
      this.maybeTransition(leaderId, epoch, now);
      return true;
    }
    if (leaderId >= 0 && leaderId !== this.nodeId && this.leaderId === -1) {
      this.toFollower(epoch, leaderId, now);
      return errorCode !== Errors.NONE;
    }
    return errorCode === Errors.BROKER_NOT_AVAILABLE;
  }

  // ---- the leader's log and high watermark ---------------------------------------------------

  private flushLeaderLog(s: Extract<EpochState, { name: "leader" }>): void {
    this.opts.log.flush();
    this.maybeUpdateHighWatermark(s);
    const end = this.opts.log.endOffset();
    for (const [sourceId, parked] of this.parked) {
      if (parked.request.fetchOffset < end) this.completeParked(sourceId, parked);
    }
  }

  /**
   * LeaderState.maybeUpdateHighWatermark: the offset a majority of voters have flushed (the
   * leader's own flushed end included), once it passes the start of this epoch, never backwards.
   */
  private maybeUpdateHighWatermark(s: Extract<EpochState, { name: "leader" }>): void {
    const offsets: number[] = [];
    for (const [id, p] of s.voters) {
      offsets.push(id === this.nodeId ? this.opts.log.flushedEndOffset() : (p.endOffset ?? -1));
    }
    offsets.sort((a, b) => b - a);
    const candidate = offsets[Math.floor(offsets.length / 2)]!;
    if (candidate <= s.epochStartOffset) return;
    if (s.highWatermark !== null && candidate <= s.highWatermark) return;
    s.highWatermark = candidate;
    for (const [sourceId, parked] of this.parked) {
      if (parked.request.highWatermark < candidate) this.completeParked(sourceId, parked);
    }
  }

  private updateReplicaState(
    s: Extract<EpochState, { name: "leader" }>,
    replicaId: number,
    fetchOffset: number | null,
    now: number,
  ): void {
    if (replicaId < 0 || replicaId === this.nodeId) return;
    const isVoter = s.voters.has(replicaId);
    if (isVoter) {
      s.unackedVoters.delete(replicaId);
      s.fetchedVoters.add(replicaId);
      if (s.fetchedVoters.size >= this.majority - 1) {
        s.fetchedVoters.clear();
        s.checkQuorumDeadlineMs = now + Math.floor(this.config.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR);
      }
    }
    if (fetchOffset === null) return;
    const table = isVoter ? s.voters : s.observers;
    let p = table.get(replicaId);
    if (p === undefined) {
      if (s.observers.size >= OBSERVERS_MAX) {
        const oldest = [...s.observers].sort(([, a], [, b]) => a.lastFetchTimeMs - b.lastFetchTimeMs)[0];
        if (oldest !== undefined) s.observers.delete(oldest[0]);
      }
      p = { endOffset: null, lastFetchTimeMs: -1, lastCaughtUpTimeMs: -1 };
      table.set(replicaId, p);
    }
    p.endOffset = fetchOffset;
    p.lastFetchTimeMs = now;
    if (fetchOffset >= this.opts.log.endOffset()) p.lastCaughtUpTimeMs = now;
    if (isVoter) this.maybeUpdateHighWatermark(s);
  }

  // ---- requests ------------------------------------------------------------------------------

  private dispatchRequest(
    sourceId: number,
    correlationId: number,
    request: RaftRequest,
  ): RaftResponse | null {
    const now = this.now();
    switch (request.api) {
      case "Vote":
        return this.handleVoteRequest(request, now);
      case "BeginQuorumEpoch":
        return this.handleBeginQuorumEpochRequest(request, now);
      case "EndQuorumEpoch":
        return this.handleEndQuorumEpochRequest(request, now);
      case "Fetch":
        return this.handleFetchRequest(sourceId, correlationId, request, now);
      case "FetchSnapshot":
        return this.handleFetchSnapshotRequest(request, now);
      case "DescribeQuorum":
        return this.describeQuorum();
    }
  }

  private clusterIdMismatch(clusterId: string | null): boolean {
    return clusterId !== null && clusterId !== this.opts.clusterId;
  }

  private base(errorCode: number) {
    return { errorCode, leaderId: this.leaderId, leaderEpoch: this.quorum.epoch };
  }

  private handleVoteRequest(r: VoteRequest, now: number): RaftResponse {
    const reply = (errorCode: number, voteGranted: boolean) =>
      ({ api: "Vote", ...this.base(errorCode), voteGranted }) as const;
    if (this.clusterIdMismatch(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID, false);
    const illegalEpoch = r.preVote ? r.lastOffsetEpoch > r.replicaEpoch : r.lastOffsetEpoch >= r.replicaEpoch;
    if (r.lastOffset < 0 || r.lastOffsetEpoch < 0 || illegalEpoch || r.replicaId < 0) {
      return reply(Errors.INVALID_REQUEST, false);
    }
    if (r.replicaEpoch < this.quorum.epoch) return reply(Errors.FENCED_LEADER_EPOCH, false);
    if (r.voterId >= 0 && r.voterId !== this.nodeId) return reply(Errors.INVALID_VOTER_KEY, false);
    if (!this.quorum.isVoter() || !this.voterIds.includes(r.replicaId)) return reply(Errors.NONE, false);
    if (r.replicaEpoch > this.quorum.epoch) this.toUnattached(r.replicaEpoch, now);

    const log = this.opts.log;
    const upToDate =
      compareOffsetAndEpoch(
        { epoch: r.lastOffsetEpoch, offset: r.lastOffset },
        { epoch: log.lastFetchedEpoch(), offset: log.endOffset() },
      ) >= 0;
    const s = this.quorum.state;
    const granted = canGrantVote(s, r.replicaId, upToDate, r.preVote);
    if (granted && !r.preVote && (s.name === "unattached" || s.name === "prospective") && s.votedId === -1) {
      // The vote is stored (fsynced) before the response that grants it leaves this node.
      this.transition(this.unattached(s.epoch, r.replicaId, now), true);
    }
    return reply(Errors.NONE, granted);
  }

  private handleBeginQuorumEpochRequest(r: BeginQuorumEpochRequest, now: number): RaftResponse {
    const reply = (errorCode: number) => ({ api: "BeginQuorumEpoch", ...this.base(errorCode) }) as const;
    if (this.clusterIdMismatch(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
    if (r.leaderEpoch < this.quorum.epoch) return reply(Errors.FENCED_LEADER_EPOCH);
    if (r.leaderId < 0 || !this.voterIds.includes(r.leaderId)) return reply(Errors.INVALID_REQUEST);
    this.maybeTransition(r.leaderId, r.leaderEpoch, now);
    if (r.voterId >= 0 && r.voterId !== this.nodeId) return reply(Errors.INVALID_VOTER_KEY);
    return reply(Errors.NONE);
  }

  private handleEndQuorumEpochRequest(r: EndQuorumEpochRequest, now: number): RaftResponse {
    const reply = (errorCode: number) => ({ api: "EndQuorumEpoch", ...this.base(errorCode) }) as const;
    if (this.clusterIdMismatch(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
    if (r.leaderEpoch < this.quorum.epoch) return reply(Errors.FENCED_LEADER_EPOCH);
    if (r.leaderId < 0 || !this.voterIds.includes(r.leaderId)) return reply(Errors.INVALID_REQUEST);
    this.maybeTransition(r.leaderId, r.leaderEpoch, now);
    const s = this.quorum.state;
    if (s.name === "follower" && s.leaderId === r.leaderId && this.quorum.isVoter()) {
      // The leader is leaving: stand after a backoff ranked by the leader's list of successors,
      // and stop refusing pre-votes on the leader's behalf.
      s.fetchDeadlineMs =
        now + endEpochElectionBackoffMs(this.nodeId, r.preferredCandidates, this.config.electionBackoffMaxMs);
      s.hasFetchedFromLeader = false;
    }
    return reply(Errors.NONE);
  }

  private handleFetchRequest(
    sourceId: number,
    correlationId: number,
    r: FetchRequest,
    now: number,
  ): FetchResponse | null {
    if (this.clusterIdMismatch(r.clusterId)) return this.emptyFetchResponse(Errors.INCONSISTENT_CLUSTER_ID);
    if (
      r.maxWaitMs < 0 ||
      r.fetchOffset < 0 ||
      r.lastFetchedEpoch < 0 ||
      r.lastFetchedEpoch > r.currentLeaderEpoch
    ) {
      return this.emptyFetchResponse(Errors.INVALID_REQUEST);
    }
    const response = this.tryCompleteFetch(r, now);
    if (
      response.errorCode !== Errors.NONE ||
      response.batches.length > 0 ||
      r.maxWaitMs === 0 ||
      response.divergingEpoch !== null ||
      response.snapshotId !== null ||
      r.highWatermark < response.highWatermark ||
      (this.parked.size >= PARKED_FETCHES_MAX && !this.parked.has(sourceId))
    ) {
      return response;
    }
    // Long poll: answered when the log grows, the high watermark passes the fetcher's, or at maxWaitMs.
    this.parked.set(sourceId, { correlationId, request: r, deadlineMs: now + r.maxWaitMs });
    return null;
  }

  private completeParked(sourceId: number, parked: ParkedFetch): void {
    this.parked.delete(sourceId);
    this.opts.channel.respond(
      sourceId,
      parked.correlationId,
      this.tryCompleteFetch(parked.request, this.now()),
    );
  }

  private emptyFetchResponse(errorCode: number): FetchResponse {
    return {
      api: "Fetch",
      ...this.base(errorCode),
      highWatermark: -1,
      logStartOffset: this.opts.log.startOffset(),
      divergingEpoch: null,
      snapshotId: null,
      batches: [],
    };
  }

  private leaderOnlyError(requestEpoch: number): number {
    if (requestEpoch < this.quorum.epoch) return Errors.FENCED_LEADER_EPOCH;
    if (requestEpoch > this.quorum.epoch) return Errors.UNKNOWN_LEADER_EPOCH;
    if (this.quorum.state.name !== "leader") return Errors.NOT_LEADER_OR_FOLLOWER;
    if (this.shutdownDeadlineMs !== null) return Errors.BROKER_NOT_AVAILABLE;
    return Errors.NONE;
  }

  private tryCompleteFetch(r: FetchRequest, now: number): FetchResponse {
    const error = this.leaderOnlyError(r.currentLeaderEpoch);
    const s = this.quorum.state;
    if (error !== Errors.NONE || s.name !== "leader") return this.emptyFetchResponse(error);
    const log = this.opts.log;
    const snapshot = log.latestSnapshot();
    // Kafka's rule, without the bootstrap snapshot `krill format` writes on every node (0-0).
    const valid =
      r.fetchOffset === 0 && snapshot !== null && !isBootstrapSnapshot(snapshot.id)
        ? ({ kind: "snapshot", snapshotId: snapshot.id } as const)
        : validateOffsetAndEpoch(log, r.fetchOffset, r.lastFetchedEpoch);
    let batches: RaftBatch[] = [];
    if (valid.kind === "valid") {
      if (r.fetchOffset < log.endOffset()) batches = log.read(r.fetchOffset, r.maxBytes);
      this.updateReplicaState(s, r.replicaId, r.fetchOffset, now);
    }
    return {
      api: "Fetch",
      ...this.base(Errors.NONE),
      highWatermark: s.highWatermark ?? -1,
      logStartOffset: log.startOffset(),
      divergingEpoch:
        valid.kind === "diverging"
          ? { epoch: valid.endOffset.epoch, endOffset: valid.endOffset.offset }
          : null,
      snapshotId: valid.kind === "snapshot" ? valid.snapshotId : null,
      batches,
    };
  }

  private handleFetchSnapshotRequest(r: FetchSnapshotRequest, now: number): FetchSnapshotResponse {
    const reply = (
      errorCode: number,
      size = 0,
      position = 0,
      bytes: Buffer = Buffer.alloc(0),
    ): FetchSnapshotResponse => ({
      api: "FetchSnapshot",
      ...this.base(errorCode),
      snapshotId: r.snapshotId,
      size,
      position,
      unalignedRecords: bytes,
    });
    if (this.clusterIdMismatch(r.clusterId)) return reply(Errors.INCONSISTENT_CLUSTER_ID);
    const error = this.leaderOnlyError(r.currentLeaderEpoch);
    const s = this.quorum.state;
    if (error !== Errors.NONE || s.name !== "leader") return reply(error);
    const snapshot = this.opts.log.latestSnapshot();
    if (
      snapshot === null ||
      isBootstrapSnapshot(snapshot.id) ||
      snapshot.id.offset !== r.snapshotId.offset ||
      snapshot.id.epoch !== r.snapshotId.epoch
    ) {
      return reply(Errors.SNAPSHOT_NOT_FOUND);
    }
    if (r.position < 0 || r.position > snapshot.sizeBytes) return reply(Errors.POSITION_OUT_OF_RANGE);
    const bytes = this.opts.log.readSnapshot(snapshot.id, r.position, Math.max(1, r.maxBytes));
    if (bytes === null) return reply(Errors.SNAPSHOT_NOT_FOUND);
    this.updateReplicaState(s, r.replicaId, null, now);
    return reply(Errors.NONE, snapshot.sizeBytes, r.position, bytes);
  }

  // ---- responses -----------------------------------------------------------------------------

  /**
   * Returns false when the destination should be backed off before the next request: after any
   * error answer, so that a node asking a non-leader does not ask again in a tight loop.
   */
  private dispatchResponse(sourceId: number, response: RaftResponse, preVote: boolean): boolean {
    const now = this.now();
    if (
      response.errorCode === Errors.INCONSISTENT_CLUSTER_ID ||
      response.errorCode === Errors.INVALID_REQUEST
    ) {
      this.info(`${response.api} answered with error ${response.errorCode} by ${sourceId}`);
      return false;
    }
    switch (response.api) {
      case "Vote": {
        if (this.handleCommonResponse(response.errorCode, response.leaderId, response.leaderEpoch, now)) {
          return response.errorCode === Errors.NONE;
        }
        if (response.errorCode !== Errors.NONE) return false;
        const s = this.quorum.state;
        const expectsPreVote = s.name === "prospective";
        if ((s.name === "prospective" || s.name === "candidate") && preVote === expectsPreVote) {
          if (
            s.name === "prospective" &&
            !response.voteGranted &&
            s.leaderId >= 0 &&
            response.leaderId === s.leaderId &&
            this.closedVoters.has(s.leaderId)
          ) {
            // Refused on behalf of the leader whose connection closed here: that voter has not
            // noticed yet. Asked again after the retry backoff, until this election times out.
            return false;
          }
          if (response.voteGranted) s.votes.granted.add(sourceId);
          else s.votes.rejected.add(sourceId);
          if (s.name === "candidate" && this.isRejected(s.votes) && s.backoffUntilMs === null) {
            s.backoffUntilMs = now + this.electionBackoffMs(s.retries);
          }
          this.maybeWinElection();
        }
        return true;
      }
      case "BeginQuorumEpoch":
      case "EndQuorumEpoch": {
        if (this.handleCommonResponse(response.errorCode, response.leaderId, response.leaderEpoch, now)) {
          return response.errorCode === Errors.NONE;
        }
        if (response.errorCode !== Errors.NONE) return false;
        const s = this.quorum.state;
        if (response.api === "BeginQuorumEpoch" && s.name === "leader") s.unackedVoters.delete(sourceId);
        if (response.api === "EndQuorumEpoch" && s.name === "resigned") s.unackedVoters.delete(sourceId);
        return true;
      }
      case "Fetch":
        return this.handleFetchResponse(response, now);
      case "FetchSnapshot":
        return this.handleFetchSnapshotResponse(response, now);
      case "DescribeQuorum":
        return true;
    }
  }

  private handleFetchResponse(r: FetchResponse, now: number): boolean {
    if (this.handleCommonResponse(r.errorCode, r.leaderId, r.leaderEpoch, now)) {
      return r.errorCode === Errors.NONE;
    }
    if (r.errorCode !== Errors.NONE) return false;
    const s = this.quorum.state;
    if (s.name !== "follower") return true;
    const log = this.opts.log;
    if (r.divergingEpoch !== null) {
      const target = { epoch: r.divergingEpoch.epoch, offset: r.divergingEpoch.endOffset };
      const truncated = truncateToEndOffset(log, target);
      assert.ok(
        s.highWatermark === null || truncated >= s.highWatermark,
        `leader ${s.leaderId} asked node ${this.nodeId} to truncate to ${truncated}, below its high watermark ${s.highWatermark}`,
      );
      this.info(`truncated to ${truncated} (diverging epoch ${target.epoch} ends at ${target.offset})`);
    } else if (r.snapshotId !== null) {
      const local = log.latestSnapshot();
      if (
        local === null ||
        local.id.offset !== r.snapshotId.offset ||
        local.id.epoch !== r.snapshotId.epoch
      ) {
        s.fetchingSnapshot = { id: r.snapshotId, chunks: [], size: 0 };
      }
    } else {
      for (const batch of r.batches) {
        if (batch.baseOffset !== log.endOffset()) break;
        log.appendAsFollower(batch);
      }
      // A voter's next Fetch acknowledges what it holds, so it must be on disk first.
      if (r.batches.length > 0 && this.quorum.isVoter()) log.flush();
      if (r.highWatermark >= 0)
        this.updateFollowerHighWatermark(s, Math.min(log.endOffset(), r.highWatermark));
    }
    s.hasFetchedFromLeader = true;
    s.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
    return true;
  }

  private updateFollowerHighWatermark(s: Extract<EpochState, { name: "follower" }>, hw: number): void {
    if (s.highWatermark === null || hw > s.highWatermark) s.highWatermark = hw;
  }

  private handleFetchSnapshotResponse(r: FetchSnapshotResponse, now: number): boolean {
    if (this.handleCommonResponse(r.errorCode, r.leaderId, r.leaderEpoch, now)) {
      return r.errorCode === Errors.NONE;
    }
    const s = this.quorum.state;
    if (s.name !== "follower" || s.fetchingSnapshot === null) return true;
    const download = s.fetchingSnapshot;
    if (r.errorCode === Errors.SNAPSHOT_NOT_FOUND || r.errorCode === Errors.POSITION_OUT_OF_RANGE) {
      // The leader moved on to a newer snapshot: start again from a Fetch.
      s.fetchingSnapshot = null;
      return true;
    }
    if (r.errorCode !== Errors.NONE) return false;
    if (
      r.snapshotId.offset !== download.id.offset ||
      r.snapshotId.epoch !== download.id.epoch ||
      r.position !== download.size ||
      r.size > SNAPSHOT_DOWNLOAD_BYTES_MAX
    ) {
      s.fetchingSnapshot = null;
      return false;
    }
    download.chunks.push(r.unalignedRecords);
    download.size += r.unalignedRecords.length;
    if (download.size >= r.size) {
      this.opts.log.installSnapshot(download.id, Buffer.concat(download.chunks));
      s.fetchingSnapshot = null;
      this.updateFollowerHighWatermark(s, download.id.offset);
      this.info(`loaded snapshot ${download.id.offset}-${download.id.epoch} from leader ${s.leaderId}`);
    }
    s.hasFetchedFromLeader = true;
    s.fetchDeadlineMs = now + this.config.fetchTimeoutMs;
    return true;
  }

  // ---- the listener --------------------------------------------------------------------------

  /** Hands the listener the snapshot it lacks, then every batch below the high watermark. */
  private deliverCommitted(): void {
    const listener = this.opts.listener;
    const hw = this.highWatermark;
    if (listener === undefined || hw === null) return;
    const log = this.opts.log;
    if (this.listenerNextOffset < log.startOffset()) {
      const snapshot = log.latestSnapshot();
      if (snapshot !== null && snapshot.id.offset === log.startOffset()) {
        const bytes = log.readSnapshot(snapshot.id, 0, snapshot.sizeBytes) ?? Buffer.alloc(0);
        listener.handleLoadSnapshot(snapshot.id, bytes);
      }
      this.listenerNextOffset = log.startOffset();
    }
    while (this.listenerNextOffset < Math.min(hw, log.endOffset())) {
      const batches = log.read(this.listenerNextOffset, 1024 * 1024);
      if (batches.length === 0) break;
      for (let batch of batches) {
        if (batch.baseOffset >= hw) return;
        if (batchEndOffset(batch) > hw)
          batch = { ...batch, records: batch.records.slice(0, hw - batch.baseOffset) };
        listener.handleCommit(batch);
        this.listenerNextOffset = batchEndOffset(batch);
      }
    }
  }

  private info(line: string): void {
    this.opts.logger?.(`[raft ${this.nodeId}] ${line}`);
  }
}

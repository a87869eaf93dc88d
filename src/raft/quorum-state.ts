/**
 * The quorum states of one node and the only legal moves between them (Kafka's QuorumState and
 * its *State classes, KIP-595 and KIP-996). Every transition goes through QuorumState.transition,
 * which checks it against LEGAL_TRANSITIONS and the epoch rules below and, for a durable one,
 * writes the election (epoch, leader, vote) to the quorum-state store, fsynced, before the new
 * state takes effect: a vote is on disk before anybody is told about it.
 *
 * Voters:
 *   unattached  -> unattached   on a higher epoch, or on granting a vote in this epoch
 *               -> prospective  on election timeout
 *               -> follower     on discovering the leader of this or a higher epoch
 *   prospective -> unattached   on a higher epoch; or the pre-vote lost or timed out and no leader is known
 *               -> candidate    on a majority of pre-votes (the epoch is bumped only now)
 *               -> follower     on discovering a leader; or the pre-vote lost or timed out and the leader is known
 *   candidate   -> unattached   on a higher epoch
 *               -> prospective  after the election timed out and the backoff passed
 *               -> leader       on a majority of votes
 *               -> follower     on discovering the leader of this epoch (another candidate won) or a higher one
 *   leader      -> unattached   on a higher epoch
 *               -> follower     on discovering the leader of a higher epoch
 *               -> resigned     on graceful shutdown, or when check-quorum fails
 *   follower    -> unattached   on a higher epoch
 *               -> prospective  on fetch timeout
 *               -> follower     on discovering the leader of a higher epoch
 *   resigned    -> unattached   on a higher epoch
 *               -> prospective  on election timeout
 *               -> follower     on discovering the leader of a higher epoch
 * Observers (not in the voter set) only move between unattached and follower.
 *
 * Kafka's QuorumState comment omits leader -> follower, but its code takes it (transitionToFollower
 * refuses a leader only in the same epoch) when a higher epoch arrives with its leader; so does Krill,
 * the simulation having found the case (seed 355: a deposed leader receives BeginQuorumEpoch).
 *
 * Epoch rules: the epoch never decreases; only `candidate` raises it by itself (by exactly one);
 * every other rise comes from a message carrying the higher epoch. Concurrency: none; the owner
 * (RaftClient) calls it from one event at a time.
 */
import assert from "node:assert/strict";

export type StateName = "unattached" | "prospective" | "candidate" | "leader" | "follower" | "resigned";

export const LEGAL_TRANSITIONS: Readonly<Record<StateName, readonly StateName[]>> = {
  unattached: ["unattached", "prospective", "follower"],
  prospective: ["unattached", "candidate", "follower"],
  candidate: ["unattached", "prospective", "leader", "follower"],
  leader: ["unattached", "follower", "resigned"],
  follower: ["unattached", "prospective", "follower"],
  resigned: ["unattached", "prospective", "follower"],
};

export const OBSERVER_TRANSITIONS: Readonly<Record<StateName, readonly StateName[]>> = {
  unattached: ["unattached", "follower"],
  prospective: [],
  candidate: [],
  leader: [],
  follower: ["unattached", "follower"],
  resigned: [],
};

/** What is persisted in quorum-state (Kafka's ElectionState): -1 means none. */
export interface ElectionState {
  readonly epoch: number;
  readonly leaderId: number;
  readonly votedId: number;
}

/** Where the election is kept across restarts. `write` returns once the state is durable. */
export interface QuorumStateStore {
  read(): ElectionState | null;
  write(election: ElectionState): void;
}

export class MemoryQuorumStateStore implements QuorumStateStore {
  private election: ElectionState | null = null;
  writes = 0;
  read(): ElectionState | null {
    return this.election;
  }
  write(election: ElectionState): void {
    this.election = { ...election };
    this.writes++;
  }
}

/** Progress of one replica as the leader sees it (LeaderState.ReplicaState). */
export interface ReplicaProgress {
  endOffset: number | null;
  lastFetchTimeMs: number;
  lastCaughtUpTimeMs: number;
}

export interface VoteTally {
  readonly granted: Set<number>;
  readonly rejected: Set<number>;
}

export type EpochState =
  | {
      readonly name: "unattached";
      readonly epoch: number;
      readonly votedId: number;
      readonly electionDeadlineMs: number;
    }
  | {
      readonly name: "prospective";
      readonly epoch: number;
      /** The leader known when the election started (a follower whose fetches timed out), or -1. */
      readonly leaderId: number;
      readonly votedId: number;
      readonly electionDeadlineMs: number;
      readonly votes: VoteTally;
      readonly retries: number;
    }
  | {
      readonly name: "candidate";
      readonly epoch: number;
      readonly electionDeadlineMs: number;
      readonly votes: VoteTally;
      readonly retries: number;
      /** Set once the election timed out or was lost: the time the backoff ends. */
      backoffUntilMs: number | null;
    }
  | {
      readonly name: "leader";
      readonly epoch: number;
      /** The log end offset when this node became leader: the LeaderChangeMessage's offset. */
      readonly epochStartOffset: number;
      readonly grantingVoters: readonly number[];
      readonly voters: Map<number, ReplicaProgress>;
      readonly observers: Map<number, ReplicaProgress>;
      highWatermark: number | null;
      /** Voters that fetched since the check-quorum timer was last reset. */
      readonly fetchedVoters: Set<number>;
      checkQuorumDeadlineMs: number;
      /** Voters that have neither answered BeginQuorumEpoch nor fetched in this epoch. */
      readonly unackedVoters: Set<number>;
      resignRequested: boolean;
    }
  | {
      readonly name: "follower";
      readonly epoch: number;
      readonly leaderId: number;
      fetchDeadlineMs: number;
      highWatermark: number | null;
      hasFetchedFromLeader: boolean;
      /** A snapshot being downloaded with FetchSnapshot. */
      fetchingSnapshot: {
        readonly id: { offset: number; epoch: number };
        readonly chunks: Buffer[];
        size: number;
      } | null;
    }
  | {
      readonly name: "resigned";
      readonly epoch: number;
      readonly electionDeadlineMs: number;
      readonly unackedVoters: Set<number>;
      readonly preferredSuccessors: readonly number[];
    };

export function electionOf(state: EpochState, localId: number): ElectionState {
  switch (state.name) {
    case "unattached":
      return { epoch: state.epoch, leaderId: -1, votedId: state.votedId };
    case "prospective":
      return { epoch: state.epoch, leaderId: state.leaderId, votedId: state.votedId };
    case "candidate":
      return { epoch: state.epoch, leaderId: -1, votedId: localId };
    case "leader":
    case "resigned":
      return { epoch: state.epoch, leaderId: localId, votedId: -1 };
    case "follower":
      return { epoch: state.epoch, leaderId: state.leaderId, votedId: -1 };
  }
}

export function leaderIdOf(state: EpochState, localId: number): number {
  switch (state.name) {
    case "leader":
    case "resigned":
      return localId;
    case "follower":
      return state.leaderId;
    case "prospective":
      return state.leaderId;
    default:
      return -1;
  }
}

/**
 * Whether a voter in state `s` may grant `candidateId` its vote (or pre-vote): each state's
 * canGrantVote in Kafka. A pre-vote only asks whether the candidate's log is at least as up to
 * date, unless this node still hears from a leader; a real vote is also one per epoch.
 */
export function canGrantVote(
  s: EpochState,
  candidateId: number,
  upToDate: boolean,
  preVote: boolean,
): boolean {
  switch (s.name) {
    case "unattached":
      if (preVote) return upToDate;
      return s.votedId !== -1 ? s.votedId === candidateId : upToDate;
    case "prospective":
      if (preVote) return upToDate;
      if (s.votedId !== -1) return s.votedId === candidateId;
      // A leader of this epoch is known: this node may already have voted for it.
      return s.leaderId === -1 && upToDate;
    case "follower":
      return preVote && !s.hasFetchedFromLeader && upToDate;
    case "candidate":
    case "resigned":
      return preVote && upToDate;
    case "leader":
      return false;
  }
}

/**
 * After EndQuorumEpoch, how long a follower waits before standing: at once for the leader's first
 * preferred successor, then doubling by rank (KafkaRaftClient.strictExponentialElectionBackoffMs).
 */
export function endEpochElectionBackoffMs(
  localId: number,
  preferred: readonly number[],
  maxMs: number,
): number {
  const position = preferred.indexOf(localId);
  if (position === 0) return 0;
  if (position < 0) return maxMs;
  const base = maxMs >> (preferred.length - 1);
  return Math.min(maxMs, base << (position - 1));
}

export class QuorumState {
  private current: EpochState | null = null;
  /** Every transition, for the simulation's checks: from, to, epoch. */
  onTransition: ((from: EpochState | null, to: EpochState) => void) | null = null;

  constructor(
    readonly localId: number,
    readonly voterIds: readonly number[],
    private readonly store: QuorumStateStore,
  ) {}

  get state(): EpochState {
    assert.ok(this.current !== null, "the quorum state is not initialized");
    return this.current;
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** The state, or null before the first transition. */
  get maybeState(): EpochState | null {
    return this.current;
  }

  isVoter(): boolean {
    return this.voterIds.includes(this.localId);
  }

  /** The persisted election, or epoch 0 with nobody if this node has never stored one. */
  readElection(): ElectionState {
    return this.store.read() ?? { epoch: 0, leaderId: -1, votedId: -1 };
  }

  /**
   * Moves to `next`. A durable move first writes the election to the store (fsynced); only
   * Resigned is kept in memory (a restarted leader comes back Resigned from its stored election).
   */
  transition(next: EpochState, durable: boolean): void {
    const from = this.current;
    if (from !== null) {
      const table = this.isVoter() ? LEGAL_TRANSITIONS : OBSERVER_TRANSITIONS;
      assert.ok(
        table[from.name].includes(next.name),
        `illegal quorum transition ${from.name}(epoch ${from.epoch}) -> ${next.name}(epoch ${next.epoch})`,
      );
      assert.ok(next.epoch >= from.epoch, `epoch decreases: ${from.epoch} -> ${next.epoch} (${next.name})`);
      if (next.name === "candidate") {
        assert.equal(next.epoch, from.epoch + 1, "a candidate raises the epoch by exactly one");
      } else if (next.name === "leader" || next.name === "resigned" || next.name === "prospective") {
        assert.equal(next.epoch, from.epoch, `${next.name} keeps the epoch`);
      }
      if (next.name === "follower" && (from.name === "follower" || from.name === "leader")) {
        assert.ok(next.epoch > from.epoch, "a follower moves to another leader only in a higher epoch");
      }
      if (next.name === "unattached" && next.epoch === from.epoch) {
        assert.ok(
          (from.name === "unattached" && from.votedId === -1 && next.votedId !== -1) ||
            from.name === "prospective",
          `unattached in the same epoch ${next.epoch} from ${from.name}`,
        );
      }
    }
    assert.ok(this.isVoter() || next.name !== "unattached" || next.votedId === -1, "an observer never votes");
    if (durable) this.store.write(electionOf(next, this.localId));
    this.current = next;
    this.onTransition?.(from, next);
  }
}

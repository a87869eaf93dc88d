/**
 * A classic-protocol consumer group (JoinGroup/SyncGroup/Heartbeat) and its members: the data and
 * the invariants, as Kafka's ClassicGroup. The classic protocol (classic-protocol.ts) drives it; this
 * module never schedules timers nor writes records.
 *
 * States and legal transitions (Kafka's ClassicGroupState), enforced by `transitionTo`:
 *
 *   Empty               -> PreparingRebalance  (a member joins)
 *                       -> Dead                (group deleted, or offsets expired)
 *   PreparingRebalance  -> CompletingRebalance (join phase done with at least one member)
 *                       -> Empty               (join phase done with no member left)
 *                       -> Dead
 *   CompletingRebalance -> Stable              (leader's SyncGroup assignment persisted)
 *                       -> PreparingRebalance  (join with new metadata, leave, member failure)
 *                       -> Dead
 *   Stable              -> PreparingRebalance  (leader join, follower join with new metadata,
 *                                               leave, member failure)
 *                       -> Dead
 *   Dead                -> Dead                (terminal)
 *
 * Every other transition is a programmer error and throws.
 *
 * Concurrency: single-threaded; every method runs to completion synchronously.
 */

export const ClassicGroupState = {
  EMPTY: "Empty",
  PREPARING_REBALANCE: "PreparingRebalance",
  COMPLETING_REBALANCE: "CompletingRebalance",
  STABLE: "Stable",
  DEAD: "Dead",
} as const;
export type ClassicGroupState = (typeof ClassicGroupState)[keyof typeof ClassicGroupState];

/** For each state, the states a group may be in just before it (Kafka's validPreviousStates). */
export const CLASSIC_VALID_PREVIOUS_STATES: ReadonlyMap<
  ClassicGroupState,
  ReadonlySet<ClassicGroupState>
> = new Map<ClassicGroupState, ReadonlySet<ClassicGroupState>>([
  ["Empty", new Set<ClassicGroupState>(["PreparingRebalance"])],
  ["PreparingRebalance", new Set<ClassicGroupState>(["Stable", "CompletingRebalance", "Empty"])],
  ["CompletingRebalance", new Set<ClassicGroupState>(["PreparingRebalance"])],
  ["Stable", new Set<ClassicGroupState>(["CompletingRebalance"])],
  [
    "Dead",
    new Set<ClassicGroupState>(["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"]),
  ],
]);

export function isLegalClassicTransition(from: ClassicGroupState, to: ClassicGroupState): boolean {
  return CLASSIC_VALID_PREVIOUS_STATES.get(to)?.has(from) ?? false;
}

export interface JoinProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

const EMPTY_BUFFER = Buffer.alloc(0);

export class ClassicMember {
  awaitingJoin: ((result: JoinGroupResult) => void) | null = null;
  awaitingSync: ((result: SyncGroupResult) => void) | null = null;
  /** A member that has not yet completed a join phase: its join may time out while parked. */
  isNew = false;
  assignment: Buffer = EMPTY_BUFFER;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: readonly JoinProtocol[],
  ) {}

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /** A parked join or sync counts as a heartbeat, except for a new member (see Kafka's KIP-394). */
  get hasSatisfiedHeartbeat(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync);
  }

  metadataFor(protocolName: string | null): Buffer {
    if (protocolName === null) return EMPTY_BUFFER;
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BUFFER;
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: readonly JoinProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.protocols[i]!;
      return mine.name === p.name && mine.metadata.equals(p.metadata);
    });
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    for (const p of this.protocols) if (candidates.has(p.name)) return p.name;
    throw new Error(`assertion: member ${this.memberId} supports none of the candidate protocols`);
  }
}

export class ClassicGroup {
  readonly type = "classic" as const;
  #state: ClassicGroupState;
  #previousState: ClassicGroupState;
  #currentStateTimestampMs: number | null;
  generationId = 0;
  /** null for a "simple" group that only stores offsets (standalone commits). */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Set while an initial (from Empty) rebalance may still be extended by new joins. */
  newMemberAdded = false;
  /** Topics the members subscribe to, when the protocol type is "consumer" and parses. */
  subscribedTopics: ReadonlySet<string> | null = null;

  readonly members = new Map<string, ClassicMember>();
  readonly #staticMembers = new Map<string, string>();
  readonly #pendingJoinMembers = new Set<string>();
  readonly #pendingSyncMembers = new Set<string>();
  readonly #supportedProtocols = new Map<string, number>();
  #numMembersAwaitingJoin = 0;

  constructor(
    readonly groupId: string,
    initialState: ClassicGroupState,
    nowMs: number | null,
  ) {
    this.#state = initialState;
    this.#previousState = initialState;
    this.#currentStateTimestampMs = nowMs;
  }

  get state(): ClassicGroupState {
    return this.#state;
  }

  get previousState(): ClassicGroupState {
    return this.#previousState;
  }

  get currentStateTimestampMs(): number | null {
    return this.#currentStateTimestampMs;
  }

  is(state: ClassicGroupState): boolean {
    return this.#state === state;
  }

  transitionTo(state: ClassicGroupState, nowMs: number): void {
    if (!isLegalClassicTransition(this.#state, state)) {
      throw new Error(`assertion: group ${this.groupId} cannot go from ${this.#state} to ${state}`);
    }
    this.#previousState = this.#state;
    this.#state = state;
    this.#currentStateTimestampMs = nowMs;
  }

  get isEmpty(): boolean {
    return this.#state === "Empty";
  }

  get size(): number {
    return this.members.size;
  }

  get numAwaitingJoin(): number {
    return this.#numMembersAwaitingJoin;
  }

  get numPendingJoinMembers(): number {
    return this.#pendingJoinMembers.size;
  }

  member(memberId: string): ClassicMember | undefined {
    return this.members.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.#staticMembers.get(groupInstanceId);
  }

  get staticMemberCount(): number {
    return this.#staticMembers.size;
  }

  isPendingMember(memberId: string): boolean {
    return this.#pendingJoinMembers.has(memberId);
  }

  addPendingMember(memberId: string): void {
    this.#pendingJoinMembers.add(memberId);
  }

  /** The member that has been pending longest (sets keep insertion order). */
  oldestPendingMember(): string | undefined {
    return this.#pendingJoinMembers.values().next().value;
  }

  add(member: ClassicMember, onJoin: ((result: JoinGroupResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.#staticMembers.has(member.groupInstanceId)) {
        throw new Error(
          `assertion: static member ${member.groupInstanceId} is already in group ${this.groupId}`,
        );
      }
      this.#staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType) {
      throw new Error(
        `assertion: member protocol type ${member.protocolType} differs from ${this.protocolType}`,
      );
    }
    if (!this.supportsProtocols(member.protocolType, member.protocols)) {
      throw new Error(
        `assertion: group ${this.groupId} supports none of member ${member.memberId}'s protocols`,
      );
    }
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.#countProtocols(member, 1);
    member.awaitingJoin = onJoin;
    if (onJoin !== null) this.#numMembersAwaitingJoin++;
    this.#pendingJoinMembers.delete(member.memberId);
  }

  /**
   * Adds a member read back from a GroupMetadata record. The record is the truth, so the joining
   * checks of `add` do not apply; a duplicate instance id keeps the later member.
   */
  restoreMember(member: ClassicMember): void {
    if (member.groupInstanceId !== null) this.#staticMembers.set(member.groupInstanceId, member.memberId);
    const previous = this.members.get(member.memberId);
    if (previous !== undefined) this.#countProtocols(previous, -1);
    this.members.set(member.memberId, member);
    this.#countProtocols(member, 1);
  }

  /** Removes a member or a pending member; a new leader is the first remaining member. */
  remove(memberId: string): void {
    const removed = this.members.get(memberId);
    if (removed !== undefined) {
      this.members.delete(memberId);
      this.#countProtocols(removed, -1);
      if (removed.isAwaitingJoin) this.#numMembersAwaitingJoin--;
      if (removed.groupInstanceId !== null) this.#staticMembers.delete(removed.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.#pendingJoinMembers.delete(memberId);
    this.#pendingSyncMembers.delete(memberId);
  }

  updateMember(
    member: ClassicMember,
    protocols: readonly JoinProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    onJoin: ((result: JoinGroupResult) => void) | null,
  ): void {
    this.#countProtocols(member, -1);
    member.protocols = protocols;
    this.#countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (onJoin !== null && !member.isAwaitingJoin) this.#numMembersAwaitingJoin++;
    else if (onJoin === null && member.isAwaitingJoin) this.#numMembersAwaitingJoin--;
    member.awaitingJoin = onJoin;
  }

  /**
   * Gives a static member a new member id (a restarted instance rejoining with an unknown id).
   * Whoever still waits on the old id is fenced with FENCED_INSTANCE_ID.
   */
  replaceStaticMember(
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
    fencedCode: number,
  ): ClassicMember {
    const old = this.members.get(oldMemberId);
    if (old === undefined) throw new Error(`assertion: cannot replace unknown member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    this.completeJoin(old, {
      errorCode: fencedCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: "",
      skipAssignment: false,
      memberId: oldMemberId,
      members: [],
    });
    this.completeSync(old, {
      errorCode: fencedCode,
      protocolType: null,
      protocolName: null,
      assignment: EMPTY_BUFFER,
    });
    const replacement = new ClassicMember(
      newMemberId,
      old.groupInstanceId,
      old.clientId,
      old.clientHost,
      old.rebalanceTimeoutMs,
      old.sessionTimeoutMs,
      old.protocolType,
      old.protocols,
    );
    replacement.assignment = old.assignment;
    this.members.set(newMemberId, replacement);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.#staticMembers.set(groupInstanceId, newMemberId);
    return replacement;
  }

  /** Keeps the current leader if it rejoined, else elects the first member that did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  notYetRejoinedMembers(): ClassicMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /**
   * Every member rejoined. Members pending their second JoinGroup are not waited for (Kafka waits
   * for them): a flood of JoinGroups without member id, each answered MEMBER_ID_REQUIRED and never
   * followed up, would otherwise hold every rebalance of the group until the rebalance timeout. A
   * pending member that comes back after the join phase starts the next rebalance, as any member
   * joining a group in CompletingRebalance or Stable does.
   */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.#numMembersAwaitingJoin;
  }

  /** The largest rebalance timeout of the members: how long a join phase may wait. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  canRebalance(): boolean {
    return isLegalClassicTransition(this.#state, "PreparingRebalance");
  }

  supportsProtocols(memberProtocolType: string, protocols: readonly JoinProtocol[]): boolean {
    if (this.#state === "Empty") return memberProtocolType !== "" && protocols.length > 0;
    return (
      this.protocolType === memberProtocolType &&
      protocols.some((p) => (this.#supportedProtocols.get(p.name) ?? 0) === this.members.size)
    );
  }

  /**
   * The protocol supported by every member that most members prefer. Ties go to the protocol
   * first voted for, so the choice is deterministic.
   */
  selectProtocol(): string {
    if (this.members.size === 0)
      throw new Error(`assertion: cannot select a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.#supportedProtocols)
      if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best!;
  }

  addPendingSyncMember(memberId: string): void {
    this.#pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.#pendingSyncMembers.delete(memberId);
  }

  hasReceivedSyncFromAllMembers(): boolean {
    return this.#pendingSyncMembers.size === 0;
  }

  pendingSyncMembers(): string[] {
    return [...this.#pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.#pendingSyncMembers.clear();
  }

  completeJoin(member: ClassicMember, result: JoinGroupResult): boolean {
    const callback = member.awaitingJoin;
    if (callback === null) return false;
    member.awaitingJoin = null;
    this.#numMembersAwaitingJoin--;
    callback(result);
    return true;
  }

  completeSync(member: ClassicMember, result: SyncGroupResult): boolean {
    const callback = member.awaitingSync;
    if (callback === null) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  /** Starts the next generation: CompletingRebalance with a protocol, or Empty without members. */
  initNextGeneration(
    nowMs: number,
    parseSubscribedTopics: (metadata: Buffer) => readonly string[] | null,
  ): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.#computeSubscribedTopics(parseSubscribedTopics);
      this.transitionTo("CompletingRebalance", nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.#computeSubscribedTopics(parseSubscribedTopics);
      this.transitionTo("Empty", nowMs);
    }
    this.clearPendingSyncMembers();
  }

  /** Members and their metadata for the chosen protocol, as the leader receives them. */
  joinedMembers(): JoinGroupResult["members"] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(this.protocolName),
    }));
  }

  /** Whether committed offsets of `topic` are in use (Kafka's isSubscribedToTopic). */
  isSubscribedToTopic(topic: string): boolean {
    if (this.subscribedTopics !== null) return this.subscribedTopics.has(topic);
    return this.protocolType === "consumer";
  }

  #computeSubscribedTopics(
    parse: (metadata: Buffer) => readonly string[] | null,
  ): ReadonlySet<string> | null {
    if (this.protocolType !== "consumer") return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const parsed = parse(m.metadataFor(this.protocolName));
      if (parsed === null) return null;
      for (const t of parsed) topics.add(t);
    }
    return topics;
  }

  #countProtocols(member: ClassicMember, delta: number): void {
    for (const p of member.protocols) {
      this.#supportedProtocols.set(p.name, (this.#supportedProtocols.get(p.name) ?? 0) + delta);
    }
  }
}

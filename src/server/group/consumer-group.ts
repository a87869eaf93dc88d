/**
 * KIP-848 consumer groups (ConsumerGroupHeartbeat): the group and member data, the server-side
 * assignors, and the reconciliation of a member's assignment towards the group's target
 * (Kafka's ConsumerGroup, ConsumerGroupMember, CurrentAssignmentBuilder, UniformAssignor and
 * RangeAssignor). Pure data and functions; the coordinator schedules timers and answers requests.
 *
 * Epochs: the group epoch moves when membership, subscriptions or the subscribed topics' metadata
 * change; the target assignment is recomputed for the new epoch; each member then moves to it
 * step by step. A partition still owned by another member is not given out before that member
 * revoked it (revoke before assign), so no partition is ever consumed by two members at once.
 *
 * Member states (Kafka's MemberState):
 *   STABLE                -> UNREVOKED_PARTITIONS  (the target takes partitions it still owns)
 *                         -> UNRELEASED_PARTITIONS (the target gives it partitions others still own)
 *                         -> STABLE                (new epoch, nothing to wait for)
 *   UNREVOKED_PARTITIONS  -> any, once its heartbeat no longer lists the revoked partitions
 *   UNRELEASED_PARTITIONS -> any, re-checked on every heartbeat
 *
 * Group states, derived: Empty (no members), Assigning (group epoch ahead of the target
 * assignment's), Reconciling (some member not at the target epoch or not STABLE), Stable.
 *
 * Concurrency: single-threaded, synchronous.
 */

/** Partitions by topic id. */
export type Assignment = Map<string, Set<number>>;

export type MemberState = "STABLE" | "UNREVOKED_PARTITIONS" | "UNRELEASED_PARTITIONS";

export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export interface ConsumerMember {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly serverAssignor: string | null;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  readonly assignedPartitions: Assignment;
  readonly partitionsPendingRevocation: Assignment;
}

/** What the assignors and the group need to know of a topic. */
export interface TopicInfo {
  readonly topicId: string;
  readonly partitionCount: number;
}

export type TopicsByName = ReadonlyMap<string, TopicInfo>;

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable";

export class ConsumerGroup {
  readonly type = "consumer" as const;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerMember>();
  readonly #staticMembers = new Map<string, string>();
  readonly targetAssignment = new Map<string, Assignment>();
  /** Owner epoch of every partition assigned or pending revocation. */
  readonly #partitionEpochs = new Map<string, Map<number, number>>();
  /** The subscribed topics' ids and sizes when the group epoch last moved. */
  subscriptionSignature = "";
  /** Set when the group became empty (for offset expiry). */
  emptySinceMs: number | null;

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.emptySinceMs = nowMs;
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch !== this.assignmentEpoch) return "Assigning";
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== "STABLE") return "Reconciling";
    }
    return "Stable";
  }

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  staticMember(instanceId: string): ConsumerMember | undefined {
    const id = this.#staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** The epoch of the member owning a partition, or -1 when it is free. */
  currentPartitionEpoch(topicId: string, partition: number): number {
    return this.#partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  /** Adds, replaces or (with `next` null) removes a member, keeping partition owners in step. */
  updateMember(previous: ConsumerMember | undefined, next: ConsumerMember | null, nowMs: number): void {
    if (previous !== undefined) {
      this.#forgetPartitions(previous.assignedPartitions);
      this.#forgetPartitions(previous.partitionsPendingRevocation);
      this.members.delete(previous.memberId);
      if (
        previous.instanceId !== null &&
        this.#staticMembers.get(previous.instanceId) === previous.memberId
      ) {
        this.#staticMembers.delete(previous.instanceId);
      }
    }
    if (next !== null) {
      this.members.set(next.memberId, next);
      if (next.instanceId !== null) this.#staticMembers.set(next.instanceId, next.memberId);
      this.#recordPartitions(next.assignedPartitions, next.memberEpoch);
      this.#recordPartitions(next.partitionsPendingRevocation, next.memberEpoch);
      this.emptySinceMs = null;
    } else if (this.members.size === 0) {
      this.emptySinceMs = nowMs;
    }
  }

  /** Topic names any member subscribes to, by name or by regex, that exist in `topics`. */
  subscribedTopics(
    topics: TopicsByName,
    members: Iterable<ConsumerMember> = this.members.values(),
  ): Set<string> {
    const out = new Set<string>();
    for (const m of members) for (const t of memberTopics(m, topics)) out.add(t);
    return out;
  }

  #forgetPartitions(assignment: Assignment): void {
    for (const [topicId, partitions] of assignment) {
      const epochs = this.#partitionEpochs.get(topicId);
      if (epochs === undefined) continue;
      for (const p of partitions) epochs.delete(p);
      if (epochs.size === 0) this.#partitionEpochs.delete(topicId);
    }
  }

  #recordPartitions(assignment: Assignment, epoch: number): void {
    for (const [topicId, partitions] of assignment) {
      let epochs = this.#partitionEpochs.get(topicId);
      if (epochs === undefined) {
        epochs = new Map();
        this.#partitionEpochs.set(topicId, epochs);
      }
      for (const p of partitions) epochs.set(p, epoch);
    }
  }
}

/** Longest regex accepted; topic names are at most 249 characters, so this is generous. */
export const SUBSCRIBED_TOPIC_REGEX_LENGTH_MAX = 1024;

const regexCache = new Map<string, RegExp | null>();

/** Compiles a subscription regex as a whole-name match; null if it does not compile. */
export function compileTopicRegex(source: string): RegExp | null {
  if (source.length > SUBSCRIBED_TOPIC_REGEX_LENGTH_MAX) return null;
  let re = regexCache.get(source);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${source})$`, "u");
    } catch {
      re = null;
    }
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re;
}

/** Topics matching each regex, per topics map (a new map comes with each metadata image). */
const regexMatches = new WeakMap<TopicsByName, Map<string, readonly string[]>>();

function topicsMatching(source: string, topics: TopicsByName): readonly string[] {
  let byRegex = regexMatches.get(topics);
  if (byRegex === undefined) {
    byRegex = new Map();
    regexMatches.set(topics, byRegex);
  }
  let matches = byRegex.get(source);
  if (matches === undefined) {
    const re = compileTopicRegex(source);
    matches = re === null ? [] : [...topics.keys()].filter((name) => !name.startsWith("__") && re.test(name));
    byRegex.set(source, matches);
  }
  return matches;
}

/** The existing topics a member subscribes to (internal topics never match a regex). */
export function memberTopics(member: ConsumerMember, topics: TopicsByName): string[] {
  const out = new Set<string>();
  for (const name of member.subscribedTopicNames) if (topics.has(name)) out.add(name);
  if (member.subscribedTopicRegex !== null) {
    for (const name of topicsMatching(member.subscribedTopicRegex, topics)) out.add(name);
  }
  return [...out];
}

/** A stable text of the subscribed topics' ids and sizes: when it changes, the epoch moves. */
export function subscriptionSignature(names: Iterable<string>, topics: TopicsByName): string {
  return [...names]
    .sort()
    .map((n) => {
      const t = topics.get(n)!;
      return `${n}:${t.topicId}:${t.partitionCount}`;
    })
    .join(",");
}

export function assignmentEquals(a: Assignment, b: Assignment): boolean {
  const nonEmpty = (x: Assignment) => [...x].filter(([, ps]) => ps.size > 0);
  const ea = nonEmpty(a);
  const eb = nonEmpty(b);
  if (ea.length !== eb.length) return false;
  for (const [t, ps] of ea) {
    const other = b.get(t);
    if (other === undefined || other.size !== ps.size) return false;
    for (const p of ps) if (!other.has(p)) return false;
  }
  return true;
}

// -----------------------------------------------------------------------------------------------
// Assignors

export interface AssignmentSpec {
  /** Each member and the topics it subscribes to, by name. */
  readonly members: ReadonlyMap<string, readonly string[]>;
  readonly topics: TopicsByName;
  /** The current target assignment, for stickiness. */
  readonly previous: ReadonlyMap<string, Assignment>;
}

export interface Assignor {
  readonly name: string;
  assign(spec: AssignmentSpec): Map<string, Assignment>;
}

function add(a: Assignment, topicId: string, partition: number): void {
  let ps = a.get(topicId);
  if (ps === undefined) {
    ps = new Set();
    a.set(topicId, ps);
  }
  ps.add(partition);
}

function count(a: Assignment): number {
  let n = 0;
  for (const ps of a.values()) n += ps.size;
  return n;
}

/**
 * Kafka's "range" assignor: for each topic, the members subscribed to it, in member id order,
 * get contiguous ranges of partitions, the first ones one extra when it does not divide evenly.
 * Members subscribed to the same co-partitioned topics therefore get the same partition numbers.
 */
export const RANGE_ASSIGNOR: Assignor = {
  name: "range",
  assign(spec) {
    const result = new Map<string, Assignment>();
    for (const id of spec.members.keys()) result.set(id, new Map());
    const topicNames = new Set<string>();
    for (const ts of spec.members.values()) for (const t of ts) topicNames.add(t);
    for (const name of [...topicNames].sort()) {
      const topic = spec.topics.get(name);
      if (topic === undefined) continue;
      const subscribers = [...spec.members.entries()]
        .filter(([, ts]) => ts.includes(name))
        .map(([id]) => id)
        .sort();
      const per = Math.floor(topic.partitionCount / subscribers.length);
      const extra = topic.partitionCount % subscribers.length;
      let next = 0;
      subscribers.forEach((id, i) => {
        const n = per + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) add(result.get(id)!, topic.topicId, next++);
      });
    }
    return result;
  },
};

/**
 * Kafka's "uniform" assignor, in spirit: partitions spread so member loads differ by at most one
 * where subscriptions allow, keeping each member's previous partitions where that stays balanced
 * (few partitions move on a rebalance). Deterministic: ties go to the smaller member id.
 */
/** Subscriber checks the uniform assignor's balancing step may spend per assignment. */
export const UNIFORM_BALANCE_STEPS_MAX = 2_000_000;

export const UNIFORM_ASSIGNOR: Assignor = {
  name: "uniform",
  assign(spec) {
    const memberIds = [...spec.members.keys()].sort();
    const result = new Map<string, Assignment>();
    const load = new Map<string, number>();
    for (const id of memberIds) {
      result.set(id, new Map());
      load.set(id, 0);
    }
    const subscribers = new Map<string, string[]>();
    for (const id of memberIds) {
      for (const t of spec.members.get(id)!) {
        if (!spec.topics.has(t)) continue;
        const list = subscribers.get(t) ?? [];
        list.push(id);
        subscribers.set(t, list);
      }
    }
    const all: { topic: string; topicId: string; partition: number }[] = [];
    for (const name of [...subscribers.keys()].sort()) {
      const t = spec.topics.get(name)!;
      for (let p = 0; p < t.partitionCount; p++) all.push({ topic: name, topicId: t.topicId, partition: p });
    }
    const quota = memberIds.length === 0 ? 0 : Math.ceil(all.length / memberIds.length);
    const owner = new Map<string, string>();
    const key = (topicId: string, p: number) => `${topicId}:${p}`;
    // 1. Keep previous partitions that are still valid, up to the quota.
    for (const id of memberIds) {
      const prev = spec.previous.get(id);
      if (prev === undefined) continue;
      for (const { topic, topicId, partition } of all) {
        if (!prev.get(topicId)?.has(partition)) continue;
        if (!subscribers.get(topic)!.includes(id) || load.get(id)! >= quota) continue;
        if (owner.has(key(topicId, partition))) continue;
        owner.set(key(topicId, partition), id);
        add(result.get(id)!, topicId, partition);
        load.set(id, load.get(id)! + 1);
      }
    }
    // 2. Give every other partition to its least loaded subscriber.
    for (const { topic, topicId, partition } of all) {
      if (owner.has(key(topicId, partition))) continue;
      let best: string | undefined;
      for (const id of subscribers.get(topic)!)
        if (best === undefined || load.get(id)! < load.get(best)!) best = id;
      if (best === undefined) continue;
      owner.set(key(topicId, partition), best);
      add(result.get(best)!, topicId, partition);
      load.set(best, load.get(best)! + 1);
    }
    // 3. Even out what subscriptions allow: move a partition from a member with two more than
    // another subscriber. Passes repeat while they move something; a work budget keeps a huge
    // group from holding the event loop (it then stays slightly less even, never incorrect).
    let budget = UNIFORM_BALANCE_STEPS_MAX;
    const reversed = [...all].reverse();
    for (let moved = true; moved && budget > 0; ) {
      moved = false;
      for (const { topic, topicId, partition } of reversed) {
        const from = owner.get(key(topicId, partition))!;
        let to: string | undefined;
        const candidates = subscribers.get(topic)!;
        budget -= candidates.length;
        for (const id of candidates) {
          if (load.get(id)! + 1 < load.get(from)! && (to === undefined || load.get(id)! < load.get(to)!))
            to = id;
        }
        if (to === undefined) continue;
        result.get(from)!.get(topicId)!.delete(partition);
        add(result.get(to)!, topicId, partition);
        load.set(from, load.get(from)! - 1);
        load.set(to, load.get(to)! + 1);
        owner.set(key(topicId, partition), to);
        moved = true;
      }
    }
    for (const a of result.values()) for (const [t, ps] of a) if (ps.size === 0) a.delete(t);
    return result;
  },
};

export const CONSUMER_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  [UNIFORM_ASSIGNOR.name, UNIFORM_ASSIGNOR],
  [RANGE_ASSIGNOR.name, RANGE_ASSIGNOR],
]);

export { count as assignmentSize };

// -----------------------------------------------------------------------------------------------
// Reconciliation (Kafka's CurrentAssignmentBuilder)

export interface OwnedTopicPartitions {
  readonly topicId: string;
  readonly partitions: readonly number[];
}

/**
 * The member's next state given the target assignment at `targetEpoch` and the partitions it
 * reports owning (null: not reported in this heartbeat, which counts as still owning them).
 */
export function reconcile(
  member: ConsumerMember,
  targetEpoch: number,
  target: Assignment,
  currentPartitionEpoch: (topicId: string, partition: number) => number,
  owned: readonly OwnedTopicPartitions[] | null,
): ConsumerMember {
  const ownsAnyOf = (a: Assignment): boolean => {
    if (owned === null) return true;
    return owned.some((tp) => tp.partitions.some((p) => a.get(tp.topicId)?.has(p) ?? false));
  };
  const next = (memberEpoch: number): ConsumerMember => {
    let unreleased = false;
    const assigned: Assignment = new Map();
    const revoking: Assignment = new Map();
    const pending: Assignment = new Map();
    const topicIds = new Set([...target.keys(), ...member.assignedPartitions.keys()]);
    for (const topicId of topicIds) {
      const want = target.get(topicId) ?? new Set<number>();
      const have = member.assignedPartitions.get(topicId) ?? new Set<number>();
      for (const p of have) {
        if (want.has(p)) add(assigned, topicId, p);
        else add(revoking, topicId, p);
      }
      for (const p of want) {
        if (have.has(p)) continue;
        if (currentPartitionEpoch(topicId, p) !== -1) unreleased = true;
        else add(pending, topicId, p);
      }
    }
    if (revoking.size > 0 && ownsAnyOf(revoking)) {
      return {
        ...member,
        state: "UNREVOKED_PARTITIONS",
        ...epochs(member, memberEpoch),
        assignedPartitions: assigned,
        partitionsPendingRevocation: revoking,
      };
    }
    for (const [t, ps] of pending) for (const p of ps) add(assigned, t, p);
    return {
      ...member,
      state: unreleased ? "UNRELEASED_PARTITIONS" : "STABLE",
      ...epochs(member, targetEpoch),
      assignedPartitions: assigned,
      partitionsPendingRevocation: new Map(),
    };
  };
  switch (member.state) {
    case "STABLE":
      return member.memberEpoch !== targetEpoch ? next(member.memberEpoch) : member;
    case "UNREVOKED_PARTITIONS":
      if (ownsAnyOf(member.partitionsPendingRevocation)) return member;
      return next(member.memberEpoch + 1);
    case "UNRELEASED_PARTITIONS":
      return next(member.memberEpoch);
  }
}

function epochs(
  member: ConsumerMember,
  memberEpoch: number,
): { memberEpoch: number; previousMemberEpoch: number } {
  if (memberEpoch === member.memberEpoch)
    return { memberEpoch, previousMemberEpoch: member.previousMemberEpoch };
  return { memberEpoch, previousMemberEpoch: member.memberEpoch };
}

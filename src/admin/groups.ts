/**
 * `krill group list|describe|delete`: kafka-consumer-groups.sh's actions, with its output.
 *
 * - list: ListGroups on every broker (each coordinator lists its own groups), consumer groups only
 *   (protocol type `consumer` or none, as Kafka's listConsumerGroups), sorted; `--state` and
 *   `--type` print Kafka's GROUP / TYPE / STATE table.
 * - describe: FindCoordinator, then ConsumerGroupDescribe (KIP-848 groups) and, for a group it
 *   does not know (GROUP_ID_NOT_FOUND) or a broker without it, DescribeGroups (classic groups) at
 *   the coordinator, as Kafka's AdminClient does. The default view is the offsets one: committed
 *   offsets (OffsetFetch), log end offsets (ListOffsets latest, at each partition's leader) and the
 *   lag between them, per assigned partition and per committed partition no member holds (`-` as
 *   consumer); `--members` (with `--verbose`, the assignment) and `--state` are Kafka's other
 *   views. A group that does not exist is an error (exit 1), where Kafka's tool says so and exits 0.
 * - delete: DeleteGroups at each group's coordinator.
 */

import { isKrillError } from "../errors.js";
import {
  CONSUMER_GROUP_DESCRIBE_API,
  DELETE_GROUPS_API,
  DESCRIBE_GROUPS_API,
  LIST_GROUPS_API,
  LIST_OFFSETS_API,
  OFFSET_FETCH_API,
} from "../protocol/generated/apis.js";
import { decodeConsumerProtocolAssignment } from "../protocol/generated/consumer-protocol-assignment.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { Reader } from "../protocol/primitives/reader.js";
import type { NodeEndpoint } from "../server/network/node-client.js";
import { type OptionSpec, type ParsedOptions, UsageError } from "./args.js";
import { type AdminClient, check, KafkaResponseError } from "./client.js";
import { resetOffsets } from "./reset-offsets.js";
import type { CommandContext } from "./topics.js";

export const GROUP_OPTIONS: Readonly<Record<string, readonly OptionSpec[]>> = {
  list: [{ name: "--state" }, { name: "--type" }],
  describe: [
    { name: "--group", value: true, aliases: ["-g"] },
    { name: "--all-groups" },
    { name: "--members" },
    { name: "--state" },
    { name: "--offsets" },
    { name: "--verbose" },
  ],
  delete: [{ name: "--group", value: true, aliases: ["-g"] }],
  "reset-offsets": [
    { name: "--group", value: true, aliases: ["-g"] },
    { name: "--all-groups" },
    { name: "--topic", value: true, aliases: ["-t"] },
    { name: "--all-topics" },
    { name: "--to-earliest" },
    { name: "--to-latest" },
    { name: "--to-current" },
    { name: "--to-offset", value: true },
    { name: "--to-datetime", value: true },
    { name: "--by-duration", value: true },
    { name: "--shift-by", value: true },
    { name: "--dry-run" },
    { name: "--execute" },
  ],
};

export const GROUP_USAGE = `Usage: krill group <action> [options] [--bootstrap-server HOST:PORT]

  list [--state] [--type]
  describe GROUP... | --all-groups [--offsets (default) | --members [--verbose] | --state]
  delete GROUP...
  reset-offsets GROUP... | --all-groups  (--topic T[:P,P...]... | --all-topics)
                (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N |
                 --to-datetime YYYY-MM-DDTHH:mm:SS.sss | --by-duration PnDTnHnMnS)
                [--dry-run (default) | --execute]

Group ids may also be given with --group, as kafka-consumer-groups.sh takes them. describe prints
each partition's committed offset, log end offset and LAG, as kafka-consumer-groups --describe.
reset-offsets prints the new offsets and changes nothing unless --execute is given; it refuses a
group with members (exit 1), as Kafka's tool refuses one that is not inactive. Offsets outside the
log are moved to its start or end; --to-datetime without a zone is UTC.`;

/** "-": a column with no value, as Kafka's tool prints it. */
const MISSING = "-";

interface MemberView {
  readonly memberId: string;
  readonly instanceId: string | null;
  readonly clientId: string;
  readonly host: string;
  /** topic -> assigned partitions */
  readonly assignment: Map<string, number[]>;
}

export interface GroupView {
  readonly groupId: string;
  /** Kafka's GroupState names: Stable, Empty, Dead, PreparingRebalance, Assigning, ... */
  readonly state: string;
  readonly assignmentStrategy: string;
  readonly coordinator: NodeEndpoint;
  readonly coordinatorId: number;
  readonly members: readonly MemberView[];
}

export async function runGroup(action: string, ctx: CommandContext): Promise<number> {
  switch (action) {
    case "list":
      return listGroups(ctx);
    case "describe":
      return describeGroups(ctx);
    case "delete":
      return deleteGroups(ctx);
    case "reset-offsets":
      return resetOffsets(ctx);
    default:
      throw new UsageError(
        `unknown group action "${action}"; accepted: list, describe, delete, reset-offsets`,
      );
  }
}

interface ListedGroup {
  readonly groupId: string;
  readonly state: string;
  readonly type: string;
}

export async function listConsumerGroups(admin: AdminClient): Promise<ListedGroup[]> {
  await admin.metadata([]);
  const seen = new Map<string, ListedGroup>();
  for (const endpoint of admin.brokers.values()) {
    const res = await admin.retrying(async () => {
      const r = await admin.to(LIST_GROUPS_API, endpoint, { statesFilter: [], typesFilter: [] });
      check(r.errorCode, null, `ListGroups at ${endpoint.host}:${endpoint.port}`);
      return r;
    });
    for (const g of res.groups) {
      if (g.protocolType !== "consumer" && g.protocolType !== "") continue;
      seen.set(g.groupId, {
        groupId: g.groupId,
        state: g.groupState === "" ? "Unknown" : g.groupState,
        type: g.groupType === "" ? "Classic" : capitalize(g.groupType),
      });
    }
  }
  return [...seen.values()].sort((a, b) => compare(a.groupId, b.groupId));
}

async function listGroups({ admin, io, parsed }: CommandContext): Promise<number> {
  const groups = await listConsumerGroups(admin);
  const withState = parsed.flags.has("--state");
  const withType = parsed.flags.has("--type");
  if (!withState && !withType) {
    for (const g of groups) io.out(`${g.groupId}\n`);
    return 0;
  }
  const width = Math.max(15, ...groups.map((g) => g.groupId.length)) + 10;
  const row = (id: string, type: string, state: string): string =>
    `${[id.padEnd(width), ...(withType ? [type.padEnd(20)] : []), ...(withState ? [state.padEnd(20)] : [])].join(" ")}\n`;
  io.out(row("GROUP", "TYPE", "STATE"));
  for (const g of groups) io.out(row(g.groupId, g.type, g.state));
  return 0;
}

export function groupIds(parsed: ParsedOptions): string[] {
  return [...parsed.positional, ...(parsed.values.get("--group") ?? [])];
}

async function describeGroups({ admin, io, parsed }: CommandContext): Promise<number> {
  let ids = groupIds(parsed);
  if (parsed.flags.has("--all-groups")) ids = (await listConsumerGroups(admin)).map((g) => g.groupId);
  else if (ids.length === 0) throw new UsageError("group describe needs a group id or --all-groups");
  let failed = 0;
  for (const groupId of ids) {
    const group = await describeGroup(admin, groupId);
    if (group.state === "Dead") {
      io.err(`\nError: Consumer group '${groupId}' does not exist.\n`);
      failed++;
      continue;
    }
    if (group.state === "Empty") io.err(`\nConsumer group '${groupId}' has no active members.\n`);
    else if (group.state !== "Stable") io.err(`\nWarning: Consumer group '${groupId}' is rebalancing.\n`);
    // As Kafka's tool: a view with no rows (no members, no offsets) prints only the notice above.
    if (parsed.flags.has("--state")) printState(io.out, group);
    else if (parsed.flags.has("--members")) {
      if (group.members.length > 0) printMembers(io.out, group, parsed.flags.has("--verbose"));
    } else await printOffsets(admin, io.out, group);
  }
  return failed === 0 ? 0 : 1;
}

export async function describeGroup(admin: AdminClient, groupId: string): Promise<GroupView> {
  return admin.retrying(async () => {
    const found = await admin.coordinatorNode(groupId);
    const coordinator = { host: found.host, port: found.port };
    try {
      const res = await admin.to(CONSUMER_GROUP_DESCRIBE_API, coordinator, {
        groupIds: [groupId],
        includeAuthorizedOperations: false,
      });
      const g = res.groups[0];
      if (g === undefined)
        throw new KafkaResponseError(ErrorCode.UNKNOWN_SERVER_ERROR, "no group in the answer", groupId);
      // GROUP_ID_NOT_FOUND: no consumer-protocol group of that id; a classic one may exist.
      if (g.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) {
        check(g.errorCode, g.errorMessage, `ConsumerGroupDescribe ${groupId}`);
        return {
          groupId,
          state: capitalize(g.groupState),
          assignmentStrategy: g.assignorName,
          coordinator,
          coordinatorId: found.nodeId,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            clientId: m.clientId,
            host: m.clientHost,
            assignment: new Map(m.assignment.topicPartitions.map((tp) => [tp.topicName, [...tp.partitions]])),
          })),
        };
      }
    } catch (err) {
      // A broker without KIP-848 groups: the classic description is all there is.
      if (!isKrillError(err, "UNSUPPORTED_VERSION")) throw err;
    }
    const res = await admin.to(DESCRIBE_GROUPS_API, coordinator, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    const g = res.groups[0];
    if (g === undefined)
      throw new KafkaResponseError(ErrorCode.UNKNOWN_SERVER_ERROR, "no group in the answer", groupId);
    // v6 answers an unknown group GROUP_ID_NOT_FOUND where earlier versions said Dead.
    if (g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) {
      return {
        groupId,
        state: "Dead",
        assignmentStrategy: "",
        coordinator,
        coordinatorId: found.nodeId,
        members: [],
      };
    }
    check(g.errorCode, g.errorMessage, `DescribeGroups ${groupId}`);
    return {
      groupId,
      state: g.groupState === "" ? "Unknown" : g.groupState,
      assignmentStrategy: g.protocolData,
      coordinator,
      coordinatorId: found.nodeId,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.groupInstanceId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: decodeAssignment(m.memberAssignment),
      })),
    };
  });
}

/** A classic member's assignment (ConsumerProtocolAssignment with its version prefix); empty when it is not one. */
function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (bytes.length < 2) return out;
  try {
    const r = new Reader(bytes);
    const version = r.readInt16("version");
    const a = decodeConsumerProtocolAssignment(r, Math.min(Math.max(version, 0), 3));
    for (const tp of a.assignedPartitions) out.set(tp.topic, [...tp.partitions]);
  } catch {
    // Not the consumer protocol (a Connect worker's or another client's own format).
  }
  return out;
}

function printState(out: (text: string) => void, g: GroupView): void {
  const coordinator = `${g.coordinator.host}:${g.coordinator.port}  (${g.coordinatorId})`;
  const width = Math.max(25, coordinator.length);
  const row = (cols: string[]): string =>
    `\n${cols[0]!.padEnd(width)} ${cols[1]!.padEnd(25)} ${cols[2]!.padEnd(20)} ${cols[3]!.padEnd(15)} ${cols[4]}`;
  out(row(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]));
  out(row([g.groupId, coordinator, g.assignmentStrategy, g.state, String(g.members.length)]));
  out("\n");
}

function printMembers(out: (text: string) => void, g: GroupView, verbose: boolean): void {
  const withInstance = g.members.some((m) => m.instanceId !== null && m.instanceId !== "");
  const w = {
    group: Math.max(15, g.groupId.length),
    consumer: Math.max(15, ...g.members.map((m) => m.memberId.length)),
    instance: Math.max(17, ...g.members.map((m) => (m.instanceId ?? "").length)),
    host: Math.max(15, ...g.members.map((m) => m.host.length)),
    client: Math.max(15, ...g.members.map((m) => m.clientId.length)),
  };
  const row = (group: string, consumer: string, instance: string, host: string, client: string, n: string) =>
    [
      group.padEnd(w.group),
      consumer.padEnd(w.consumer),
      ...(withInstance ? [instance.padEnd(w.instance)] : []),
      host.padEnd(w.host),
      client.padEnd(w.client),
      n.padEnd(15),
    ].join(" ") + " ";
  out(`\n${row("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")}`);
  out(verbose ? "ASSIGNMENT\n" : "\n");
  for (const m of g.members) {
    let count = 0;
    for (const ps of m.assignment.values()) count += ps.length;
    out(row(g.groupId, m.memberId, m.instanceId ?? "", m.host, m.clientId, String(count)));
    if (verbose) {
      const parts = [...m.assignment.entries()]
        .filter(([, ps]) => ps.length > 0)
        .map(([topic, ps]) => `${topic}(${[...ps].sort((a, b) => a - b).join(",")})`)
        .sort();
      out(parts.length === 0 ? MISSING : parts.join(", "));
    }
    out("\n");
  }
}

interface OffsetRow {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number | undefined;
  logEndOffset: number | undefined;
  readonly consumerId: string;
  readonly host: string;
  readonly clientId: string;
}

async function printOffsets(admin: AdminClient, out: (text: string) => void, g: GroupView): Promise<void> {
  const committed = await committedOffsets(admin, g);
  const rows: OffsetRow[] = [];
  const assigned = new Set<string>();
  const members = [...g.members].sort((a, b) => countPartitions(b) - countPartitions(a));
  for (const m of members) {
    for (const [topic, partitions] of [...m.assignment.entries()].sort((a, b) => compare(a[0], b[0]))) {
      for (const partition of [...partitions].sort((a, b) => a - b)) {
        assigned.add(`${topic}\u0000${partition}`);
        rows.push({
          topic,
          partition,
          offset: committed.get(topic)?.get(partition),
          logEndOffset: undefined,
          consumerId: m.memberId,
          host: m.host,
          clientId: m.clientId,
        });
      }
    }
  }
  for (const [topic, partitions] of [...committed.entries()].sort((a, b) => compare(a[0], b[0]))) {
    for (const [partition, offset] of [...partitions.entries()].sort((a, b) => a[0] - b[0])) {
      if (assigned.has(`${topic}\u0000${partition}`)) continue;
      rows.push({
        topic,
        partition,
        offset,
        logEndOffset: undefined,
        consumerId: MISSING,
        host: MISSING,
        clientId: MISSING,
      });
    }
  }
  if (rows.length === 0) return;
  const ends = await logEndOffsets(admin, rows);
  for (const r of rows) r.logEndOffset = ends.get(r.topic)?.get(r.partition);
  const w = {
    group: Math.max(15, g.groupId.length),
    topic: Math.max(15, ...rows.map((r) => r.topic.length)),
    consumer: Math.max(15, ...rows.map((r) => r.consumerId.length)),
    host: Math.max(15, ...rows.map((r) => r.host.length)),
  };
  const line = (c: string[]): string =>
    `\n${c[0]!.padEnd(w.group)} ${c[1]!.padEnd(w.topic)} ${c[2]!.padEnd(10)} ${c[3]!.padEnd(15)} ${c[4]!.padEnd(15)} ${c[5]!.padEnd(15)} ${c[6]!.padEnd(w.consumer)} ${c[7]!.padEnd(w.host)} ${c[8]}`;
  out(
    line([
      "GROUP",
      "TOPIC",
      "PARTITION",
      "CURRENT-OFFSET",
      "LOG-END-OFFSET",
      "LAG",
      "CONSUMER-ID",
      "HOST",
      "CLIENT-ID",
    ]),
  );
  for (const r of rows) {
    const lag =
      r.offset !== undefined && r.logEndOffset !== undefined ? String(r.logEndOffset - r.offset) : MISSING;
    out(
      line([
        g.groupId,
        r.topic,
        String(r.partition),
        r.offset === undefined ? MISSING : String(r.offset),
        r.logEndOffset === undefined ? MISSING : String(r.logEndOffset),
        lag,
        r.consumerId,
        r.host,
        r.clientId,
      ]),
    );
  }
  out("\n");
}

function countPartitions(m: MemberView): number {
  let n = 0;
  for (const ps of m.assignment.values()) n += ps.length;
  return n;
}

/** The group's committed offsets, topic -> partition -> offset (none: -1, left out). */
export async function committedOffsets(
  admin: AdminClient,
  g: GroupView,
): Promise<Map<string, Map<number, number>>> {
  const res = await admin.retrying(async () => {
    const r = await admin.to(OFFSET_FETCH_API, g.coordinator, (version) => ({
      groupId: version < 8 ? g.groupId : "",
      topics: version < 8 ? null : [],
      groups: version >= 8 ? [{ groupId: g.groupId, memberId: null, memberEpoch: -1, topics: null }] : [],
      requireStable: false,
    }));
    const group = r.groups[0];
    if (group !== undefined) check(group.errorCode, null, `OffsetFetch ${g.groupId}`);
    else check(r.errorCode, null, `OffsetFetch ${g.groupId}`);
    return r;
  });
  const topics =
    res.groups[0] !== undefined
      ? res.groups[0].topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions }))
      : res.topics.map((t) => ({ name: t.name, topicId: "", partitions: t.partitions }));
  // From v10 (KIP-848's topic ids) topics may be named by id only.
  let namesById: Map<string, string> | undefined;
  const out = new Map<string, Map<number, number>>();
  for (const t of topics) {
    let name = t.name;
    if (name === "" && t.topicId !== "") {
      if (namesById === undefined) {
        const md = await admin.metadata(null);
        namesById = new Map(md.topics.filter((x) => x.name !== null).map((x) => [x.topicId, x.name!]));
      }
      name = namesById.get(t.topicId) ?? t.topicId;
    }
    for (const p of t.partitions) {
      if (p.errorCode !== 0 || p.committedOffset < 0n) continue;
      entry(out, name, () => new Map<number, number>()).set(p.partitionIndex, Number(p.committedOffset));
    }
  }
  return out;
}

/** Latest offsets (ListOffsets timestamp -1 at each leader); partitions without a leader are left out. */
export async function logEndOffsets(
  admin: AdminClient,
  partitions: readonly { topic: string; partition: number }[],
): Promise<Map<string, Map<number, number>>> {
  const topics = [...new Set(partitions.map((p) => p.topic))];
  const md = await admin.metadata(topics);
  const byLeader = new Map<number, Map<string, number[]>>();
  const wanted = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
  for (const t of md.topics) {
    if (t.errorCode !== 0 || t.name === null) continue;
    for (const p of t.partitions) {
      if (p.leaderId < 0 || !wanted.has(`${t.name}\u0000${p.partitionIndex}`)) continue;
      const leader = entry(byLeader, p.leaderId, () => new Map<string, number[]>());
      entry(leader, t.name, (): number[] => []).push(p.partitionIndex);
    }
  }
  const out = new Map<string, Map<number, number>>();
  for (const [leaderId, byTopic] of byLeader) {
    const endpoint = await admin.broker(leaderId);
    const res = await admin.to(LIST_OFFSETS_API, endpoint, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [...byTopic].map(([name, ps]) => ({
        name,
        partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n })),
      })),
      timeoutMs: admin.requestTimeoutMs,
    });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0 || p.offset < 0n) continue;
        entry(out, t.name, () => new Map<number, number>()).set(p.partitionIndex, Number(p.offset));
      }
    }
  }
  return out;
}

async function deleteGroups({ admin, io, parsed }: CommandContext): Promise<number> {
  const ids = groupIds(parsed);
  if (ids.length === 0) throw new UsageError("group delete needs a group id");
  const succeeded: string[] = [];
  const failed: [string, string][] = [];
  for (const groupId of ids) {
    try {
      await admin.retrying(async () => {
        const c = await admin.coordinatorNode(groupId);
        const res = await admin.to(
          DELETE_GROUPS_API,
          { host: c.host, port: c.port },
          { groupsNames: [groupId] },
        );
        const r = res.results[0];
        if (r === undefined)
          throw new KafkaResponseError(ErrorCode.UNKNOWN_SERVER_ERROR, "no group in the answer", groupId);
        check(r.errorCode, r.errorMessage, `group ${groupId}`);
      });
      succeeded.push(groupId);
    } catch (err) {
      if (!(err instanceof KafkaResponseError)) throw err;
      failed.push([groupId, err.message]);
    }
  }
  if (failed.length === 0) {
    io.out(`Deletion of requested consumer groups ('${succeeded.join("', '")}') was successful.\n`);
    return 0;
  }
  io.err("Deletion of some consumer groups failed:\n");
  for (const [groupId, reason] of failed)
    io.err(`* Group '${groupId}' could not be deleted due to: ${reason}\n`);
  if (succeeded.length > 0)
    io.out(`\nThese consumer groups were deleted successfully: '${succeeded.join("', '")}'\n`);
  return 1;
}

/** The value under `key`, made and stored first when there is none. */
function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function capitalize(s: string): string {
  return s === "" ? s : s[0]!.toUpperCase() + s.slice(1);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

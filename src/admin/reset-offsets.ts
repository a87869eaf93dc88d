/**
 * `krill group reset-offsets`: kafka-consumer-groups.sh --reset-offsets, as its
 * ConsumerGroupService.resetOffsets does it:
 *
 * - Only a group without members (state Empty, or Dead: no group yet) is changed; any other state
 *   is refused with Kafka's message ("Assignments can only be reset if the group 'G' is inactive,
 *   but the current state is Stable.") and exit status 1 (Kafka's tool prints it and exits 0).
 * - Scope: `--topic T` (all its partitions) or `--topic T:0,2`, or `--all-topics` (the partitions
 *   the group has committed offsets for).
 * - Target: --to-earliest / --to-latest (ListOffsets), --to-offset N and --shift-by N (from the
 *   committed offset, which must exist), both moved into [log start, log end] as Kafka's
 *   checkOffsetsRange does, --to-datetime / --by-duration (ListOffsets by timestamp; a partition
 *   with no record at or after it goes to its end, with Kafka's "Warn: ... is empty" line),
 *   --to-current (the committed offset, else the end).
 * - Dry run unless --execute (then OffsetCommit as the admin client's alterConsumerGroupOffsets:
 *   generation -1, no member). Either way the table Kafka 4.4 prints:
 *   `GROUP  TOPIC  PARTITION  NEW-OFFSET`, the first two columns as wide as their longest value.
 */
import { LIST_OFFSETS_API, OFFSET_COMMIT_API } from "../protocol/generated/apis.js";
import { ErrorCode } from "../protocol/generated/error-codes.js";
import { bucket, intOption, optionValue, UsageError } from "./args.js";
import { type AdminClient, check, KafkaResponseError } from "./client.js";
import { committedOffsets, describeGroup, groupIds, listConsumerGroups } from "./groups.js";
import { parseTime } from "./record-format.js";
import type { CommandContext } from "./topics.js";

const SCENARIOS = [
  "--to-earliest",
  "--to-latest",
  "--to-current",
  "--to-offset",
  "--to-datetime",
  "--by-duration",
  "--shift-by",
] as const;

interface Tp {
  readonly topic: string;
  readonly partition: number;
}

const tpKey = (tp: Tp): string => `${tp.topic}\u0000${tp.partition}`;

export async function resetOffsets(ctx: CommandContext): Promise<number> {
  const { admin, io, parsed } = ctx;
  const given = SCENARIOS.filter((s) => parsed.flags.has(s) || parsed.values.has(s));
  if (given.length !== 1) {
    throw new UsageError(`reset-offsets needs exactly one of ${SCENARIOS.join(", ")}`);
  }
  const scenario = given[0]!;
  const topics = parsed.values.get("--topic") ?? [];
  if ((topics.length === 0) === !parsed.flags.has("--all-topics")) {
    throw new UsageError("One of the reset scopes should be defined: --all-topics, --topic.");
  }
  if (parsed.flags.has("--dry-run") && parsed.flags.has("--execute"))
    throw new UsageError("give --dry-run or --execute, not both");
  const execute = parsed.flags.has("--execute");
  // Validate the scenario's value before asking the cluster anything.
  const toOffset = intOption(parsed, "--to-offset", 0, Number.MAX_SAFE_INTEGER);
  const shiftBy = intOption(parsed, "--shift-by", -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  let timestamp: bigint | undefined;
  if (scenario === "--to-datetime") {
    const text = optionValue(parsed, "--to-datetime")!;
    if (!text.includes("T"))
      throw new UsageError(
        "--to-datetime: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format",
      );
    timestamp = parseTime(text, "--to-datetime");
  } else if (scenario === "--by-duration") {
    timestamp = BigInt(Date.now()) - parseDuration(optionValue(parsed, "--by-duration")!);
  }
  let ids = groupIds(parsed);
  if (parsed.flags.has("--all-groups")) ids = (await listConsumerGroups(admin)).map((g) => g.groupId);
  else if (ids.length === 0) throw new UsageError("reset-offsets needs a group id or --all-groups");

  let failed = 0;
  const rows: [string, Tp, bigint][] = [];
  for (const groupId of ids) {
    const group = await describeGroup(admin, groupId);
    if (group.state !== "Empty" && group.state !== "Dead") {
      io.out(
        `\nError: Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${group.state}.\n`,
      );
      failed++;
      continue;
    }
    const committed = await committedOffsets(admin, group);
    const scope =
      topics.length > 0 ? await parseTopicPartitions(admin, topics) : committedPartitions(committed);
    const current = (tp: Tp): bigint | undefined => {
      const o = committed.get(tp.topic)?.get(tp.partition);
      return o === undefined ? undefined : BigInt(o);
    };
    let target: Map<string, bigint>;
    switch (scenario) {
      case "--to-earliest":
        target = await listOffsetsAt(admin, scope, -2n);
        break;
      case "--to-latest":
        target = await listOffsetsAt(admin, scope, -1n);
        break;
      case "--to-offset":
        target = await clamp(
          admin,
          scope,
          new Map(scope.map((tp) => [tpKey(tp), BigInt(toOffset!)])),
          io.err,
        );
        break;
      case "--shift-by": {
        const wanted = new Map<string, bigint>();
        for (const tp of scope) {
          const c = current(tp);
          if (c === undefined) {
            throw new UsageError(
              `Cannot shift offset for partition ${tp.topic}-${tp.partition} since there is no current committed offset`,
            );
          }
          wanted.set(tpKey(tp), c + BigInt(shiftBy!));
        }
        target = await clamp(admin, scope, wanted, io.err);
        break;
      }
      case "--to-current": {
        const without = scope.filter((tp) => current(tp) === undefined);
        target = await listOffsetsAt(admin, without, -1n);
        for (const tp of scope) {
          const c = current(tp);
          if (c !== undefined) target.set(tpKey(tp), c);
        }
        break;
      }
      default: {
        target = await listOffsetsAt(admin, scope, timestamp!);
        const empty = scope.filter((tp) => (target.get(tpKey(tp)) ?? -1n) < 0n);
        for (const tp of empty)
          io.out(
            `\nWarn: Partition ${tp.partition} from topic ${tp.topic} is empty. Falling back to latest known offset.\n`,
          );
        const ends = await listOffsetsAt(admin, empty, -1n);
        for (const [k, v] of ends) target.set(k, v);
      }
    }
    const sorted = [...scope].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
    if (execute && sorted.length > 0) await commitOffsets(admin, group.coordinator, groupId, sorted, target);
    for (const tp of sorted) rows.push([groupId, tp, target.get(tpKey(tp))!]);
  }
  // Kafka 4.4's GroupOffsetsResetter.printOffsetsToReset: "%n%-Gs %-Ts %-10s %s" with G and T
  // the longest group id and topic (at least 15), then a newline.
  const gw = Math.max(15, ...rows.map(([g]) => g.length));
  const tw = Math.max(15, ...rows.map(([, tp]) => tp.topic.length));
  const line = (g: string, t: string, p: string, o: string) =>
    `\n${g.padEnd(gw)} ${t.padEnd(tw)} ${p.padEnd(10)} ${o}`;
  if (rows.length > 0) io.out(line("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"));
  for (const [g, tp, o] of rows) io.out(line(g, tp.topic, String(tp.partition), String(o)));
  io.out("\n");
  return failed === 0 ? 0 : 1;
}

/** ISO-8601 durations as Java's Duration.parse takes them: PnDTnHnMn.nS (signs allowed). */
export function parseDuration(text: string): bigint {
  const m =
    /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:\.(\d{1,9}))?S)?)?$/i.exec(
      text.trim(),
    );
  if (m === null || text.trim().toUpperCase().endsWith("T") || /^[-+]?P$/i.test(text.trim())) {
    throw new UsageError(`--by-duration: "${text}" is not an ISO-8601 duration (PnDTnHnMnS, e.g. PT1H30M)`);
  }
  const n = (s: string | undefined) => BigInt(s ?? "0");
  const fraction = m[6] === undefined ? 0n : BigInt(m[6].padEnd(3, "0").slice(0, 3));
  const ms =
    n(m[2]) * 86_400_000n +
    n(m[3]) * 3_600_000n +
    n(m[4]) * 60_000n +
    n(m[5]) * 1_000n +
    (m[5]?.startsWith("-") ? -fraction : fraction);
  return m[1] === "-" ? -ms : ms;
}

function committedPartitions(committed: ReadonlyMap<string, ReadonlyMap<number, number>>): Tp[] {
  const out: Tp[] = [];
  for (const [topic, ps] of committed) for (const partition of ps.keys()) out.push({ topic, partition });
  return out;
}

/** `T` (every partition of T) or `T:0,1` (kafka-consumer-groups' parseTopicPartitionsToReset). */
async function parseTopicPartitions(admin: AdminClient, specs: readonly string[]): Promise<Tp[]> {
  const out: Tp[] = [];
  const whole: string[] = [];
  for (const spec of specs) {
    const colon = spec.indexOf(":");
    if (colon < 0) {
      whole.push(spec.trim());
      continue;
    }
    const topic = spec.slice(0, colon).trim();
    for (const p of spec.slice(colon + 1).split(",")) {
      if (!/^\d+$/.test(p.trim())) throw new UsageError(`--topic ${spec}: partitions are numbers (T:0,1)`);
      out.push({ topic, partition: Number(p.trim()) });
    }
  }
  if (whole.length > 0) {
    const md = await admin.metadata(whole);
    for (const t of md.topics) {
      check(t.errorCode, null, `topic ${t.name}`);
      for (const p of t.partitions) out.push({ topic: t.name!, partition: p.partitionIndex });
    }
  }
  return out;
}

/** ListOffsets (-2 earliest, -1 latest, else a timestamp) at each leader: key -> offset (-1: none). */
export async function listOffsetsAt(
  admin: AdminClient,
  partitions: readonly Tp[],
  timestamp: bigint,
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (partitions.length === 0) return out;
  return admin.retrying(async () => {
    const md = await admin.metadata([...new Set(partitions.map((p) => p.topic))]);
    const leaders = new Map<string, number>();
    for (const t of md.topics) {
      check(t.errorCode, null, `topic ${t.name}`);
      for (const p of t.partitions)
        leaders.set(tpKey({ topic: t.name!, partition: p.partitionIndex }), p.leaderId);
    }
    const byLeader = new Map<number, Tp[]>();
    for (const tp of partitions) {
      const leader = leaders.get(tpKey(tp));
      if (leader === undefined)
        throw new KafkaResponseError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          null,
          `${tp.topic}-${tp.partition}`,
        );
      if (leader < 0)
        throw new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, null, `${tp.topic}-${tp.partition}`);
      const list = bucket(byLeader, leader);
      list.push(tp);
    }
    for (const [leader, tps] of byLeader) {
      const byTopic = new Map<string, number[]>();
      for (const tp of tps) {
        const ps = bucket(byTopic, tp.topic);
        ps.push(tp.partition);
      }
      const res = await admin.to(LIST_OFFSETS_API, await admin.broker(leader), {
        replicaId: -1,
        isolationLevel: 0,
        topics: [...byTopic].map(([name, ps]) => ({
          name,
          partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp })),
        })),
        timeoutMs: admin.requestTimeoutMs,
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          check(p.errorCode, null, `ListOffsets ${t.name}-${p.partitionIndex}`);
          out.set(tpKey({ topic: t.name, partition: p.partitionIndex }), p.offset);
        }
      }
    }
    return out;
  });
}

/** Kafka's checkOffsetsRange: above the end -> the end, below the start -> the start, with its warning. */
async function clamp(
  admin: AdminClient,
  scope: readonly Tp[],
  wanted: ReadonlyMap<string, bigint>,
  warn: (text: string) => void,
): Promise<Map<string, bigint>> {
  const starts = await listOffsetsAt(admin, scope, -2n);
  const ends = await listOffsetsAt(admin, scope, -1n);
  const out = new Map<string, bigint>();
  for (const tp of scope) {
    const k = tpKey(tp);
    const offset = wanted.get(k)!;
    const end = ends.get(k)!;
    const start = starts.get(k)!;
    if (offset > end) {
      warn(
        `New offset (${offset}) is higher than latest offset for topic partition ${tp.topic}-${tp.partition}. Value will be set to ${end}.\n`,
      );
      out.set(k, end);
    } else if (offset < start) {
      warn(
        `New offset (${offset}) is lower than earliest offset for topic partition ${tp.topic}-${tp.partition}. Value will be set to ${start}.\n`,
      );
      out.set(k, start);
    } else out.set(k, offset);
  }
  return out;
}

async function commitOffsets(
  admin: AdminClient,
  coordinator: { host: string; port: number },
  groupId: string,
  partitions: readonly Tp[],
  target: ReadonlyMap<string, bigint>,
): Promise<void> {
  const md = await admin.metadata([...new Set(partitions.map((p) => p.topic))]);
  const ids = new Map(md.topics.map((t) => [t.name, t.topicId]));
  const byTopic = new Map<string, Tp[]>();
  for (const tp of partitions) {
    const list = bucket(byTopic, tp.topic);
    list.push(tp);
  }
  const res = await admin.to(OFFSET_COMMIT_API, coordinator, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [...byTopic].map(([name, tps]) => ({
      name,
      topicId: ids.get(name) ?? "",
      partitions: tps.map((tp) => ({
        partitionIndex: tp.partition,
        committedOffset: target.get(tpKey(tp))!,
        committedLeaderEpoch: -1,
        committedMetadata: "",
      })),
    })),
  });
  for (const t of res.topics)
    for (const p of t.partitions) check(p.errorCode, null, `OffsetCommit ${t.name}-${p.partitionIndex}`);
}

/**
 * `krill consume TOPIC...`: records to stdout (record-format.ts), as kafka-console-consumer,
 * kcat -C and rpk consume do.
 *
 * Without `--group` the command reads the partitions itself (all, or `--partition`), each from
 * `--offset` (beginning, end (default, as the console consumer), N, -N from the end, @TIME: the
 * first record at or after a time, by ListOffsets) and commits nothing.
 *
 * With `--group G` it is a member of consumer group G by the KIP-848 consumer protocol
 * (ConsumerGroupHeartbeat): the coordinator assigns the partitions (the member sends its
 * subscription and acknowledges each assignment in its next heartbeat, after committing the
 * offsets of partitions taken away), each partition starts at the group's committed offset, or
 * at the beginning with `--from-beginning` / the end otherwise (auto.offset.reset), positions are
 * committed every 5 s (auto.commit.interval.ms) and at exit, and the member leaves the group at
 * exit (epoch -1), so `krill group describe` shows it while it runs and the committed offsets
 * after. A fenced member (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID) drops its partitions without
 * committing and joins again, as Kafka's consumer does.
 *
 * Fetch: one Fetch per leader at a time (full requests, no fetch session), 500 ms max wait.
 * Records before the requested offset in a batch, control batches and, with
 * `--isolation-level read_committed`, the records of aborted transactions are skipped (the
 * answer's aborted-transactions list, as Kafka's consumer). OFFSET_OUT_OF_RANGE resets the
 * position to the nearest end of the log; a leader change refreshes the metadata.
 *
 * Stops at: `--count N` records (kcat -c, the console consumer's --max-messages); `--exit-at-end`
 * (kcat -e): every partition read up to its end (high watermark, or last stable offset with
 * read_committed) as of the last answer; `--timeout-ms T`: no record for T ms; SIGINT or
 * SIGTERM. Then "Processed a total of N messages" on stderr, as the console consumer. Exit 0;
 * 1 when the cluster answered with an error or could not be reached.
 */
import crypto from "node:crypto";
import { SYSTEM_CLOCK } from "../clock.js";
import { isKrillError } from "../errors.js";
import {
  CONSUMER_GROUP_HEARTBEAT_API,
  FETCH_API,
  LIST_OFFSETS_API,
  OFFSET_COMMIT_API,
  OFFSET_FETCH_API,
} from "../protocol/generated/apis.js";
import type { ConsumerGroupHeartbeatResponse } from "../protocol/generated/consumer-group-heartbeat-response.js";
import { ErrorCode, isRetriableErrorCode } from "../protocol/generated/error-codes.js";
import type { FetchResponsePartitionData } from "../protocol/generated/fetch-response.js";
import { ZERO_UUID } from "../protocol/primitives/uuid.js";
import { CURRENT_MAGIC } from "../protocol/records/batch-header.js";
import { probeBatch } from "../protocol/records/batch-iterator.js";
import { decodeRecordBatch } from "../protocol/records/record-batch.js";
import type { NodeEndpoint } from "../server/network/node-client.js";
import { bucket, intOption, names, type OptionSpec, optionValue, UsageError } from "./args.js";
import { type AdminClient, check, KafkaResponseError } from "./client.js";
import { parseStartSpec, type RecordFormatter, recordFormatter, type StartSpec } from "./record-format.js";
import type { CommandContext } from "./topics.js";

export const CONSUME_OPTIONS: readonly OptionSpec[] = [
  { name: "--topic", value: true, aliases: ["-t"] },
  { name: "--partition", value: true, aliases: ["-p"] },
  { name: "--offset", value: true, aliases: ["-o"] },
  { name: "--from-beginning" },
  { name: "--group", value: true, aliases: ["-g", "-G"] },
  { name: "--count", value: true, aliases: ["-c", "--max-messages", "-n", "--num"] },
  { name: "--exit-at-end", aliases: ["-e"] },
  { name: "--timeout-ms", value: true },
  { name: "--format", value: true, aliases: ["-f"] },
  { name: "--isolation-level", value: true },
];

export const CONSUME_USAGE = `Usage: krill consume TOPIC... [options] [--bootstrap-server HOST:PORT]

Prints records, one a line (kafka-console-consumer, kcat -C, rpk consume).

  --offset POS          where each partition starts without a group: beginning, end (default),
                        N, -N (N before the end), @TIME (first record at or after TIME: ms since
                        the epoch or an ISO-8601 date, UTC unless it names a zone)
  --from-beginning      --offset beginning; with --group: where a partition without a committed
                        offset starts (else at the end)
  --partition N[,N]     only these partitions (without --group)
  --group G             consume as a member of consumer group G (KIP-848 protocol), committing
                        offsets every 5 s and at exit
  --count N             stop after N records (kcat -c, --max-messages)
  --exit-at-end         stop once every partition is read to its end (kcat -e)
  --timeout-ms T        stop when no record came for T ms
  --format F            text (default: the value, null for none), json (one object a line:
                        topic, key, value, headers, timestamp, partition, offset), or kcat's -f
                        tokens: %t %p %o %k %s (%v) %K %S %T %h %% and \\n \\t escapes
  --isolation-level L   read_uncommitted (default) or read_committed
  --command-config FILE TLS/SASL client properties, as Kafka's tools take them

Exit status: 0 done (count reached, end reached, timeout, SIGINT); 1 the cluster answered with an
error or could not be reached; 2 usage. "Processed a total of N messages" goes to stderr.`;

const FETCH_MAX_WAIT_MS = 500;
const FETCH_MAX_BYTES = 50 * 1024 * 1024;
const PARTITION_MAX_BYTES = 1024 * 1024;
const DECOMPRESSED_BYTES_MAX = 256 * 1024 * 1024;
const COMMIT_INTERVAL_MS = 5_000;
const REBALANCE_TIMEOUT_MS = 60_000;
const LIST_EARLIEST = -2n;
const LIST_LATEST = -1n;

interface Assigned {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  position: bigint;
  /** The end as of the last answer (high watermark or LSO); undefined before the first. */
  end: bigint | undefined;
  /** Position as last committed (group mode). */
  committed: bigint | undefined;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: Map<number, number>;
}

export async function runConsume(ctx: CommandContext): Promise<number> {
  const { parsed, io } = ctx;
  const topics = [...parsed.positional, ...(parsed.values.get("--topic") ?? [])];
  if (topics.length === 0) throw new UsageError("consume needs a topic");
  const group = optionValue(parsed, "--group");
  const offsetText = optionValue(parsed, "--offset");
  const partitionsWanted = names(parsed, ["--partition"]).map((p) => {
    if (!/^\d+$/.test(p)) throw new UsageError(`--partition must be a partition number, got "${p}"`);
    return Number(p);
  });
  if (group !== undefined && (offsetText !== undefined || partitionsWanted.length > 0)) {
    throw new UsageError(
      "--offset and --partition are for consuming without --group (a group's members start at its committed offsets)",
    );
  }
  const start: StartSpec = parsed.flags.has("--from-beginning")
    ? { kind: "earliest" }
    : offsetText !== undefined
      ? parseStartSpec(offsetText)
      : { kind: "latest" };
  const isolation = optionValue(parsed, "--isolation-level") ?? "read_uncommitted";
  if (isolation !== "read_uncommitted" && isolation !== "read_committed") {
    throw new UsageError(`--isolation-level must be read_uncommitted or read_committed, got "${isolation}"`);
  }
  const consumer: Consumer = {
    ctx,
    format: recordFormatter(optionValue(parsed, "--format")),
    countMax: intOption(parsed, "--count", 1, Number.MAX_SAFE_INTEGER),
    exitAtEnd: parsed.flags.has("--exit-at-end"),
    timeoutMs: intOption(parsed, "--timeout-ms", 1, 2_147_483_647),
    readCommitted: isolation === "read_committed",
    assigned: new Map(),
    delivered: 0,
    lastRecordAt: SYSTEM_CLOCK.nowMs(),
    topics: new Map(),
  };
  try {
    if (group === undefined) await consumeAssigned(consumer, topics, partitionsWanted, start);
    else await consumeInGroup(consumer, topics, group, start.kind === "earliest" ? "earliest" : "latest");
  } finally {
    io.err(`Processed a total of ${consumer.delivered} messages\n`);
  }
  return 0;
}

interface Consumer {
  readonly ctx: CommandContext;
  readonly format: RecordFormatter;
  readonly countMax: number | undefined;
  readonly exitAtEnd: boolean;
  readonly timeoutMs: number | undefined;
  readonly readCommitted: boolean;
  assigned: Map<string, Assigned>;
  delivered: number;
  lastRecordAt: number;
  /** Topic name -> id and partition leaders. */
  topics: Map<string, TopicInfo>;
}

async function refreshTopics(c: Consumer, names: readonly string[]): Promise<void> {
  const admin = c.ctx.admin;
  const res = await admin.retrying(
    async () => {
      const r = await admin.metadata(names);
      for (const t of r.topics) check(t.errorCode, null, `topic ${t.name ?? t.topicId}`);
      return r;
    },
    undefined,
    (err) => err instanceof KafkaResponseError && err.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
  for (const t of res.topics) {
    if (t.name === null) continue;
    c.topics.set(t.name, {
      name: t.name,
      topicId: t.topicId,
      partitions: new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId])),
    });
  }
}

function stopping(c: Consumer): boolean {
  if (c.ctx.signal?.aborted === true) return true;
  if (c.countMax !== undefined && c.delivered >= c.countMax) return true;
  if (c.timeoutMs !== undefined && SYSTEM_CLOCK.nowMs() - c.lastRecordAt >= c.timeoutMs) return true;
  if (c.exitAtEnd && c.assigned.size > 0) {
    for (const a of c.assigned.values()) if (a.end === undefined || a.position < a.end) return false;
    return true;
  }
  return false;
}

async function consumeAssigned(
  c: Consumer,
  topics: readonly string[],
  partitionsWanted: readonly number[],
  start: StartSpec,
): Promise<void> {
  await refreshTopics(c, topics);
  const list: Assigned[] = [];
  for (const name of topics) {
    const t = c.topics.get(name)!;
    const ps =
      partitionsWanted.length > 0 ? partitionsWanted : [...t.partitions.keys()].sort((a, b) => a - b);
    for (const p of ps) {
      if (!t.partitions.has(p)) {
        throw new KafkaResponseError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `topic ${name} has ${t.partitions.size} partitions`,
          `partition ${p}`,
        );
      }
      list.push({
        topic: name,
        topicId: t.topicId,
        partition: p,
        position: -1n,
        end: undefined,
        committed: undefined,
      });
    }
  }
  await seek(c, list, start);
  for (const a of list) c.assigned.set(key(a.topic, a.partition), a);
  while (!stopping(c)) await fetchRound(c);
}

/** Sets each partition's position from `start` (ListOffsets at the leaders). */
async function seek(c: Consumer, list: readonly Assigned[], start: StartSpec): Promise<void> {
  if (list.length === 0) return;
  if (start.kind === "offset") {
    for (const a of list) a.position = start.offset;
    return;
  }
  const timestamp =
    start.kind === "earliest" ? LIST_EARLIEST : start.kind === "timestamp" ? start.timestampMs : LIST_LATEST;
  const found = await listOffsets(c, list, timestamp);
  const ends =
    start.kind === "timestamp" || start.kind === "fromEnd"
      ? await listOffsets(c, list, LIST_LATEST)
      : undefined;
  const starts = start.kind === "fromEnd" ? await listOffsets(c, list, LIST_EARLIEST) : undefined;
  for (const a of list) {
    const k = key(a.topic, a.partition);
    const offset = found.get(k) ?? 0n;
    if (start.kind === "timestamp") {
      // No record at or after the time: the end, as Kafka's offsetsForTimes + seekToEnd.
      a.position = offset < 0n ? ends!.get(k)! : offset;
    } else if (start.kind === "fromEnd") {
      const from = ends!.get(k)! - start.count;
      const logStart = starts!.get(k)!;
      a.position = from < logStart ? logStart : from;
    } else a.position = offset;
  }
}

/** ListOffsets for `timestamp` at each leader: topic/partition key -> offset (-1: none). */
async function listOffsets(
  c: Consumer,
  list: readonly Assigned[],
  timestamp: bigint,
): Promise<Map<string, bigint>> {
  const admin = c.ctx.admin;
  return admin.retrying(async () => {
    const byLeader = groupByLeader(c, list);
    const out = new Map<string, bigint>();
    for (const [leader, items] of byLeader) {
      if (leader < 0) throw new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, null, "ListOffsets");
      const endpoint = await admin.broker(leader);
      const topicsByName = new Map<string, number[]>();
      for (const a of items) {
        const ps = bucket(topicsByName, a.topic);
        ps.push(a.partition);
      }
      const res = await admin.to(LIST_OFFSETS_API, endpoint, {
        replicaId: -1,
        isolationLevel: c.readCommitted ? 1 : 0,
        topics: [...topicsByName].map(([name, ps]) => ({
          name,
          partitions: ps.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp })),
        })),
        timeoutMs: admin.requestTimeoutMs,
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) {
            if (isRetriableErrorCode(p.errorCode)) await refreshTopics(c, [...c.topics.keys()]);
            check(p.errorCode, null, `ListOffsets ${t.name}-${p.partitionIndex}`);
          }
          out.set(key(t.name, p.partitionIndex), p.offset);
        }
      }
    }
    return out;
  });
}

function groupByLeader(c: Consumer, list: Iterable<Assigned>): Map<number, Assigned[]> {
  const out = new Map<number, Assigned[]>();
  for (const a of list) {
    const leader = c.topics.get(a.topic)?.partitions.get(a.partition) ?? -1;
    const items = bucket(out, leader);
    items.push(a);
  }
  return out;
}

/** One Fetch at every leader of the assigned partitions; prints what came. */
async function fetchRound(c: Consumer): Promise<void> {
  const admin = c.ctx.admin;
  if (c.assigned.size === 0) {
    await sleep(Math.min(FETCH_MAX_WAIT_MS, c.timeoutMs ?? FETCH_MAX_WAIT_MS), c.ctx.signal);
    return;
  }
  let refresh = false;
  const resets: Assigned[] = [];
  const byLeader = groupByLeader(c, c.assigned.values());
  // Leaders in turn (records print in one order); each request waits at most FETCH_MAX_WAIT_MS.
  for (const [leader, items] of byLeader) {
    if (stopping(c)) return;
    if (leader < 0) {
      refresh = true;
      continue;
    }
    let endpoint: NodeEndpoint;
    try {
      endpoint = await admin.broker(leader);
    } catch {
      refresh = true;
      continue;
    }
    const byTopic = new Map<string, Assigned[]>();
    for (const a of items) {
      const ps = bucket(byTopic, a.topic);
      ps.push(a);
    }
    let res: Awaited<ReturnType<typeof fetchAt>>;
    try {
      res = await fetchAt(c, endpoint, byTopic);
    } catch (err) {
      if (isKrillError(err, "NETWORK_EXCEPTION") || isKrillError(err, "REQUEST_TIMED_OUT")) {
        refresh = true;
        continue;
      }
      throw err;
    }
    check(res.errorCode, null, "Fetch");
    for (const t of res.responses) {
      const name =
        t.topic !== "" ? t.topic : [...c.topics.values()].find((x) => x.topicId === t.topicId)?.name;
      if (name === undefined) continue;
      for (const p of t.partitions) {
        const a = c.assigned.get(key(name, p.partitionIndex));
        if (a === undefined) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          resets.push(a);
          continue;
        }
        if (p.errorCode !== 0) {
          if (isRetriableErrorCode(p.errorCode) || p.errorCode === ErrorCode.UNKNOWN_TOPIC_ID) {
            refresh = true;
            continue;
          }
          check(p.errorCode, null, `Fetch ${name}-${p.partitionIndex}`);
        }
        deliver(c, a, p);
        if (stopping(c)) return;
      }
    }
  }
  if (resets.length > 0) await resetOutOfRange(c, resets);
  if (refresh) {
    await sleep(200, c.ctx.signal);
    await refreshTopics(c, [...c.topics.keys()]);
  }
}

function fetchAt(c: Consumer, endpoint: NodeEndpoint, byTopic: ReadonlyMap<string, Assigned[]>) {
  const admin = c.ctx.admin;
  return admin.to(FETCH_API, endpoint, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: FETCH_MAX_WAIT_MS,
    minBytes: 1,
    maxBytes: FETCH_MAX_BYTES,
    isolationLevel: c.readCommitted ? 1 : 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [...byTopic].map(([topic, items]) => ({
      topic,
      topicId: items[0]!.topicId,
      partitions: items.map((a) => ({
        partition: a.partition,
        currentLeaderEpoch: -1,
        fetchOffset: a.position,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: PARTITION_MAX_BYTES,
        replicaDirectoryId: ZERO_UUID,
        highWatermark: -1n,
      })),
    })),
    forgottenTopicsData: [],
    rackId: "",
  });
}

/** OFFSET_OUT_OF_RANGE: to the log's start when before it, else to its end. */
async function resetOutOfRange(c: Consumer, list: readonly Assigned[]): Promise<void> {
  const starts = await listOffsets(c, list, LIST_EARLIEST);
  const ends = await listOffsets(c, list, LIST_LATEST);
  for (const a of list) {
    const k = key(a.topic, a.partition);
    const s = starts.get(k) ?? 0n;
    const e = ends.get(k) ?? 0n;
    a.position = a.position < s ? s : e;
    c.ctx.io.err(
      `krill consume: offset out of range on ${a.topic}-${a.partition}: continuing at ${a.position}\n`,
    );
  }
}

/** Prints a partition's records from position on, and moves the position past what it read. */
function deliver(c: Consumer, a: Assigned, p: FetchResponsePartitionData): void {
  a.end = c.readCommitted && p.lastStableOffset >= 0n ? p.lastStableOffset : p.highWatermark;
  const buf = p.records;
  if (buf === null || buf.length === 0) return;
  // Aborted transactions (read_committed): producer id -> first offsets, in order.
  const aborted = new Map<bigint, bigint[]>();
  for (const t of p.abortedTransactions ?? []) {
    const list = bucket(aborted, t.producerId);
    list.push(t.firstOffset);
  }
  for (const l of aborted.values()) l.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const inAborted = new Set<bigint>();
  let pos = 0;
  while (pos < buf.length) {
    const probe = probeBatch(buf, pos);
    // A partial batch at the end of an answer is normal (the size limit cut it): fetched again next time.
    if (probe.kind === "incomplete") break;
    if (probe.kind === "corrupt")
      throw new KafkaResponseError(
        ErrorCode.CORRUPT_MESSAGE,
        probe.reason,
        `Fetch ${a.topic}-${a.partition}`,
      );
    if (probe.magic !== CURRENT_MAGIC) {
      throw new KafkaResponseError(
        ErrorCode.CORRUPT_MESSAGE,
        `message format v${probe.magic}`,
        `Fetch ${a.topic}-${a.partition}`,
      );
    }
    const batch = decodeRecordBatch(buf, { position: pos, decompressedBytesMax: DECOMPRESSED_BYTES_MAX });
    pos += probe.sizeBytes;
    const h = batch.header;
    const next = h.baseOffset + BigInt(h.lastOffsetDelta) + 1n;
    if (next <= a.position) continue;
    if (c.readCommitted && batch.isTransactional) {
      const firsts = aborted.get(h.producerId);
      while (firsts !== undefined && firsts.length > 0 && firsts[0]! <= h.baseOffset) {
        firsts.shift();
        inAborted.add(h.producerId);
      }
    }
    if (batch.isControl) {
      // An abort or commit marker ends the producer's transaction.
      inAborted.delete(h.producerId);
      a.position = next;
      continue;
    }
    if (c.readCommitted && batch.isTransactional && inAborted.has(h.producerId)) {
      a.position = next;
      continue;
    }
    for (const r of batch.records) {
      if (r.offset < a.position) continue;
      c.ctx.io.out(
        c.format({
          topic: a.topic,
          partition: a.partition,
          offset: r.offset,
          timestamp: r.timestamp,
          key: r.key,
          value: r.value,
          headers: r.headers,
        }),
      );
      a.position = r.offset + 1n;
      c.delivered++;
      c.lastRecordAt = SYSTEM_CLOCK.nowMs();
      if (c.countMax !== undefined && c.delivered >= c.countMax) return;
    }
    a.position = next;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

// ---- group membership (KIP-848) --------------------------------------------------------------

interface Membership {
  readonly groupId: string;
  readonly memberId: string;
  epoch: number;
  coordinator: NodeEndpoint | null;
  heartbeatIntervalMs: number;
  nextHeartbeatAt: number;
  nextCommitAt: number;
  /** What the member owns, as the coordinator assigned it: topic id -> partitions. */
  owned: Map<string, number[]>;
}

async function consumeInGroup(
  c: Consumer,
  topics: readonly string[],
  groupId: string,
  reset: "earliest" | "latest",
): Promise<void> {
  await refreshTopics(c, topics);
  const m: Membership = {
    groupId,
    // v1 of the protocol: the member names itself (KIP-1082), as a Uuid string.
    memberId: crypto.randomBytes(16).toString("base64url"),
    epoch: 0,
    coordinator: null,
    heartbeatIntervalMs: 5_000,
    nextHeartbeatAt: 0,
    nextCommitAt: SYSTEM_CLOCK.nowMs() + COMMIT_INTERVAL_MS,
    owned: new Map(),
  };
  try {
    while (!stopping(c)) {
      const now = SYSTEM_CLOCK.nowMs();
      if (now >= m.nextHeartbeatAt) await heartbeat(c, m, topics, reset);
      if (stopping(c)) break;
      if (now >= m.nextCommitAt) {
        await commit(c, m);
        m.nextCommitAt = SYSTEM_CLOCK.nowMs() + COMMIT_INTERVAL_MS;
      }
      await fetchRound(c);
    }
  } finally {
    // Commit what was printed and leave, so the partitions move on at once (best effort when the
    // loop ended on an error: that error is the one reported).
    try {
      if (m.epoch > 0) {
        await commit(c, m);
        await sendHeartbeat(c, m, { memberEpoch: -1, subscribedTopicNames: null, topicPartitions: null });
      }
    } catch (err) {
      c.ctx.io.err(
        `krill consume: leaving group ${groupId}: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
  }
}

async function coordinatorOf(c: Consumer, m: Membership): Promise<NodeEndpoint> {
  if (m.coordinator === null) {
    const found = await c.ctx.admin.retrying(() => c.ctx.admin.coordinatorNode(m.groupId));
    m.coordinator = { host: found.host, port: found.port };
  }
  return m.coordinator;
}

async function sendHeartbeat(
  c: Consumer,
  m: Membership,
  fields: {
    memberEpoch: number;
    subscribedTopicNames: string[] | null;
    topicPartitions: { topicId: string; partitions: number[] }[] | null;
  },
): Promise<ConsumerGroupHeartbeatResponse> {
  const endpoint = await coordinatorOf(c, m);
  return c.ctx.admin.to(CONSUMER_GROUP_HEARTBEAT_API, endpoint, {
    groupId: m.groupId,
    memberId: m.memberId,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: fields.memberEpoch === 0 ? REBALANCE_TIMEOUT_MS : -1,
    subscribedTopicRegex: null,
    serverAssignor: null,
    ...fields,
  });
}

async function heartbeat(
  c: Consumer,
  m: Membership,
  topics: readonly string[],
  reset: "earliest" | "latest",
): Promise<void> {
  const joining = m.epoch === 0;
  let res: ConsumerGroupHeartbeatResponse;
  try {
    res = await sendHeartbeat(c, m, {
      memberEpoch: m.epoch,
      // A full heartbeat (join): the subscription and what is owned (nothing); later ones send
      // what is owned, which acknowledges the last assignment.
      subscribedTopicNames: joining ? [...topics] : null,
      topicPartitions: [...m.owned].map(([topicId, partitions]) => ({
        topicId,
        partitions: [...partitions],
      })),
    });
  } catch (err) {
    if (isKrillError(err, "NETWORK_EXCEPTION") || isKrillError(err, "REQUEST_TIMED_OUT")) {
      m.coordinator = null;
      m.nextHeartbeatAt = SYSTEM_CLOCK.nowMs() + 500;
      return;
    }
    throw err;
  }
  const code = res.errorCode;
  if (
    code === ErrorCode.NOT_COORDINATOR ||
    code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
    code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
  ) {
    m.coordinator = null;
    m.nextHeartbeatAt = SYSTEM_CLOCK.nowMs() + 500;
    return;
  }
  if (code === ErrorCode.FENCED_MEMBER_EPOCH || code === ErrorCode.UNKNOWN_MEMBER_ID) {
    // Fenced: the partitions are someone else's now; drop them uncommitted and join again.
    c.ctx.io.err(
      `krill consume: fenced from group ${m.groupId} (${new KafkaResponseError(code, res.errorMessage, "heartbeat").message}): joining again\n`,
    );
    m.epoch = 0;
    m.owned = new Map();
    c.assigned = new Map();
    m.nextHeartbeatAt = 0;
    return;
  }
  check(code, res.errorMessage, `ConsumerGroupHeartbeat ${m.groupId}`);
  m.epoch = res.memberEpoch;
  m.heartbeatIntervalMs = res.heartbeatIntervalMs > 0 ? res.heartbeatIntervalMs : 5_000;
  m.nextHeartbeatAt = SYSTEM_CLOCK.nowMs() + m.heartbeatIntervalMs;
  if (res.assignment !== null) {
    await assign(c, m, res.assignment.topicPartitions, reset);
    // Acknowledge the new assignment at once rather than a heartbeat interval later.
    m.nextHeartbeatAt = 0;
  }
}

/** Takes a new assignment: commits and drops revoked partitions, starts the new ones at their committed offsets. */
async function assign(
  c: Consumer,
  m: Membership,
  target: readonly { topicId: string; partitions: number[] }[],
  reset: "earliest" | "latest",
): Promise<void> {
  const byId = new Map([...c.topics.values()].map((t) => [t.topicId, t]));
  if (target.some((t) => !byId.has(t.topicId))) {
    await refreshTopics(c, [...c.topics.keys()]);
  }
  const ids = new Map([...c.topics.values()].map((t) => [t.topicId, t]));
  const wanted = new Map<string, Assigned>();
  for (const t of target) {
    const info = ids.get(t.topicId);
    if (info === undefined) continue;
    for (const p of t.partitions) {
      const k = key(info.name, p);
      wanted.set(
        k,
        c.assigned.get(k) ?? {
          topic: info.name,
          topicId: info.topicId,
          partition: p,
          position: -1n,
          end: undefined,
          committed: undefined,
        },
      );
    }
  }
  const revoked = [...c.assigned.entries()].filter(([k]) => !wanted.has(k)).map(([, a]) => a);
  if (revoked.length > 0) await commit(c, m, revoked);
  const added = [...wanted.entries()].filter(([k]) => !c.assigned.has(k)).map(([, a]) => a);
  if (added.length > 0) {
    const committed = await committedOffsets(c, m, added);
    const none: Assigned[] = [];
    for (const a of added) {
      const offset = committed.get(key(a.topic, a.partition));
      if (offset !== undefined && offset >= 0n) {
        a.position = offset;
        a.committed = offset;
      } else none.push(a);
    }
    await seek(c, none, { kind: reset });
  }
  c.assigned = wanted;
  m.owned = new Map(target.map((t) => [t.topicId, [...t.partitions]]));
}

async function committedOffsets(
  c: Consumer,
  m: Membership,
  list: readonly Assigned[],
): Promise<Map<string, bigint>> {
  const admin = c.ctx.admin;
  const endpoint = await coordinatorOf(c, m);
  const byTopic = new Map<string, Assigned[]>();
  for (const a of list) {
    const ps = bucket(byTopic, a.topic);
    ps.push(a);
  }
  const res = await admin.retrying(async () => {
    const r = await admin.to(OFFSET_FETCH_API, endpoint, (version) => {
      const topics = [...byTopic].map(([name, items]) => ({
        name,
        topicId: items[0]!.topicId,
        partitionIndexes: items.map((a) => a.partition),
      }));
      return {
        groupId: version < 8 ? m.groupId : "",
        topics: version < 8 ? topics : [],
        groups: version >= 8 ? [{ groupId: m.groupId, memberId: null, memberEpoch: -1, topics }] : [],
        // Offsets of transactions still open are not the group's yet (Kafka's consumer asks the same).
        requireStable: true,
      };
    });
    const g = r.groups[0];
    check(g !== undefined ? g.errorCode : r.errorCode, null, `OffsetFetch ${m.groupId}`);
    return r;
  });
  const out = new Map<string, bigint>();
  const topics = res.groups[0]?.topics ?? res.topics.map((t) => ({ ...t, topicId: "" }));
  const byId = new Map([...c.topics.values()].map((t) => [t.topicId, t.name]));
  for (const t of topics) {
    const name = t.name !== "" ? t.name : byId.get(t.topicId);
    if (name === undefined) continue;
    for (const p of t.partitions) {
      if (p.errorCode === 0) out.set(key(name, p.partitionIndex), p.committedOffset);
    }
  }
  return out;
}

/** Commits the position of `list` (default: every assigned partition whose position moved). */
async function commit(c: Consumer, m: Membership, list?: readonly Assigned[]): Promise<void> {
  const items = (list ?? [...c.assigned.values()]).filter(
    (a) => a.position >= 0n && a.position !== a.committed,
  );
  if (items.length === 0 || m.epoch <= 0) return;
  const endpoint = await coordinatorOf(c, m);
  const byTopic = new Map<string, Assigned[]>();
  for (const a of items) {
    const ps = bucket(byTopic, a.topic);
    ps.push(a);
  }
  const res = await c.ctx.admin.to(OFFSET_COMMIT_API, endpoint, {
    groupId: m.groupId,
    generationIdOrMemberEpoch: m.epoch,
    memberId: m.memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [...byTopic].map(([name, ps]) => ({
      name,
      topicId: ps[0]!.topicId,
      partitions: ps.map((a) => ({
        partitionIndex: a.partition,
        committedOffset: a.position,
        committedLeaderEpoch: -1,
        committedMetadata: "",
      })),
    })),
  });
  for (const t of res.topics) {
    for (const p of t.partitions) {
      const name = t.name !== "" ? t.name : [...c.topics.values()].find((x) => x.topicId === t.topicId)?.name;
      const a = name === undefined ? undefined : c.assigned.get(key(name, p.partitionIndex));
      if (p.errorCode === 0) {
        if (a !== undefined) a.committed = a.position;
        continue;
      }
      // A commit refused because the member moved on (fenced, stale epoch) is not fatal: the next
      // heartbeat says what to do. Anything else is.
      if (
        p.errorCode === ErrorCode.STALE_MEMBER_EPOCH ||
        p.errorCode === ErrorCode.FENCED_MEMBER_EPOCH ||
        p.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
        isRetriableErrorCode(p.errorCode)
      ) {
        c.ctx.io.err(
          `krill consume: commit for ${name}-${p.partitionIndex} not accepted: ${new KafkaResponseError(p.errorCode, null, "OffsetCommit").message}\n`,
        );
        continue;
      }
      check(p.errorCode, null, `OffsetCommit ${name}-${p.partitionIndex}`);
    }
  }
}

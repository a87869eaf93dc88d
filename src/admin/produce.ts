/**
 * `krill produce TOPIC`: records from stdin, one a line (record-format.ts), as
 * kafka-console-producer, kcat -P and rpk produce do.
 *
 * - Partition: `--partition N` for every record, else a JSON line's `partition`, else Kafka's
 *   default partitioner: murmur2 of the key for a keyed record, and for records without a key one
 *   partition per batch, the next one for the next batch (the sticky partitioner's effect).
 * - Batches: lines are gathered until 1,000 records or 512 KiB, or until stdin has nothing more
 *   for 10 ms (a line typed at a terminal is sent at once), then one Produce request per leader,
 *   one at a time, so records keep their input order within a partition.
 * - acks: `--acks all` (-1, the default, as the console producer) or 1; acks=0 is refused (the
 *   broker does not answer it, so nothing could be reported). Compression: `--compression`.
 * - Errors: a retriable answer (a leader moving, not available yet) refreshes the metadata and
 *   sends the batch again until `--timeout` (Kafka's delivery.timeout.ms; the producer is not
 *   idempotent, so a batch whose answer was lost may be written twice, as with acks and retries
 *   in kcat's default configuration); any other error is reported on stderr with the number of
 *   records lost, the rest go on, and the command exits 1. A line that does not parse is reported
 *   with its line number and skipped (exit 1 at the end).
 *
 * The topic is created when the broker creates topics on first use (auto.create.topics.enable),
 * as a producer's Metadata request asks; otherwise UNKNOWN_TOPIC_OR_PARTITION, exit 1.
 */
import readline from "node:readline";
import { SYSTEM_CLOCK } from "../clock.js";
import { KrillError } from "../errors.js";
import { COMPRESSION_NAMES, type CompressionName } from "../protocol/compression/index.js";
import { PRODUCE_API } from "../protocol/generated/apis.js";
import { ErrorCode, isRetriableErrorCode } from "../protocol/generated/error-codes.js";
import type { MetadataResponseTopic } from "../protocol/generated/metadata-response.js";
import type { ProduceResponse } from "../protocol/generated/produce-response.js";
import { buildRecordBatch } from "../protocol/records/record-batch.js";
import { bucket, intOption, type OptionSpec, optionValue, UsageError } from "./args.js";
import { KafkaResponseError } from "./client.js";
import { type InRecord, lineParser, parseHeaderOptions, partitionForKey } from "./record-format.js";
import type { CommandContext } from "./topics.js";

export const PRODUCE_OPTIONS: readonly OptionSpec[] = [
  { name: "--topic", value: true, aliases: ["-t"] },
  { name: "--partition", value: true, aliases: ["-p"] },
  { name: "--key-separator", value: true, aliases: ["-K"] },
  { name: "--header", value: true, aliases: ["-H"] },
  { name: "--format", value: true, aliases: ["-f"] },
  { name: "--compression", value: true, aliases: ["-z", "--compression-codec"] },
  { name: "--acks", value: true, aliases: ["--request-required-acks"] },
];

export const PRODUCE_USAGE = `Usage: krill produce TOPIC [options] [--bootstrap-server HOST:PORT] < records

Reads records from stdin, one a line, and writes them to TOPIC (kafka-console-producer, kcat -P,
rpk produce).

  --key-separator SEP   each line is KEY SEP VALUE (kcat -K; the console producer's parse.key)
  --header KEY=VALUE    a header on every record; repeatable (kcat -H)
  --format text|json    text (default): a line is a value; json: a line is an object
                        {"key":..,"value":..,"headers":[{"key":..,"value":..}],"partition":..,"timestamp":..}
                        as krill consume --format json prints it
  --partition N         every record to partition N (default: murmur2 of the key, as Kafka's
                        producer; records without a key fill one partition per batch)
  --compression C       none (default), gzip, snappy, lz4, zstd
  --acks all|-1|1       default all
  --command-config FILE TLS/SASL client properties, as Kafka's tools take them
  --timeout MS          how long a batch may be retried (default 30000)

Exit status: 0 every record written; 1 a record was not written or a line did not parse (each
reported on stderr); 2 usage.`;

/** Records per batch, and bytes of keys, values and headers per batch. */
const BATCH_RECORDS_MAX = 1_000;
const BATCH_BYTES_MAX = 512 * 1024;
/** How long stdin may be quiet before what was read is sent. */
const LINGER_MS = 10;

interface Pending {
  readonly record: InRecord;
  readonly lineNumber: number;
}

export async function runProduce(ctx: CommandContext): Promise<number> {
  const { admin, io, parsed } = ctx;
  const topics = [...parsed.positional, ...(parsed.values.get("--topic") ?? [])];
  if (topics.length !== 1) throw new UsageError("produce needs one topic");
  const topic = topics[0]!;
  const fixedPartition = intOption(parsed, "--partition", 0, 1_000_000);
  const compression = (optionValue(parsed, "--compression") ?? "none").toLowerCase();
  if (!COMPRESSION_NAMES.includes(compression as CompressionName)) {
    throw new UsageError(
      `--compression must be one of ${COMPRESSION_NAMES.join(", ")}, got "${compression}"`,
    );
  }
  const acksText = (optionValue(parsed, "--acks") ?? "all").toLowerCase();
  const acks = acksText === "all" || acksText === "-1" ? -1 : acksText === "1" ? 1 : undefined;
  if (acks === undefined) {
    throw new UsageError(
      `--acks must be all, -1 or 1, got "${acksText}" (acks=0 is not offered: the broker sends no answer, so no failure could be reported)`,
    );
  }
  const parse = lineParser(
    optionValue(parsed, "--format"),
    optionValue(parsed, "--key-separator"),
    parseHeaderOptions(parsed.values.get("--header") ?? []),
  );
  if (io.input === undefined) throw new UsageError("produce reads records from stdin, and there is none");

  let meta = await topicMetadata(ctx, topic);
  if (fixedPartition !== undefined && fixedPartition >= meta.partitions.length) {
    throw new KafkaResponseError(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      `topic ${topic} has ${meta.partitions.length} partitions`,
      `partition ${fixedPartition}`,
    );
  }
  let failed = 0;
  let stickyPartition = -1;
  const send = async (batch: readonly Pending[]): Promise<void> => {
    // Records by partition, in input order.
    const byPartition = new Map<number, Pending[]>();
    const count = meta.partitions.length;
    stickyPartition = (stickyPartition + 1) % count;
    for (const p of batch) {
      let partition = fixedPartition ?? p.record.partition;
      if (partition === undefined) {
        partition =
          p.record.key === null ? stickyPartition : partitionForKey(Buffer.from(p.record.key, "utf8"), count);
      }
      if (partition >= count) {
        io.err(`krill produce: line ${p.lineNumber}: topic ${topic} has no partition ${partition}\n`);
        failed++;
        continue;
      }
      const list = bucket(byPartition, partition);
      list.push(p);
    }
    const until = SYSTEM_CLOCK.nowMs() + admin.requestTimeoutMs;
    let remaining = byPartition;
    for (;;) {
      const retry = await produceOnce(
        ctx,
        topic,
        meta,
        remaining,
        acks,
        compression as CompressionName,
        (partition, err, n) => {
          failed += n;
          io.err(`krill produce: ${n} record(s) to ${topic}-${partition} not written: ${err}\n`);
        },
      );
      if (retry.size === 0) return;
      if (SYSTEM_CLOCK.nowMs() + 200 >= until) {
        for (const [partition, list] of retry) {
          failed += list.length;
          io.err(
            `krill produce: ${list.length} record(s) to ${topic}-${partition} not written: no leader answered within ${admin.requestTimeoutMs} ms\n`,
          );
        }
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      meta = await topicMetadata(ctx, topic);
      remaining = retry;
    }
  };

  let lineNumber = 0;
  let batch: Pending[] = [];
  let batchBytes = 0;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const rl = readline.createInterface({
    input: io.input,
    crlfDelay: Number.POSITIVE_INFINITY,
    terminal: false,
  });
  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    batchBytes = 0;
    // Backpressure: no more lines are read while a batch is on its way.
    if (!closed) rl.pause();
    chain = chain
      .then(() => send(taken))
      .finally(() => {
        if (!closed) rl.resume();
      });
  };
  await new Promise<void>((resolve, reject) => {
    rl.on("line", (line) => {
      lineNumber++;
      if (line === "") return;
      const parsedLine = parse(line);
      if (typeof parsedLine === "string") {
        failed++;
        io.err(`krill produce: line ${lineNumber}: ${parsedLine}\n`);
        return;
      }
      batch.push({ record: parsedLine, lineNumber });
      batchBytes += recordBytes(parsedLine);
      if (batch.length >= BATCH_RECORDS_MAX || batchBytes >= BATCH_BYTES_MAX) flush();
      else if (timer === null) timer = setTimeout(flush, LINGER_MS);
    });
    rl.on("close", () => {
      closed = true;
      flush();
      chain.then(resolve, reject);
    });
    ctx.signal?.addEventListener("abort", () => rl.close(), { once: true });
  });
  await chain;
  return failed === 0 ? 0 : 1;
}

function recordBytes(r: InRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0);
  return n;
}

async function topicMetadata({ admin }: CommandContext, topic: string): Promise<MetadataResponseTopic> {
  return admin.retrying(async () => {
    const res = await admin.metadata([topic], true);
    const t = res.topics.find((x) => x.name === topic);
    if (t === undefined)
      throw new KafkaResponseError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null, `topic ${topic}`);
    // LEADER_NOT_AVAILABLE while a topic is being created on first use: retried.
    if (t.errorCode !== 0) throw new KafkaResponseError(t.errorCode, null, `topic ${topic}`);
    if (t.partitions.length === 0 || t.partitions.some((p) => p.leaderId < 0)) {
      throw new KafkaResponseError(ErrorCode.LEADER_NOT_AVAILABLE, null, `topic ${topic}`);
    }
    return t;
  });
}

/**
 * One Produce request per leader for `byPartition`; returns what should be sent again (retriable
 * errors), reports the rest through `lost`.
 */
async function produceOnce(
  { admin }: CommandContext,
  topic: string,
  meta: MetadataResponseTopic,
  byPartition: ReadonlyMap<number, Pending[]>,
  acks: number,
  compression: CompressionName,
  lost: (partition: number, error: string, count: number) => void,
): Promise<Map<number, Pending[]>> {
  const retry = new Map<number, Pending[]>();
  const byLeader = new Map<number, number[]>();
  for (const partition of byPartition.keys()) {
    const leader = meta.partitions.find((p) => p.partitionIndex === partition)?.leaderId ?? -1;
    const list = bucket(byLeader, leader);
    list.push(partition);
  }
  const now = Date.now();
  await Promise.all(
    [...byLeader].map(async ([leader, partitions]) => {
      if (leader < 0) {
        for (const p of partitions) retry.set(p, byPartition.get(p)!);
        return;
      }
      const partitionData = partitions.map((index) => ({
        index,
        records: buildRecordBatch({
          compression,
          records: byPartition.get(index)!.map(({ record }) => ({
            timestamp: BigInt(record.timestamp ?? now),
            key: record.key,
            value: record.value,
            headers: record.headers,
          })),
        }),
      }));
      let res: ProduceResponse;
      try {
        const endpoint = await admin.broker(leader);
        res = await admin.to(PRODUCE_API, endpoint, {
          transactionalId: null,
          acks,
          timeoutMs: admin.requestTimeoutMs,
          topicData: [{ name: topic, topicId: meta.topicId, partitionData }],
        });
      } catch (err) {
        if (
          err instanceof KrillError &&
          (err.code === "NETWORK_EXCEPTION" || err.code === "REQUEST_TIMED_OUT")
        ) {
          for (const p of partitions) retry.set(p, byPartition.get(p)!);
          return;
        }
        throw err;
      }
      const answered = new Set<number>();
      for (const t of res.responses) {
        for (const p of t.partitionResponses) {
          answered.add(p.index);
          if (p.errorCode === 0) continue;
          const list = byPartition.get(p.index);
          if (list === undefined) continue;
          if (isRetriableErrorCode(p.errorCode)) retry.set(p.index, list);
          else
            lost(
              p.index,
              new KafkaResponseError(p.errorCode, p.errorMessage, "Produce").message,
              list.length,
            );
        }
      }
      for (const p of partitions) {
        if (!answered.has(p))
          lost(p, "the broker's answer did not name the partition", byPartition.get(p)!.length);
      }
    }),
  );
  return retry;
}

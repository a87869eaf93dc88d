// A load generator that costs almost nothing per byte (issue 21 item 2), so that what it can send
// sits far above what either broker can take. Produce requests are encoded once per partition
// (valid v2 batches, non-idempotent, so the broker accepts the same bytes again and gives them new
// offsets); each send only patches the correlation id in place. Responses are decoded (they are
// small) to check every partition's error code. The consume side is a fetch loop that counts
// bytes and walks batch headers only, to learn the next offset.
//
//   tsx bench/src/loadgen.ts produce --bootstrap HOST:PORT --topic T [--partitions 8]
//       [--record-bytes 1024] [--batch-bytes 65536] [--acks 1|-1|0] [--connections 4] [--depth 8]
//       [--seconds 10] [--rate-mibps R] [--compression none|gzip|snappy|lz4|zstd] [--until-bytes N]
//   tsx bench/src/loadgen.ts consume --bootstrap HOST:PORT --topic T [--partitions 8]
//       [--connections 4] [--fetch-bytes 1048576] [--seconds 10] [--until-bytes N]
//   tsx bench/src/loadgen.ts raw-send --bootstrap HOST:PORT [--seconds 10] [--rate-mibps R]
//   tsx bench/src/loadgen.ts raw-recv --bootstrap HOST:PORT [--seconds 10] [--until-bytes N]
//
// The raw modes move bytes with no protocol, for the machine's floor (bench/floor/floor.c). Every
// mode prints one JSON line: bytes moved, seconds, MiB/s, request latency percentiles (produce),
// and the generator's own CPU-seconds per GiB (user and system apart), which is its cost per byte.
// Produce counts bytes of record values (what a producer hands over); with --compression the
// values are words drawn from a small vocabulary (about 3x smaller compressed, like text) instead
// of one repeated byte, and `wireBytes` (the batches as sent) is what a consumer of them fetches.
// `--tls-ca FILE` (produce and consume) connects over TLS, trusting the CA in FILE (PEM): the
// broker's SSL listener, for CPU per GiB over TLS (issue 18).
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { COMPRESSION_NAMES, type CompressionName } from "../../src/protocol/compression/index.js";
import { FETCH_API, PRODUCE_API } from "../../src/protocol/generated/apis.js";
import type { FetchResponse } from "../../src/protocol/generated/fetch-response.js";
import type { ProduceResponse } from "../../src/protocol/generated/produce-response.js";
import { Reader } from "../../src/protocol/primitives/reader.js";
import { ZERO_UUID } from "../../src/protocol/primitives/uuid.js";
import { Writer } from "../../src/protocol/primitives/writer.js";
import { BATCH_HEADER_SIZE, LAST_OFFSET_DELTA_OFFSET } from "../../src/protocol/records/batch-header.js";
import { buildRecordBatch } from "../../src/protocol/records/record-batch.js";
import { FrameDecoder } from "../../src/server/network/frame-decoder.js";

const PRODUCE_VERSION = 9;
const FETCH_VERSION = 12;
const FRAME_BYTES_MAX = 256 * 1024 * 1024;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** Bytes per correlation-id position in a request frame: size (4), api key (2), version (2). */
const CORRELATION_ID_AT = 8;
const LATENCY_SAMPLES_MAX = 1_000_000;

interface Options {
  mode: string;
  host: string;
  port: number;
  topic: string;
  partitions: number;
  recordBytes: number;
  batchBytes: number;
  acks: number;
  connections: number;
  depth: number;
  seconds: number;
  rateBytesPerS: number;
  fetchBytes: number;
  untilBytes: number;
  compression: CompressionName;
  /** PEM of the CA to trust: connect over TLS. */
  tlsCa: Buffer | undefined;
}

function parseArgs(argv: string[]): Options {
  const mode = argv[0] ?? "";
  const flags = new Map<string, string>();
  for (let i = 1; i < argv.length; i += 2) {
    const key = argv[i]!;
    const value = argv[i + 1];
    if (!key.startsWith("--") || value === undefined) usage(`bad argument ${key}`);
    flags.set(key.slice(2), value);
  }
  const num = (key: string, fallback: number) => {
    const v = flags.get(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) usage(`--${key} must be a number`);
    return n;
  };
  const [host, port] = (flags.get("bootstrap") ?? "127.0.0.1:9092").split(":");
  return {
    mode,
    host: host ?? "127.0.0.1",
    port: Number(port ?? 9092),
    topic: flags.get("topic") ?? "loadgen",
    partitions: num("partitions", 8),
    recordBytes: num("record-bytes", 1024),
    batchBytes: num("batch-bytes", 65536),
    acks: num("acks", 1),
    connections: num("connections", 4),
    depth: num("depth", 8),
    seconds: num("seconds", 10),
    rateBytesPerS: num("rate-mibps", 0) * MIB,
    fetchBytes: num("fetch-bytes", 1024 * 1024),
    untilBytes: num("until-bytes", 0),
    compression: compressionOf(flags.get("compression") ?? "none"),
    tlsCa: flags.has("tls-ca") ? readFileSync(flags.get("tls-ca")!) : undefined,
  };
}

function compressionOf(name: string): CompressionName {
  const found = COMPRESSION_NAMES.find((n) => n === name);
  if (found === undefined) usage(`--compression must be one of ${COMPRESSION_NAMES.join(", ")}`);
  return found;
}

/** `length` bytes of words from a small vocabulary (deterministic), compressible as text is. */
function textValue(length: number, seed: number): Buffer {
  const words = ["kafka", "record", "batch", "offset", "leader", "topic", "value", "krill", "log", "fetch"];
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  let at = 0;
  while (at < length) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const word = `${words[(state >>> 0) % words.length]}${(state >>> 8) % 1000} `;
    at += out.write(word, at, "latin1");
  }
  return out;
}

function usage(message: string): never {
  console.error(`loadgen: ${message}\nusage: see the header of bench/src/loadgen.ts`);
  process.exit(2);
}

/**
 * A request for `api` at `version`, split so that sends never copy the body: `head` (size prefix
 * and request header, a few bytes, copied per send to carry its correlation id) and `body` (the
 * encoded request, shared by every send of it).
 */
interface PreparedRequest {
  readonly head: Buffer;
  readonly body: Buffer;
}

function prepareRequest<Req>(
  api: typeof PRODUCE_API | typeof FETCH_API,
  version: number,
  request: Req,
): PreparedRequest {
  const h = new Writer();
  h.writeInt32(0);
  h.writeInt16(api.apiKey);
  h.writeInt16(version);
  h.writeInt32(0);
  h.writeNullableString("loadgen");
  if (api.requestHeaderVersion(version) >= 2) h.writeUnsignedVarint(0);
  const head = h.finish();
  const b = new Writer();
  (api.encodeRequest as (w: Writer, body: Req, version: number) => void)(b, request, version);
  const body = b.finish();
  head.writeInt32BE(head.length - 4 + body.length, 0);
  return { head, body };
}

function send(socket: net.Socket, request: PreparedRequest, correlationId: number): boolean {
  const head = Buffer.from(request.head);
  head.writeInt32BE(correlationId, CORRELATION_ID_AT);
  socket.cork();
  socket.write(head);
  const flushed = socket.write(request.body);
  socket.uncork();
  return flushed;
}

/** Reads a response frame: its correlation id and a reader positioned at the body. */
function responseOf(frame: Buffer, headerVersion: number): { correlationId: number; body: Reader } {
  const r = new Reader(frame);
  const correlationId = r.readInt32();
  if (headerVersion >= 1) r.readUnknownTaggedFields();
  return { correlationId, body: r };
}

function connect(o: Options): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (o.tlsCa !== undefined) {
      const socket = tls.connect({ host: o.host, port: o.port, ca: o.tlsCa });
      socket.setNoDelay(true);
      socket.once("secureConnect", () => resolve(socket));
      socket.once("error", reject);
      return;
    }
    const socket = net.connect({ host: o.host, port: o.port, noDelay: true });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Feeds every complete frame of `socket` to `onFrame`. */
function onFrames(socket: net.Socket, onFrame: (frame: Buffer) => void): void {
  const decoder = new FrameDecoder(FRAME_BYTES_MAX);
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) onFrame(f);
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Report {
  mode: string;
  bytes: number;
  requests: number;
  errors: number;
  seconds: number;
  mibPerS: number;
  latencyMs?: { p50: number; p99: number; p999: number; max: number };
  /** Produce: the record batches acknowledged, as sent (compressed when --compression). */
  wireBytes?: number;
  cpu: { userS: number; systemS: number; perGiB: number };
}

function finish(
  mode: string,
  bytes: number,
  requests: number,
  errors: number,
  startedNs: bigint,
  cpu0: NodeJS.CpuUsage,
  latencies?: Float64Array,
): Report {
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const userS = cpu.user / 1e6;
  const systemS = cpu.system / 1e6;
  const report: Report = {
    mode,
    bytes,
    requests,
    errors,
    seconds,
    mibPerS: bytes / MIB / seconds,
    cpu: { userS, systemS, perGiB: bytes > 0 ? (userS + systemS) / (bytes / GIB) : 0 },
  };
  if (latencies !== undefined) {
    const sorted = latencies.slice().sort();
    report.latencyMs = {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: sorted[sorted.length - 1] ?? 0,
    };
  }
  return report;
}

/** Paces senders to `rateBytesPerS` (0: as fast as they can): how long to wait before sending `bytes` more. */
class Pacer {
  #sent = 0;
  readonly #startedMs = performance.now();
  constructor(private readonly rateBytesPerS: number) {}
  delayMs(bytes: number): number {
    if (this.rateBytesPerS <= 0) return 0;
    const dueMs = ((this.#sent + bytes) / this.rateBytesPerS) * 1000;
    return Math.max(0, dueMs - (performance.now() - this.#startedMs));
  }
  sent(bytes: number): void {
    this.#sent += bytes;
  }
}

async function produce(o: Options): Promise<Report> {
  const perBatch = Math.max(1, Math.floor(o.batchBytes / (o.recordBytes + 12)));
  const compressed = o.compression !== "none";
  const flat = Buffer.alloc(o.recordBytes, 0x61);
  const batch = buildRecordBatch({
    compression: o.compression,
    records: Array.from({ length: perBatch }, (_, i) => ({
      timestamp: Date.now(),
      key: null,
      value: compressed ? textValue(o.recordBytes, i + 1) : flat,
    })),
  });
  const prepared = Array.from({ length: o.partitions }, (_, p) =>
    prepareRequest(PRODUCE_API, PRODUCE_VERSION, {
      transactionalId: null,
      acks: o.acks,
      timeoutMs: 30_000,
      topicData: [{ name: o.topic, topicId: ZERO_UUID, partitionData: [{ index: p, records: batch }] }],
    }),
  );
  const payloadPerRequest = perBatch * o.recordBytes;
  const latencies = new Float64Array(LATENCY_SAMPLES_MAX);
  let samples = 0;
  let bytes = 0;
  let requests = 0;
  let errors = 0;
  const pacer = new Pacer(o.rateBytesPerS);
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadlineMs = performance.now() + o.seconds * 1000;
  const headerVersion = PRODUCE_API.responseHeaderVersion(PRODUCE_VERSION);
  // --until-bytes: stop sending once that many record bytes are on their way.
  let queued = 0;
  const sentEnough = () => o.untilBytes > 0 && queued >= o.untilBytes;

  await Promise.all(
    Array.from({ length: o.connections }, async (_, c) => {
      const socket = await connect(o);
      const mine = prepared.filter((_, p) => p % o.connections === c);
      if (mine.length === 0) return socket.destroy();
      const sentAt = new Map<number, number>();
      let next = 0;
      let correlationId = 0;
      let inFlight = 0;
      let done!: () => void;
      const finished = new Promise<void>((r) => {
        done = r;
      });
      const pump = (): void => {
        while (inFlight < o.depth && performance.now() < deadlineMs && !sentEnough()) {
          const wait = pacer.delayMs(payloadPerRequest);
          if (wait > 0) {
            setTimeout(pump, Math.max(1, wait));
            return;
          }
          const request = mine[next++ % mine.length]!;
          correlationId++;
          pacer.sent(payloadPerRequest);
          queued += payloadPerRequest;
          if (o.acks === 0) {
            // No response comes back: the socket's buffer is the only back-pressure.
            bytes += payloadPerRequest;
            requests++;
            if (!send(socket, request, correlationId)) {
              socket.once("drain", pump);
              return;
            }
            continue;
          }
          sentAt.set(correlationId, performance.now());
          inFlight++;
          send(socket, request, correlationId);
        }
        if (inFlight === 0 && (performance.now() >= deadlineMs || sentEnough())) done();
      };
      onFrames(socket, (frame) => {
        const { correlationId: id, body } = responseOf(frame, headerVersion);
        const response = PRODUCE_API.decodeResponse(body, PRODUCE_VERSION) as ProduceResponse;
        const failed = response.responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== 0));
        if (failed) errors++;
        else bytes += payloadPerRequest;
        requests++;
        const at = sentAt.get(id);
        sentAt.delete(id);
        if (at !== undefined && samples < LATENCY_SAMPLES_MAX) latencies[samples++] = performance.now() - at;
        inFlight--;
        pump();
      });
      pump();
      await finished;
      socket.end();
    }),
  );
  const report = finish("produce", bytes, requests, errors, started, cpu0, latencies.subarray(0, samples));
  report.wireBytes = (bytes / payloadPerRequest) * batch.length;
  return report;
}

/** The offset after the last whole batch in `records` (headers only), or undefined if none. */
function nextOffsetAfter(records: Buffer): bigint | undefined {
  let next: bigint | undefined;
  for (let pos = 0; pos + BATCH_HEADER_SIZE <= records.length; ) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (pos + size > records.length) break;
    next = records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET)) + 1n;
    pos += size;
  }
  return next;
}

async function consume(o: Options): Promise<Report> {
  let bytes = 0;
  let requests = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadlineMs = performance.now() + o.seconds * 1000;
  const headerVersion = FETCH_API.responseHeaderVersion(FETCH_VERSION);
  const enough = () => performance.now() >= deadlineMs || (o.untilBytes > 0 && bytes >= o.untilBytes);
  await Promise.all(
    Array.from({ length: o.connections }, async (_, c) => {
      const partitions = Array.from({ length: o.partitions }, (_, p) => p).filter(
        (p) => p % o.connections === c,
      );
      if (partitions.length === 0) return;
      const socket = await connect(o);
      const offsets = new Map(partitions.map((p) => [p, 0n]));
      let correlationId = 0;
      let done!: () => void;
      const finished = new Promise<void>((r) => {
        done = r;
      });
      const fetchNext = () => {
        if (enough()) return done();
        const request = prepareRequest(FETCH_API, FETCH_VERSION, {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs: 100,
          minBytes: 1,
          maxBytes: o.fetchBytes * partitions.length,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: o.topic,
              topicId: ZERO_UUID,
              partitions: partitions.map((p) => ({
                partition: p,
                currentLeaderEpoch: -1,
                fetchOffset: offsets.get(p)!,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: o.fetchBytes,
                replicaDirectoryId: ZERO_UUID,
                highWatermark: -1n,
              })),
            },
          ],
          forgottenTopicsData: [],
          rackId: "",
        });
        send(socket, request, ++correlationId);
      };
      onFrames(socket, (frame) => {
        const { body } = responseOf(frame, headerVersion);
        const response = FETCH_API.decodeResponse(body, FETCH_VERSION) as FetchResponse;
        requests++;
        for (const t of response.responses) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) {
              errors++;
              continue;
            }
            const records = p.records;
            if (records === null || records.length === 0) continue;
            const next = nextOffsetAfter(records);
            if (next === undefined) continue;
            bytes += records.length;
            offsets.set(p.partitionIndex, next);
          }
        }
        fetchNext();
      });
      fetchNext();
      await finished;
      socket.end();
    }),
  );
  return finish("consume", bytes, requests, errors, started, cpu0);
}

async function rawSend(o: Options): Promise<Report> {
  const chunk = Buffer.alloc(MIB, 0x61);
  const socket = await connect(o);
  const pacer = new Pacer(o.rateBytesPerS);
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  const deadlineMs = performance.now() + o.seconds * 1000;
  let bytes = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (performance.now() < deadlineMs) {
        const wait = pacer.delayMs(chunk.length);
        if (wait > 0) {
          setTimeout(pump, Math.max(1, wait));
          return;
        }
        pacer.sent(chunk.length);
        bytes += chunk.length;
        if (!socket.write(chunk)) {
          socket.once("drain", pump);
          return;
        }
      }
      socket.end(() => resolve());
    };
    pump();
  });
  return finish("raw-send", bytes, 0, 0, started, cpu0);
}

async function rawRecv(o: Options): Promise<Report> {
  const socket = await connect(o);
  const cpu0 = process.cpuUsage();
  const started = process.hrtime.bigint();
  let bytes = 0;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, o.seconds * 1000);
    socket.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (o.untilBytes > 0 && bytes >= o.untilBytes) {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return finish("raw-recv", bytes, 0, 0, started, cpu0);
}

const MODES: Record<string, (o: Options) => Promise<Report>> = {
  produce,
  consume,
  "raw-send": rawSend,
  "raw-recv": rawRecv,
};

const options = parseArgs(process.argv.slice(2));
const mode = MODES[options.mode];
if (mode === undefined) usage(`unknown mode ${options.mode}`);
const report = await mode(options);
console.log(JSON.stringify(report));
process.exit(0);

/**
 * Codec throughput on the hot path: decoding and encoding Produce requests (v9, v11) and Fetch
 * responses (v12, v16) of realistic shapes, through the generated codecs. Printed beside the
 * reference measured in the same run: one copy of the same frame bytes (Buffer.copy), the floor of
 * anything that touches every byte. Record batches are opaque bytes here (never decoded): the
 * codec should cost per field, not per record byte, so MB/s grows with batch size.
 *
 *   tsx bench/codec-bench.ts [--quick]
 *
 * Prints operations/s and MB/s (10^6 bytes of frame per second).
 */
import {
  decodeFetchResponse,
  encodeFetchResponse,
  type FetchResponse,
} from "../src/protocol/generated/fetch-response.js";
import {
  decodeProduceRequest,
  encodeProduceRequest,
  type ProduceRequest,
} from "../src/protocol/generated/produce-request.js";
import { Reader } from "../src/protocol/primitives/reader.js";
import { ZERO_UUID } from "../src/protocol/primitives/uuid.js";
import { Writer } from "../src/protocol/primitives/writer.js";

const quick = process.argv.includes("--quick");
const RUN_MS = quick ? 300 : 1000;
const RUNS = quick ? 3 : 5;

function batch(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function produceRequest(topics: number, partitions: number, batchBytes: number): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: Array.from({ length: topics }, (_, t) => ({
      name: `bench-topic-${t}`,
      topicId: ZERO_UUID,
      partitionData: Array.from({ length: partitions }, (_, p) => ({
        index: p,
        records: batch(batchBytes, t * 100 + p),
        unknownTaggedFields: undefined,
      })),
      unknownTaggedFields: undefined,
    })),
    unknownTaggedFields: undefined,
  };
}

function fetchResponse(topics: number, partitions: number, recordsBytes: number): FetchResponse {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 12345,
    responses: Array.from({ length: topics }, (_, t) => ({
      topic: `bench-topic-${t}`,
      topicId: Buffer.from(`bench-topic-id-${t}`.padEnd(16, "x").slice(0, 16)).toString("base64url"),
      partitions: Array.from({ length: partitions }, (_, p) => ({
        partitionIndex: p,
        errorCode: 0,
        highWatermark: 1_000_000n,
        lastStableOffset: 1_000_000n,
        logStartOffset: 0n,
        divergingEpoch: { epoch: -1, endOffset: -1n, unknownTaggedFields: undefined },
        currentLeader: { leaderId: -1, leaderEpoch: -1, unknownTaggedFields: undefined },
        snapshotId: { endOffset: -1n, epoch: -1, unknownTaggedFields: undefined },
        abortedTransactions: null,
        preferredReadReplica: -1,
        records: batch(recordsBytes, t * 100 + p),
        unknownTaggedFields: undefined,
      })),
      unknownTaggedFields: undefined,
    })),
    nodeEndpoints: [],
    unknownTaggedFields: undefined,
  };
}

function best(op: () => void): number {
  for (let i = 0; i < 50; i++) op();
  let bestPerS = 0;
  for (let run = 0; run < RUNS; run++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let i = 0; i < 16; i++) op();
      n += 16;
      elapsed = performance.now() - start;
    }
    bestPerS = Math.max(bestPerS, n / (elapsed / 1000));
  }
  return bestPerS;
}

let sink = 0;
const rows: string[][] = [];

function row(name: string, frameBytes: number, perS: number, copyPerS: number): void {
  rows.push([
    name,
    String(frameBytes),
    Math.round(perS).toLocaleString("en-US"),
    ((perS * frameBytes) / 1e6).toFixed(0),
    ((copyPerS * frameBytes) / 1e6).toFixed(0),
  ]);
}

function copyRate(frame: Buffer): number {
  const target = Buffer.allocUnsafe(frame.length);
  return best(() => {
    frame.copy(target);
    sink += target[0]!;
  });
}

const produceShapes: [string, number, number, number][] = [
  ["1 topic x 1 partition x 16 KiB", 1, 1, 16 << 10],
  ["1 topic x 1 partition x 1 MiB", 1, 1, 1 << 20],
  ["10 topics x 10 partitions x 1 KiB", 10, 10, 1 << 10],
];
for (const version of [9, 11]) {
  for (const [shape, topics, partitions, bytes] of produceShapes) {
    const msg = produceRequest(topics, partitions, bytes);
    const w = new Writer();
    encodeProduceRequest(w, msg, version);
    const frame = w.finish();
    const copy = copyRate(frame);
    row(
      `Produce v${version} decode, ${shape}`,
      frame.length,
      best(() => {
        const d = decodeProduceRequest(new Reader(frame), version);
        sink += d.topicData.length;
      }),
      copy,
    );
    row(
      `Produce v${version} encode, ${shape}`,
      frame.length,
      best(() => {
        const out = new Writer(1024);
        encodeProduceRequest(out, msg, version);
        sink += out.toChunks().length;
      }),
      copy,
    );
  }
}

const fetchShapes: [string, number, number, number][] = [
  ["1 topic x 1 partition x 1 MiB", 1, 1, 1 << 20],
  ["5 topics x 20 partitions x 64 KiB", 5, 20, 64 << 10],
  ["20 topics x 50 partitions x 1 KiB", 20, 50, 1 << 10],
];
for (const version of [12, 16]) {
  for (const [shape, topics, partitions, bytes] of fetchShapes) {
    const msg = fetchResponse(topics, partitions, bytes);
    const w = new Writer();
    encodeFetchResponse(w, msg, version);
    const frame = w.finish();
    const copy = copyRate(frame);
    row(
      `Fetch v${version} encode (chunks), ${shape}`,
      frame.length,
      best(() => {
        const out = new Writer(1024);
        encodeFetchResponse(out, msg, version);
        sink += out.toChunks().length;
      }),
      copy,
    );
    row(
      `Fetch v${version} decode, ${shape}`,
      frame.length,
      best(() => {
        const d = decodeFetchResponse(new Reader(frame), version);
        sink += d.responses.length;
      }),
      copy,
    );
  }
}

const header = ["operation", "frame bytes", "ops/s", "MB/s", "copy MB/s (ref)"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(
  `codec-bench (${quick ? "quick" : "full"}), node ${process.version}, best of ${RUNS} x ${RUN_MS} ms`,
);
console.log(line(header));
for (const r of rows) console.log(line(r));
if (sink === 42) console.log("");

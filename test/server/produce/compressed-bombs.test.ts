/**
 * Compressed batches whose output is far larger than what was sent, over the wire (issue 19 item
 * 4): validation streams, so a legitimate batch of one 48 MiB record (48 KiB of zstd) is taken
 * without the broker holding its output; a batch that would cost more than
 * PRODUCE_DECOMPRESSED_BYTES_MAX of decompression, or a snappy block declaring 4 GiB in 13 bytes,
 * is CORRUPT_MESSAGE; and the broker keeps serving the same connection and partition.
 */
import { once } from "node:events";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../../src/index.js";
import { CompressionCodec } from "../../../src/protocol/compression/index.js";
import { CREATE_TOPICS_API, PRODUCE_API } from "../../../src/protocol/generated/apis.js";
import { ErrorCode } from "../../../src/protocol/generated/error-codes.js";
import { ZERO_UUID } from "../../../src/protocol/primitives/uuid.js";
import { RECORDS_COUNT_OFFSET, RECORDS_OFFSET } from "../../../src/protocol/records/batch-header.js";
import { writeBatchCrc } from "../../../src/protocol/records/batch-iterator.js";
import { buildRecordBatch } from "../../../src/protocol/records/record-batch.js";
import { PRODUCE_DECOMPRESSED_BYTES_MAX } from "../../../src/server/produce/produce.js";
import { RawClient } from "../partitions/raw-client.js";

const MiB = 1024 * 1024;

function varint(v: number): number[] {
  let raw = v >= 0 ? v * 2 : -v * 2 - 1;
  const out: number[] = [];
  while (raw >= 0x80) {
    out.push((raw % 0x80) | 0x80);
    raw = Math.floor(raw / 0x80);
  }
  out.push(raw);
  return out;
}

/**
 * The records section of `count` records, each without key or headers and with a value of
 * `valueBytes` zeros, zstd-compressed as a stream (the output is never held).
 */
async function zstdRecordsOfZeros(count: number, valueBytes: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const z = zlib.createZstdCompress();
  z.on("data", (chunk: Buffer) => out.push(chunk));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < count; i++) {
    const value = varint(valueBytes);
    const bodyBytes = 1 + 1 + varint(i).length + 1 + value.length + valueBytes + 1;
    z.write(Buffer.from([...varint(bodyBytes), 0, 0, ...varint(i), ...varint(-1), ...value]));
    for (let left = valueBytes; left > 0; left -= zeros.length) {
      if (!z.write(zeros.subarray(0, Math.min(left, zeros.length)))) await once(z, "drain");
    }
    z.write(Buffer.from([0])); // no headers
  }
  z.end();
  await once(z, "end");
  return Buffer.concat(out);
}

/** A batch of `codec` holding `section` as its records, with `count` in its header. */
function batchWithSection(codec: CompressionCodec, section: Buffer, count: number): Buffer {
  const template = buildRecordBatch({
    compression: codec,
    records: Array.from({ length: count }, () => ({ timestamp: Date.now(), key: null, value: null })),
  });
  const buf = Buffer.concat([template.subarray(0, RECORDS_OFFSET), section]);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  writeBatchCrc(buf, 0, buf.length);
  return buf;
}

describe("compressed batches with a large output, produced over the wire", () => {
  let broker: BrokerHandle;
  let raw: RawClient;

  beforeAll(async () => {
    broker = await startBroker({ "num.partitions": 1 });
    raw = await RawClient.connect(broker.port, broker.host);
    const created = await raw.request(CREATE_TOPICS_API, 7, {
      topics: [{ name: "bombs", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
  });

  afterAll(async () => {
    await raw?.close();
    await broker?.stop();
  });

  async function produce(records: Buffer) {
    const res = await raw.request(PRODUCE_API, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5_000,
      topicData: [{ name: "bombs", topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
    });
    return res.responses[0]!.partitionResponses[0]!;
  }

  it("takes one 48 MiB record compressed to kilobytes, refuses past the work bound, keeps serving", async () => {
    const legit = await zstdRecordsOfZeros(1, 48 * MiB);
    expect(legit.length).toBeLessThan(MiB);
    expect(await produce(batchWithSection(CompressionCodec.ZSTD, legit, 1))).toMatchObject({
      errorCode: ErrorCode.NONE,
      baseOffset: 0n,
    });

    // Two such records: 96 MiB of output, past the bound.
    expect(PRODUCE_DECOMPRESSED_BYTES_MAX).toBeLessThan(96 * MiB);
    const over = await zstdRecordsOfZeros(2, 48 * MiB);
    const refused = await produce(batchWithSection(CompressionCodec.ZSTD, over, 2));
    expect(refused.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(refused.errorMessage).toMatch(
      /^Failed to decompress record stream: zstd: decompressed size exceeds/,
    );

    // The same two records declared as one: refused once the first is read (records remain).
    const remaining = await produce(batchWithSection(CompressionCodec.ZSTD, over, 1));
    expect(remaining).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage: "Incorrect declared batch size, records still remaining in file",
    });

    // A raw snappy block declaring 4 GiB in 13 bytes.
    const snappyBomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 6 << 2, 1, 2, 3, 4, 5, 6, 7]);
    const bomb = await produce(batchWithSection(CompressionCodec.SNAPPY, snappyBomb, 1));
    expect(bomb.errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);

    // Same connection, same partition: an ordinary compressed batch is appended after the first.
    const ordinary = buildRecordBatch({
      compression: "lz4",
      records: [{ timestamp: Date.now(), key: "k", value: "v" }],
    });
    expect(await produce(ordinary)).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 1n });
  }, 120_000);
});

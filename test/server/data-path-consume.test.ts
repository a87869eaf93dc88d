/**
 * Produce and consume through kafkajs end to end (a consumer group; kafkajs fetches without
 * sessions and long-polls): every codec, keys, null values, headers and a large message, across
 * several partitions, all come back exactly as sent and in order per partition.
 */
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrokerHandle, startBroker } from "../../src/index.js";
import { compress, decompress } from "../../src/protocol/compression/index.js";

// kafkajs ships gzip only; the other codecs use Krill's implementations on the client side.
for (const [type, id] of [
  [CompressionTypes.Snappy, 2],
  [CompressionTypes.LZ4, 3],
  [CompressionTypes.ZSTD, 4],
] as const) {
  CompressionCodecs[type] = () => ({
    compress: (encoder: { buffer: Buffer }) => compress(id, encoder.buffer),
    decompress: (buffer: Buffer) => decompress(id, buffer, { outputBytesMax: 64 * 1024 * 1024 }),
  });
}

interface Seen {
  partition: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

describe("kafkajs produce and consume", () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({});
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it("returns every message as sent, for every codec", async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "roundtrip", numPartitions: 3 }] });
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const expected: Seen[] = [];
    const codecs = [
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ];
    for (const compression of codecs) {
      const messages = [0, 1, 2].map((partition) => ({
        partition,
        key: partition === 2 ? null : `k-${compression}-${partition}`,
        value: partition === 1 ? null : `v-${compression}-${partition}`,
        headers: { codec: String(compression), n: String(partition) },
      }));
      await producer.send({ topic: "roundtrip", compression, messages });
      for (const m of messages)
        expected.push({ partition: m.partition, key: m.key, value: m.value, headers: m.headers });
    }
    const big = "L".repeat(700_000);
    await producer.send({ topic: "roundtrip", messages: [{ partition: 0, key: "big", value: big }] });
    expected.push({ partition: 0, key: "big", value: big, headers: {} });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: "roundtrip-group", maxWaitTimeInMs: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: "roundtrip", fromBeginning: true });
    const seen: Seen[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${seen.length} of ${expected.length} consumed`)),
        30_000,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          seen.push({
            partition,
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers,
          });
          if (seen.length === expected.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    const order = (a: Seen) => `${a.partition}|${a.key}|${a.value?.slice(0, 20)}`;
    expect([...seen].sort((a, b) => order(a).localeCompare(order(b)))).toEqual(
      [...expected].sort((a, b) => order(a).localeCompare(order(b))),
    );
    // Within a partition, consumption follows production order.
    for (const p of [0, 1, 2]) {
      expect(seen.filter((s) => s.partition === p)).toEqual(expected.filter((e) => e.partition === p));
    }
  }, 60_000);
});

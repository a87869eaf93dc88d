/**
 * Captures the record batches kafkajs's producer writes, one Produce per codec, through the fake
 * broker: none and gzip (built in) and snappy (kafkajs-snappy, the codec kafkajs documents).
 * kafkajs-lz4 and @kafkajs/zstd need native modules that do not build for Node 24, so they are
 * not captured (see test/protocol/golden/README.md).
 *
 *   tsx tools/capture/capture-kafkajs.ts [outDir]   (default test/protocol/golden/kafkajs)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import kafkajs from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import { startFakeBroker } from "./fake-broker.js";
import { GOLDEN_RECORDS, GOLDEN_TOPIC } from "./golden-records.js";

// kafkajs is CommonJS; its named exports are reached through the default export.
const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;

const CODECS: [string, kafkajs.CompressionTypes][] = [
  ["none", CompressionTypes.None],
  ["gzip", CompressionTypes.GZIP],
  ["snappy", CompressionTypes.Snappy],
];

const outDir = process.argv[2] ?? "test/protocol/golden/kafkajs";
mkdirSync(outDir, { recursive: true });

for (const [name, compression] of CODECS) {
  const broker = await startFakeBroker();
  const kafka = new Kafka({
    clientId: "krill-golden-capture",
    brokers: [`127.0.0.1:${broker.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic: GOLDEN_TOPIC,
    compression,
    messages: GOLDEN_RECORDS.map((r) => ({
      partition: 0,
      key: r.key,
      value: r.value,
      timestamp: String(r.timestampMs),
      headers: Object.fromEntries(r.headers),
    })),
  });
  const [captured] = await broker.firstProduce;
  if (captured?.records == null) throw new Error(`kafkajs ${name}: no records captured`);
  writeFileSync(join(outDir, `${name}.bin`), captured.records);
  console.log(`kafkajs ${name}: ${captured.records.length} bytes`);
  await producer.disconnect();
  await broker.close();
}

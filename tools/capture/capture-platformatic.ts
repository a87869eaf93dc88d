/**
 * Captures the record batches @platformatic/kafka's producer writes, one Produce per codec (none,
 * gzip, snappy, lz4, zstd; its codecs are WebAssembly, so all five work on Node 24), through the
 * fake broker. The package is taken from the compat suite's install
 * (compat-tests/platformatic/node_modules, set up by scripts/install-compat-deps.sh) rather than
 * added to the root package.
 *
 *   tsx tools/capture/capture-platformatic.ts [outDir]   (default test/protocol/golden/platformatic)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { startFakeBroker } from "./fake-broker.js";
import { GOLDEN_RECORDS, GOLDEN_TOPIC } from "./golden-records.js";

interface PlatformaticProducer {
  send(request: {
    messages: {
      topic: string;
      partition: number;
      key?: Buffer;
      value?: Buffer;
      headers: Map<Buffer, Buffer>;
      timestamp: bigint;
    }[];
    compression: string;
    acks: number;
  }): Promise<unknown>;
  close(): Promise<void>;
}

const entry = resolve(
  import.meta.dirname,
  "../../compat-tests/platformatic/node_modules/@platformatic/kafka/dist/index.js",
);
const platformatic = (await import(pathToFileURL(entry).href)) as {
  Producer: new (options: Record<string, unknown>) => PlatformaticProducer;
  version?: string;
};

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];
const outDir = process.argv[2] ?? "test/protocol/golden/platformatic";
mkdirSync(outDir, { recursive: true });

const bytes = (s: string | null) => (s === null ? undefined : Buffer.from(s, "utf8"));

for (const compression of CODECS) {
  const broker = await startFakeBroker();
  const producer = new platformatic.Producer({
    clientId: "krill-golden-capture",
    bootstrapBrokers: [`127.0.0.1:${broker.port}`],
    idempotent: false,
    retries: 0,
  });
  const sent = producer.send({
    messages: GOLDEN_RECORDS.map((r) => {
      const message = {
        topic: GOLDEN_TOPIC,
        partition: 0,
        headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        timestamp: BigInt(r.timestampMs),
      };
      const key = bytes(r.key);
      const value = bytes(r.value);
      return { ...message, ...(key === undefined ? {} : { key }), ...(value === undefined ? {} : { value }) };
    }),
    compression,
    acks: 1,
  });
  const [captured] = await broker.firstProduce;
  await sent;
  if (captured?.records == null) throw new Error(`platformatic ${compression}: no records captured`);
  writeFileSync(join(outDir, `${compression}.bin`), captured.records);
  console.log(`platformatic ${compression}: ${captured.records.length} bytes`);
  await producer.close();
  await broker.close();
}

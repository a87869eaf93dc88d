/**
 * Captures the record batches librdkafka writes, through kcat (apt-get install -y kcat) against
 * the fake broker, one run per codec: none, gzip, snappy, lz4, zstd. Records come from
 * KCAT_LINES (key:value per line) with KCAT_HEADERS on each; linger.ms makes them one batch.
 *
 *   tsx tools/capture/capture-kcat.ts [outDir]   (default test/protocol/golden/kcat)
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFakeBroker } from "./fake-broker.js";
import { GOLDEN_TOPIC, KCAT_HEADERS, KCAT_LINES } from "./golden-records.js";

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];
const KCAT_TIMEOUT_MS = 20_000;

const outDir = process.argv[2] ?? "test/protocol/golden/kcat";
mkdirSync(outDir, { recursive: true });

for (const codec of CODECS) {
  const broker = await startFakeBroker();
  const args = [
    "-P",
    "-b",
    `127.0.0.1:${broker.port}`,
    "-t",
    GOLDEN_TOPIC,
    "-p",
    "0",
    "-K",
    ":",
    "-Z",
    "-z",
    codec,
    "-X",
    "linger.ms=500",
    ...KCAT_HEADERS.flatMap(([k, v]) => ["-H", `${k}=${v}`]),
  ];
  const child = spawn("kcat", args, { stdio: ["pipe", "inherit", "inherit"] });
  const timer = setTimeout(() => child.kill("SIGKILL"), KCAT_TIMEOUT_MS);
  child.stdin.end(`${KCAT_LINES.join("\n")}\n`);
  const [captured] = await broker.firstProduce;
  await new Promise((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  if (captured?.records == null) throw new Error(`kcat ${codec}: no records captured`);
  writeFileSync(join(outDir, `${codec}.bin`), captured.records);
  console.log(`kcat ${codec}: ${captured.records.length} bytes`);
  await broker.close();
}

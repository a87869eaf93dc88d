/**
 * Checks that librdkafka (kcat -C) reads the batches Krill builds with every codec: the fake
 * broker serves GOLDEN_RECORDS, built by buildRecordBatch, over Fetch, and kcat's printed keys,
 * values, headers and timestamps must equal them. Exits non-zero on any difference.
 *
 *   tsx tools/capture/kcat-reads-krill.ts
 */
import { spawn } from "node:child_process";
import { COMPRESSION_NAMES } from "../../src/protocol/compression/index.js";
import { buildRecordBatch } from "../../src/protocol/records/record-batch.js";
import { startFakeBroker } from "./fake-broker.js";
import { GOLDEN_RECORDS, GOLDEN_TOPIC } from "./golden-records.js";

const KCAT_TIMEOUT_MS = 20_000;
// kcat's -f format: key length (-1 = null), key, value length, value, headers, timestamp,
// separated by a byte absent from the data. The lengths tell a null value from an empty one.
const SEP = "\\x1f";
const FORMAT = ["%K", "%k", "%S", "%s", "%h", "%T"].join(SEP);

const byteLength = (s: string | null) => (s === null ? -1 : Buffer.byteLength(s));
const expected = GOLDEN_RECORDS.map((r) =>
  [
    byteLength(r.key),
    r.key ?? "",
    byteLength(r.value),
    r.value ?? "",
    r.headers.map(([k, v]) => `${k}=${v}`).join(","),
    r.timestampMs,
  ].join("\x1f"),
);

let failures = 0;
for (const compression of COMPRESSION_NAMES) {
  const records = buildRecordBatch({
    compression,
    records: GOLDEN_RECORDS.map((r) => ({
      timestamp: r.timestampMs,
      key: r.key,
      value: r.value,
      headers: r.headers.map(([key, value]) => ({ key, value })),
    })),
  });
  const broker = await startFakeBroker({
    fetchRecords: { records, nextOffset: BigInt(GOLDEN_RECORDS.length) },
  });
  const child = spawn(
    "kcat",
    [
      "-C",
      "-b",
      `127.0.0.1:${broker.port}`,
      "-t",
      GOLDEN_TOPIC,
      "-p",
      "0",
      "-o",
      "0",
      "-e",
      "-q",
      "-f",
      `${FORMAT}\\n`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), KCAT_TIMEOUT_MS);
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  const code = await new Promise((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  await broker.close();
  const lines = out.split("\n").filter((l) => l.length > 0);
  const same = code === 0 && lines.length === expected.length && lines.every((l, i) => l === expected[i]);
  if (!same) failures++;
  const firstDiff = lines.findIndex((l, i) => l !== expected[i]);
  console.log(
    `kcat reads krill ${compression}: ${same ? "ok" : `FAILED (exit ${code}, ${lines.length} records, first difference at ${firstDiff}: ${JSON.stringify(lines[firstDiff]?.slice(0, 200))})`}`,
  );
}
process.exit(failures === 0 ? 0 : 1);

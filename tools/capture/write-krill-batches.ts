/**
 * Writes GOLDEN_RECORDS as batches built by Krill (buildRecordBatch), one file per codec, for the
 * Java client to check (tools/capture/java/verify.sh).
 *
 *   tsx tools/capture/write-krill-batches.ts <outDir>
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMPRESSION_NAMES } from "../../src/protocol/compression/index.js";
import { buildRecordBatch } from "../../src/protocol/records/record-batch.js";
import { GOLDEN_RECORDS } from "./golden-records.js";

const outDir = process.argv[2];
if (outDir === undefined) throw new Error("usage: write-krill-batches.ts <outDir>");
mkdirSync(outDir, { recursive: true });
for (const compression of COMPRESSION_NAMES) {
  const batch = buildRecordBatch({
    compression,
    records: GOLDEN_RECORDS.map((r) => ({
      timestamp: r.timestampMs,
      key: r.key,
      value: r.value,
      headers: r.headers.map(([key, value]) => ({ key, value })),
    })),
  });
  writeFileSync(join(outDir, `${compression}.bin`), batch);
}

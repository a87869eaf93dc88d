// The loss of a node's unflushed data (issue 17 item 2), applied after a kill -9: every segment
// file is cut back to the size its last completed fsync covered, and a segment that was never
// fsynced loses everything, as a power loss (not a process crash, which keeps the page cache) would
// leave it. The sizes come from the broker's test-only fsync journal (src/log/fsync-journal.ts,
// enabled by KRILL_TEST_FSYNC_JOURNAL for the node's process). Only segment data (`.log`) is cut:
// indexes are preallocated and rebuilt by recovery, and checkpoints, snapshots and quorum-state are
// written to a temporary file, fsynced and renamed, so they are either old or new, never torn.
import { existsSync, readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";

export interface Truncation {
  readonly file: string;
  readonly from: number;
  readonly to: number;
}

/** The last durable size of every file the journal names. */
export function durableSizes(journalText: string): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const line of journalText.split("\n")) {
    const tab = line.indexOf("\t");
    if (tab <= 0) continue;
    const size = Number(line.slice(0, tab));
    if (Number.isSafeInteger(size) && size >= 0) sizes.set(line.slice(tab + 1), size);
  }
  return sizes;
}

function segmentFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) segmentFiles(path, out);
    else if (entry.isFile() && entry.name.endsWith(".log")) out.push(path);
  }
  return out;
}

/**
 * Cuts every segment under `dataDir` back to its durable size (the node must be down). Returns
 * what was cut, for the run's report.
 */
export function loseUnflushed(dataDir: string, journalPath: string): Truncation[] {
  const sizes = durableSizes(existsSync(journalPath) ? readFileSync(journalPath, "utf8") : "");
  const cut: Truncation[] = [];
  for (const file of segmentFiles(dataDir)) {
    const size = statSync(file).size;
    const durable = sizes.get(file) ?? 0;
    if (size > durable) {
      truncateSync(file, durable);
      cut.push({ file, from: size, to: durable });
    }
  }
  return cut;
}

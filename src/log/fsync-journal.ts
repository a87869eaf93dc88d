/**
 * A test-only record of what fsync made durable, for the chaos rig's "lose unflushed data" fault
 * (issue 17: Krill's stand-in for lazyfs, which is not packaged here). When the environment
 * variable KRILL_TEST_FSYNC_JOURNAL names a file, every completed fsync of a log file through the
 * file pool appends "<size>\t<path>\n": the file's size when the fsync was issued, which a crash
 * cannot take away. After a kill -9, chaos/src/unflushed.ts cuts every segment back to its last
 * recorded size (and a segment never fsynced to nothing), as a power loss would. Unset (always,
 * outside the chaos rig), nothing is recorded and nothing is read.
 */
import fs from "node:fs";

/** The journal's path, or undefined (read per fsync: cheap beside an fsync, and tests can set it). */
export function fsyncJournal(): string | undefined {
  const path = process.env.KRILL_TEST_FSYNC_JOURNAL;
  return path === undefined || path === "" ? undefined : path;
}

/** Records in `journal` that `path` was durable up to `size` bytes. */
export function recordDurableSize(journal: string, path: string, size: number): void {
  fs.appendFileSync(journal, `${size}\t${path}\n`);
}

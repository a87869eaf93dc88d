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

/**
 * Called just before an fsync of `fd` (the file at `path`): when the journal is on, notes the
 * size that fsync covers and returns what records it once the fsync succeeded; otherwise a no-op.
 */
export function journalFsync(path: string, fd: number): () => void {
  const journal = process.env.KRILL_TEST_FSYNC_JOURNAL;
  if (journal === undefined || journal === "") return NOTHING;
  const size = fs.fstatSync(fd).size;
  return () => fs.appendFileSync(journal, `${size}\t${path}\n`);
}

const NOTHING = (): void => {};

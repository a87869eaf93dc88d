/**
 * Kafka's text checkpoint files (CheckpointFile in Kafka): a version line, a count line, then one
 * entry per line, written to a temporary file, fsynced and renamed over the old one so a crash
 * leaves either the old or the new content, never a mix.
 *
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint, cleaner-offset-checkpoint:
 *     0 / N / "<topic> <partition> <offset>"
 *   leader-epoch-checkpoint (per partition): 0 / N / "<epoch> <startOffset>"
 *
 * Concurrency contract: `writeCheckpointLines` is synchronous (at shutdown, and when a new leader
 * epoch appears); the periodic writers use `writeCheckpointLinesAsync`, whose write, fsyncs and
 * rename run in libuv's thread pool, so the event loop never waits for the disk (an fsync waits
 * for the filesystem's journal and took up to 36 ms on the shared machine while producers
 * wrote: a stall of every request in flight, every 5 s for the high-watermark checkpoint). The
 * caller must not start a second write of the same file before the first has settled (both use
 * `<file>.tmp`).
 */
import fs from "node:fs";
import path from "node:path";
import { KrillError } from "../errors.js";
import { partitionDirName, type TopicPartition } from "./names.js";

const CHECKPOINT_VERSION = 0;
/** Bound on what a reader accepts, so a corrupt count cannot drive a huge allocation. */
const CHECKPOINT_BYTES_MAX = 64 * 1024 * 1024;

/** The text of a checkpoint file holding `lines`. */
export function checkpointText(lines: readonly string[]): string {
  return `${CHECKPOINT_VERSION}\n${lines.length}\n${lines.map((l) => `${l}\n`).join("")}`;
}

export function writeCheckpointLines(file: string, lines: readonly string[]): void {
  const tmp = `${file}.tmp`;
  const text = checkpointText(lines);
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    fsyncDir(path.dirname(file));
  } catch (cause) {
    throw new KrillError("LOG_IO", `Cannot write checkpoint ${file}`, { cause });
  }
}

/** `writeCheckpointLines` off the event loop: the same steps through fs.promises. */
export async function writeCheckpointLinesAsync(file: string, lines: readonly string[]): Promise<void> {
  const tmp = `${file}.tmp`;
  const text = checkpointText(lines);
  try {
    const handle = await fs.promises.open(tmp, "w");
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
    await fsyncDirAsync(path.dirname(file));
  } catch (cause) {
    throw new KrillError("LOG_IO", `Cannot write checkpoint ${file}`, { cause });
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, "r");
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** The entry lines of a checkpoint file; undefined if it does not exist. Malformed files throw. */
export function readCheckpointLines(file: string): string[] | undefined {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > CHECKPOINT_BYTES_MAX)
      throw new KrillError("CORRUPT_SEGMENT", `Checkpoint ${file} is ${size} bytes`);
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err instanceof KrillError
      ? err
      : new KrillError("LOG_IO", `Cannot read checkpoint ${file}`, { cause: err });
  }
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const version = lines[0]?.trim();
  if (version !== String(CHECKPOINT_VERSION)) {
    throw new KrillError("CORRUPT_SEGMENT", `Checkpoint ${file} has unsupported version ${version}`);
  }
  const count = Number(lines[1]?.trim());
  if (!Number.isInteger(count) || count < 0 || count !== lines.length - 2) {
    throw new KrillError(
      "CORRUPT_SEGMENT",
      `Checkpoint ${file} declares ${lines[1]} entries, has ${lines.length - 2}`,
    );
  }
  return lines.slice(2);
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Offsets per partition, as in recovery-point and log-start-offset checkpoints. */
export function writeOffsetCheckpoint(
  file: string,
  offsets: ReadonlyMap<string, { tp: TopicPartition; offset: number }>,
): void {
  writeCheckpointLines(file, offsetLines(offsets));
}

/** `writeOffsetCheckpoint` off the event loop (see `writeCheckpointLinesAsync`). */
export function writeOffsetCheckpointAsync(
  file: string,
  offsets: ReadonlyMap<string, { tp: TopicPartition; offset: number }>,
): Promise<void> {
  return writeCheckpointLinesAsync(file, offsetLines(offsets));
}

function offsetLines(offsets: ReadonlyMap<string, { tp: TopicPartition; offset: number }>): string[] {
  const lines: string[] = [];
  for (const { tp, offset } of offsets.values()) lines.push(`${tp.topic} ${tp.partition} ${offset}`);
  return lines;
}

/** Keyed by partition directory name (`topic-partition`). */
export function readOffsetCheckpoint(file: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = readCheckpointLines(file);
  if (lines === undefined) return out;
  for (const line of lines) {
    const parts = line.trim().split(/\s+/);
    const offset = Number(parts[2]);
    const partition = Number(parts[1]);
    if (parts.length !== 3 || !Number.isSafeInteger(offset) || !Number.isInteger(partition)) {
      throw new KrillError("CORRUPT_SEGMENT", `Malformed line ${JSON.stringify(line)} in ${file}`);
    }
    out.set(partitionDirName({ topic: parts[0]!, partition }), offset);
  }
  return out;
}

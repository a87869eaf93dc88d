/**
 * An exclusive lock on `<dir>/.lock` for every directory a broker writes (each of `log.dirs` and
 * the metadata log directory), as Kafka's LogManager and KafkaRaftManager take one: a second
 * broker started on the same directories would otherwise recover segments the first is still
 * writing and write the clean-shutdown marker while the first still runs, so a later crash of the
 * first would skip recovery.
 *
 * Kafka locks with `FileChannel.tryLock`, a POSIX advisory lock the kernel drops when the process
 * dies (so a `kill -9` leaves nothing stale). Node has no file-lock call, but its built-in SQLite
 * takes the same kind of lock: a connection in exclusive locking mode that has run one write
 * transaction holds an exclusive fcntl lock on the file until it is closed or the process ends,
 * and a second connection (from another process, or from this one) is refused with
 * "database is locked". So `.lock` is a small SQLite file rather than Kafka's empty one; its
 * content means nothing. The lock ranges overlap Java's whole-file lock, so a Kafka broker
 * holding one of these directories also keeps Krill out.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { KrillError } from "../errors.js";

export const LOCK_FILE_NAME = ".lock";

/**
 * The locks of one broker's directories; `release()` drops them all (idempotent). The locks live
 * as long as this object: node:sqlite closes a database it collects, so the owner must keep a
 * reference for as long as it uses the directories (the broker holds it until shutdown).
 */
export class DirLocks {
  readonly #held: { dir: string; db: DatabaseSync }[];

  private constructor(held: { dir: string; db: DatabaseSync }[]) {
    this.#held = held;
  }

  /**
   * Locks every directory (created if missing), or none: when one is held elsewhere the ones
   * taken so far are released and a KrillError with Kafka's message is thrown.
   */
  static acquire(dirs: readonly string[]): DirLocks {
    const held: { dir: string; db: DatabaseSync }[] = [];
    try {
      for (const dir of new Set(dirs.map((d) => path.resolve(d)))) {
        held.push({ dir, db: lockDir(dir) });
      }
    } catch (err) {
      for (const { db } of held) db.close();
      throw err;
    }
    return new DirLocks(held);
  }

  get dirs(): readonly string[] {
    return this.#held.map((h) => h.dir);
  }

  release(): void {
    for (const { db } of this.#held.splice(0)) {
      if (db.isOpen) db.close();
    }
  }
}

function lockDir(dir: string): DatabaseSync {
  mkdirSync(dir, { recursive: true });
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path.join(dir, LOCK_FILE_NAME));
  } catch (cause) {
    throw new KrillError("LOG_IO", `Disk error while locking directory ${dir}`, { cause });
  }
  try {
    // journal_mode=OFF: no journal file beside .lock. The empty write transaction takes the
    // exclusive lock, and exclusive locking mode keeps it after the commit.
    db.exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=OFF; BEGIN EXCLUSIVE; COMMIT;");
    return db;
  } catch (cause) {
    db.close();
    if (isBusy(cause)) {
      throw new KrillError(
        "STATE",
        `Failed to acquire lock on file .lock in ${dir}. A Kafka instance in another process or thread is using this directory.`,
        { cause },
      );
    }
    throw new KrillError("LOG_IO", `Disk error while locking directory ${dir}`, { cause });
  }
}

/** SQLITE_BUSY (5) or SQLITE_LOCKED (6), as the error's primary result code. */
function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown }).errcode;
  return typeof code === "number" && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/**
 * The aborted-transaction index of one partition (Kafka's TransactionIndex / `.txnindex`): for
 * every aborted transaction, the producer id, the first offset of its data and the offset of its
 * ABORT marker, so a read_committed Fetch can tell the consumer which of the records it receives
 * to drop (FetchResponse.aborted_transactions).
 *
 * Kafka keeps one `.txnindex` file per segment; Krill keeps one file per partition,
 * `krill-aborted.txnindex`, with Kafka's 34-byte entry layout (version int16 = 0, producerId
 * int64, firstOffset int64, lastOffset int64, lastStableOffset int64). An entry is appended when
 * an ABORT marker is written. On load, entries that ended before the log start or that start at
 * or after the log end (data lost in a crash) are dropped, and the producer-state replay after
 * the last snapshot adds the aborts the file missed (a crash between the marker append and the
 * index append); `add` ignores an entry it already has. A torn last entry is ignored.
 *
 * Memory: one small object per aborted transaction still in the log; entries below the log start
 * are dropped when the log start moves, so retention bounds it.
 *
 * Concurrency contract: synchronous, owned by one partition.
 */
import fs from "node:fs";
import path from "node:path";
import { KrillError } from "../../errors.js";

export const ABORTED_TXN_INDEX_FILE = "krill-aborted.txnindex";
const ENTRY_BYTES = 34;
const ENTRY_VERSION = 0;
/** Larger than any index this broker writes for a log it can hold; refuse to read more. */
const INDEX_BYTES_MAX = 512 * 1024 * 1024;

export interface AbortedTxn {
  readonly producerId: bigint;
  readonly firstOffset: number;
  /** Offset of the ABORT marker. */
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

export class AbortedTxnIndex {
  readonly #file: string;
  /** Ordered by lastOffset (markers are appended in offset order). */
  #entries: AbortedTxn[] = [];

  constructor(dir: string) {
    this.#file = path.join(dir, ABORTED_TXN_INDEX_FILE);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Reads the file, keeping entries inside [logStart, logEnd); rewrites it if some were dropped. */
  load(logStartOffset: number, logEndOffset: number): void {
    let buf: Buffer;
    try {
      const size = fs.statSync(this.#file).size;
      if (size > INDEX_BYTES_MAX) {
        throw new KrillError("CORRUPT_SEGMENT", `${this.#file} is ${size} bytes`);
      }
      buf = fs.readFileSync(this.#file);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
        this.#entries = [];
        return;
      }
      if (cause instanceof KrillError) throw cause;
      throw new KrillError("LOG_IO", `Cannot read ${this.#file}`, { cause });
    }
    const entries: AbortedTxn[] = [];
    let dropped = buf.length % ENTRY_BYTES !== 0;
    for (let o = 0; o + ENTRY_BYTES <= buf.length; o += ENTRY_BYTES) {
      const version = buf.readInt16BE(o);
      const entry: AbortedTxn = {
        producerId: buf.readBigInt64BE(o + 2),
        firstOffset: Number(buf.readBigInt64BE(o + 10)),
        lastOffset: Number(buf.readBigInt64BE(o + 18)),
        lastStableOffset: Number(buf.readBigInt64BE(o + 26)),
      };
      const sane =
        version === ENTRY_VERSION && entry.firstOffset >= 0 && entry.lastOffset >= entry.firstOffset;
      if (!sane || entry.lastOffset < logStartOffset || entry.lastOffset >= logEndOffset) {
        dropped = true;
        continue;
      }
      entries.push(entry);
    }
    entries.sort((a, b) => a.lastOffset - b.lastOffset);
    this.#entries = entries;
    if (dropped) this.#rewrite();
  }

  /** Records an aborted transaction (ignored if already present) and appends it to the file. */
  add(entry: AbortedTxn): void {
    const last = this.#entries.at(-1);
    if (last !== undefined && entry.lastOffset <= last.lastOffset) {
      if (this.#entries.some((e) => e.lastOffset === entry.lastOffset && e.producerId === entry.producerId)) {
        return;
      }
      this.#entries.push(entry);
      this.#entries.sort((a, b) => a.lastOffset - b.lastOffset);
    } else {
      this.#entries.push(entry);
    }
    try {
      fs.appendFileSync(this.#file, encodeEntry(entry));
    } catch (cause) {
      throw new KrillError("LOG_IO", `Cannot append to ${this.#file}`, { cause });
    }
  }

  /**
   * Aborted transactions whose data may lie in [fetchOffset, upperBoundOffset): those whose
   * marker is at or after the fetch offset and whose first offset is below the bound
   * (Kafka's LogSegment.collectAbortedTxns).
   */
  collect(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    // Entries are ordered by lastOffset: skip those that ended before the fetch offset.
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.#entries.length; i++) {
      const e = this.#entries[i]!;
      if (e.firstOffset < upperBoundOffset) out.push(e);
    }
    return out;
  }

  /** Forgets entries that ended before the new log start. */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    const kept = this.#entries.filter((e) => e.lastOffset >= logStartOffset);
    if (kept.length !== this.#entries.length) {
      this.#entries = kept;
      this.#rewrite();
    }
  }

  #rewrite(): void {
    const tmp = `${this.#file}.tmp`;
    try {
      fs.writeFileSync(tmp, Buffer.concat(this.#entries.map(encodeEntry)));
      fs.renameSync(tmp, this.#file);
    } catch (cause) {
      throw new KrillError("LOG_IO", `Cannot rewrite ${this.#file}`, { cause });
    }
  }
}

function encodeEntry(e: AbortedTxn): Buffer {
  const buf = Buffer.alloc(ENTRY_BYTES);
  buf.writeInt16BE(ENTRY_VERSION, 0);
  buf.writeBigInt64BE(e.producerId, 2);
  buf.writeBigInt64BE(BigInt(e.firstOffset), 10);
  buf.writeBigInt64BE(BigInt(e.lastOffset), 18);
  buf.writeBigInt64BE(BigInt(e.lastStableOffset), 26);
  return buf;
}

// The history a chaos run records and the checker reads, in the shape of Jepsen's Kafka workload
// (jepsen-io/jepsen, jepsen/src/jepsen/tests/kafka.clj): every client operation is one completed
// op with a type (ok, fail, info) and a list of micro-operations, each a send or a poll.
//
// A key names one topic-partition ("topic/partition"); values are unique strings chosen by the
// client that sent them. One op per line in JSON (JSONL), one file per client process; the runner
// merges the files by completion time and numbers the ops.
//
//   {"process":"py-1","type":"ok","f":"send","value":[["send","t/0",[17,"py-1:4"]]],"time":…}
//   {"process":"py-1","type":"ok","f":"poll","value":[["poll",{"t/0":[[16,"js-0:9"],[17,"py-1:4"]]}]]}
//   {"process":"py-1","type":"ok","f":"assign","value":["t/0","t/1"]}
//
// Types, as in Jepsen: ok (the operation took effect, offsets known), fail (it certainly did not:
// an aborted transaction, a send refused before it reached the log), info (unknown: a timeout or a
// lost connection; it may or may not have taken effect).
import { readFileSync } from "node:fs";

export type Key = string;
export type Value = string;
export type OpType = "ok" | "fail" | "info";
/**
 * send: only sends; poll: only polls; txn: a transaction of both; assign: the set of keys the
 * consumer now owns (after an assign, a group rebalance, or a revocation), which resets what the
 * consumer is expected to read next for keys it lost.
 */
export type OpF = "send" | "poll" | "txn" | "assign";

/** A send of `value` to `key`; the offset is null when it is not known (a failed or unknown send). */
export type SendMop = ["send", Key, [number | null, Value]];
/** A poll's records, by key, in the order the consumer returned them. */
export type PollMop = ["poll", Record<Key, [number, Value][]>];
export type Mop = SendMop | PollMop;

export interface Op {
  /** Position in the merged history (0, 1, ...), assigned when histories are merged. */
  index: number;
  /** The client (one client is one process in Jepsen's sense: its ops are sequential). */
  process: string;
  type: OpType;
  f: OpF;
  /** Micro-operations for send, poll and txn; for assign the keys now assigned. */
  value: Mop[] | Key[];
  /** Wall-clock milliseconds when the operation started and completed. */
  time?: number;
  end?: number;
  /** Why an op failed or is unknown. */
  error?: string;
}

export function isMopOp(op: Op): op is Op & { value: Mop[] } {
  return op.f === "send" || op.f === "poll" || op.f === "txn";
}

/** Keys to the values an op sent, in order (for ok, info and fail ops alike). */
export function opWrites(op: Op): Map<Key, Value[]> {
  const out = new Map<Key, Value[]>();
  if (!isMopOp(op)) return out;
  for (const mop of op.value) {
    if (mop[0] !== "send") continue;
    const [, key, [, value]] = mop;
    let list = out.get(key);
    if (list === undefined) {
      list = [];
      out.set(key, list);
    }
    list.push(value);
  }
  return out;
}

/** Keys to the [offset, value] pairs an op sent, in order. */
export function opWritePairs(op: Op): Map<Key, [number | null, Value][]> {
  const out = new Map<Key, [number | null, Value][]>();
  if (!isMopOp(op)) return out;
  for (const mop of op.value) {
    if (mop[0] !== "send") continue;
    const [, key, pair] = mop;
    let list = out.get(key);
    if (list === undefined) {
      list = [];
      out.set(key, list);
    }
    list.push(pair);
  }
  return out;
}

/** Keys to the [offset, value] pairs an op polled, in the order it polled them. */
export function opReadPairs(op: Op): Map<Key, [number, Value][]> {
  const out = new Map<Key, [number, Value][]>();
  if (!isMopOp(op)) return out;
  for (const mop of op.value) {
    if (mop[0] !== "poll") continue;
    for (const [key, pairs] of Object.entries(mop[1])) {
      let list = out.get(key);
      if (list === undefined) {
        list = [];
        out.set(key, list);
      }
      for (const pair of pairs) list.push(pair);
    }
  }
  return out;
}

/** Keys to the values an op polled, in the order it polled them. */
export function opReads(op: Op): Map<Key, Value[]> {
  const out = new Map<Key, Value[]>();
  for (const [key, pairs] of opReadPairs(op)) {
    out.set(
      key,
      pairs.map((p) => p[1]),
    );
  }
  return out;
}

/** Checks one parsed line; throws with the reason when it is not an op. */
export function parseOp(raw: unknown, where: string): Omit<Op, "index"> {
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (typeof raw !== "object" || raw === null) fail("not an object");
  const o = raw as Record<string, unknown>;
  if (typeof o.process !== "string") fail("process is not a string");
  if (o.type !== "ok" && o.type !== "fail" && o.type !== "info") fail(`type ${String(o.type)}`);
  if (o.f !== "send" && o.f !== "poll" && o.f !== "txn" && o.f !== "assign") fail(`f ${String(o.f)}`);
  if (!Array.isArray(o.value)) fail("value is not an array");
  const value = o.value as unknown[];
  if (o.f === "assign") {
    if (!value.every((k) => typeof k === "string")) fail("assign keys are not strings");
  } else {
    for (const mop of value) {
      if (!Array.isArray(mop)) fail("micro-op is not an array");
      const m = mop as unknown[];
      if (m[0] === "send") {
        const pair = m[2];
        if (typeof m[1] !== "string" || !Array.isArray(pair) || pair.length !== 2) fail("malformed send");
        const [offset, v] = pair as unknown[];
        if (!(offset === null || Number.isSafeInteger(offset)) || typeof v !== "string")
          fail("malformed send");
      } else if (m[0] === "poll") {
        if (typeof m[1] !== "object" || m[1] === null) fail("malformed poll");
        for (const pairs of Object.values(m[1] as object)) {
          if (!Array.isArray(pairs)) fail("malformed poll");
          for (const p of pairs as unknown[]) {
            if (!Array.isArray(p) || !Number.isSafeInteger(p[0]) || typeof p[1] !== "string") {
              fail("malformed poll pair");
            }
          }
        }
      } else {
        fail(`micro-op ${String(m[0])}`);
      }
    }
  }
  return o as unknown as Omit<Op, "index">;
}

/** Reads one client's JSONL history. A torn last line (the client was killed mid-write) is dropped. */
export function readHistoryFile(path: string): Omit<Op, "index">[] {
  const lines = readFileSync(path, "utf8").split("\n");
  const out: Omit<Op, "index">[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      if (i === lines.length - 1) return; // torn final line, no newline after it
      throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
    }
    out.push(parseOp(parsed, `${path}:${i + 1}`));
  });
  return out;
}

/**
 * Merges per-client histories into one, ordered by completion time (each client's own order kept,
 * since a client's ops are sequential), and numbers the ops.
 */
export function mergeHistories(histories: Omit<Op, "index">[][]): Op[] {
  const tagged: { op: Omit<Op, "index">; source: number; seq: number }[] = [];
  histories.forEach((h, source) => {
    h.forEach((op, seq) => {
      tagged.push({ op, source, seq });
    });
  });
  tagged.sort((a, b) => {
    if (a.source === b.source) return a.seq - b.seq;
    return (a.op.end ?? a.op.time ?? 0) - (b.op.end ?? b.op.time ?? 0) || a.source - b.source;
  });
  return tagged.map((t, index) => ({ ...t.op, index }));
}

/** Numbers ops written by hand (tests) or read in order. */
export function indexHistory(ops: Omit<Op, "index">[]): Op[] {
  return ops.map((op, index) => ({ ...op, index }));
}

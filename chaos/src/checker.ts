// The history checker: Jepsen's Kafka workload analysis (jepsen-io/jepsen,
// jepsen/src/jepsen/tests/kafka.clj, whose docstring is the specification) in TypeScript.
//
// 1. Version orders. Every (key, offset) seen by a poll, or by a send whose effect is proven (an ok
//    send, or an info send one of whose values some ok poll read), goes into a log per key. One
//    offset holding two values is an *inconsistent offset*. Offsets are then replaced by dense
//    indexes (transaction markers take offsets no record has), which give each key a total order.
// 2. Per value: a value polled whose send failed is an *aborted read* (G1a); a value at two offsets
//    is a *duplicate*; a transaction polling its own send is a *precommitted read*.
// 3. Lost writes: for each key, the highest index any ok poll read bounds what must have been read:
//    every proven send at or below it that no ok poll read is *lost*. An ok send never read at all
//    is *unseen* (an error once the run ends with polls that read every partition to its end).
// 4. Order: consecutive polls (or sends) of one key inside one op, and one process's successive
//    ops, must move exactly one index forward: a larger step is a *skip*, a step of zero or back is
//    *nonmonotonic* (internal and external, for polls and for sends).
// 5. Transactions: ww edges (T1 sent the value right before T2's in a key's order) and wr edges (T2
//    polled T1's value) between ops; Tarjan's SCCs, then a cycle in each: ww only is G0, wr only is
//    G1c (circular information flow), ww and wr mixed is G1c-ww.
//
// Steps 1-4 are linear in the size of the history (plus a sort of each key's offsets); step 5 is
// linear to find the components and searches for one cycle per component.
//
// Allowed, as in Jepsen's `allowed-error-types`: int-send-skip (other producers' records interleave
// with one op's sends), G0 (Kafka does not isolate writes) and G1c-ww (Jepsen allows G1c once ww
// dependencies are inferred: t0 <ww t1 <wr t0 is normal without write isolation).
import { type CycleStep, DepGraph } from "./graph.js";
import {
  isMopOp,
  type Key,
  type Mop,
  type Op,
  type OpType,
  opReadPairs,
  opReads,
  opWritePairs,
  opWrites,
  type Value,
} from "./history.js";

export const ANOMALY_TYPES = [
  "inconsistent-offsets",
  "duplicate",
  "lost-write",
  "unseen",
  "aborted-read",
  "precommitted-read",
  "int-poll-skip",
  "int-nonmonotonic-poll",
  "int-send-skip",
  "int-nonmonotonic-send",
  "poll-skip",
  "nonmonotonic-poll",
  "nonmonotonic-send",
  "G0",
  "G1c",
  "G1c-ww",
] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];

export const DEFAULT_ALLOWED: ReadonlySet<AnomalyType> = new Set<AnomalyType>([
  "int-send-skip",
  "G0",
  "G1c-ww",
]);

/** An op as shown around an anomaly: its micro-ops trimmed to the key and offsets concerned. */
export interface ContextOp {
  index: number;
  process: string;
  type: OpType;
  f: Op["f"];
  value: Mop[] | Key[];
  error?: string;
}

export interface Anomaly {
  type: AnomalyType;
  key?: Key;
  offset?: number;
  value?: Value;
  values?: Value[];
  offsets?: number[];
  /** Index distance in the key's order (skips and nonmonotonic cases). */
  delta?: number;
  /** Lost writes: the highest offset an ok poll read of this key. */
  maxReadOffset?: number;
  /** Values stepped over by a skip. */
  skipped?: Value[];
  /** Indexes of the ops involved (writer, readers, the two ops of an external case). */
  ops: number[];
  cycle?: CycleStep[];
  /** The history around it: set for the first `contextLimit` anomalies of each type. */
  context?: ContextOp[];
}

export interface CheckOptions {
  /** Anomaly types that do not make the history invalid. */
  allowed?: ReadonlySet<AnomalyType>;
  /** Anomalies of one type that get their surrounding history attached (default 20). */
  contextLimit?: number;
  /** How many offsets (or values) either side of the anomaly the context keeps (default 3). */
  contextRadius?: number;
}

export interface CheckStats {
  ops: number;
  byF: Record<string, Record<OpType, number>>;
  sends: Record<OpType, number>;
  polledRecords: number;
  distinctValuesRead: number;
  keys: number;
}

export interface CheckResult {
  valid: boolean;
  /** Types found that are not allowed. */
  badTypes: AnomalyType[];
  counts: Partial<Record<AnomalyType, number>>;
  anomalies: Partial<Record<AnomalyType, Anomaly[]>>;
  stats: CheckStats;
}

/** A key's order: dense indexes to values and values to indexes, plus the raw log. */
export interface VersionOrder {
  /** Dense index -> the value at that offset (one of them, when the offset is inconsistent). */
  byIndex: Value[];
  /** Value -> its dense index (the last one, when duplicated). */
  byValue: Map<Value, number>;
  /** Dense index -> every value seen at that offset. */
  log: Set<Value>[];
  /** Dense index -> offset. */
  offsets: number[];
}

type ByType = Record<OpType, Map<Key, Set<Value>>>;

/**
 * opReads and opWrites of every op, computed once (the checks consult them many times). Ops are
 * frozen once checked, so the cache is keyed by the op object.
 */
const readsCache = new WeakMap<Op, Map<Key, Value[]>>();
const writesCache = new WeakMap<Op, Map<Key, Value[]>>();
function reads(op: Op): Map<Key, Value[]> {
  let r = readsCache.get(op);
  if (r === undefined) {
    r = opReads(op);
    readsCache.set(op, r);
  }
  return r;
}
function writes(op: Op): Map<Key, Value[]> {
  let w = writesCache.get(op);
  if (w === undefined) {
    w = opWrites(op);
    writesCache.set(op, w);
  }
  return w;
}

function byType(history: Op[], pick: (op: Op) => Map<Key, Value[]>, fs: ReadonlySet<string>): ByType {
  const out: ByType = { ok: new Map(), info: new Map(), fail: new Map() };
  for (const op of history) {
    if (!fs.has(op.f)) continue;
    const target = out[op.type];
    for (const [key, values] of pick(op)) {
      let set = target.get(key);
      if (set === undefined) {
        set = new Set();
        target.set(key, set);
      }
      for (const v of values) set.add(v);
    }
  }
  return out;
}

const SENDERS = new Set(["send", "txn"]);
const POLLERS = new Set(["poll", "txn"]);

/** True when the op surely took effect: ok, or info with one of its values read by an ok poll. */
function mustHaveCommitted(readsByType: ByType, op: Op): boolean {
  if (op.type === "ok") return true;
  if (op.type !== "info") return false;
  for (const [key, values] of writes(op)) {
    const read = readsByType.ok.get(key);
    if (read !== undefined && values.some((v) => read.has(v))) return true;
  }
  return false;
}

/** Builds each key's order and reports offsets holding two values. */
export function versionOrders(
  history: Op[],
  readsByType: ByType,
): { orders: Map<Key, VersionOrder>; inconsistent: Anomaly[] } {
  const logs = new Map<Key, Map<number, Set<Value>>>();
  const note = (key: Key, offset: number, value: Value): void => {
    let log = logs.get(key);
    if (log === undefined) {
      log = new Map();
      logs.set(key, log);
    }
    let set = log.get(offset);
    if (set === undefined) {
      set = new Set();
      log.set(offset, set);
    }
    set.add(value);
  };
  for (const op of history) {
    if (!isMopOp(op)) continue;
    // Polls count whatever the op's fate: a consumer must only ever be handed safe data. Sends
    // count only when the op surely took effect.
    const sendsCount = mustHaveCommitted(readsByType, op);
    for (const mop of op.value) {
      if (mop[0] === "send") {
        const [offset, value] = mop[2];
        if (sendsCount && offset !== null) note(mop[1], offset, value);
      } else {
        for (const [key, pairs] of Object.entries(mop[1])) for (const [o, v] of pairs) note(key, o, v);
      }
    }
  }
  const orders = new Map<Key, VersionOrder>();
  const inconsistent: Anomaly[] = [];
  for (const [key, log] of logs) {
    const offsets = [...log.keys()].sort((a, b) => a - b);
    const order: VersionOrder = { byIndex: [], byValue: new Map(), log: [], offsets };
    offsets.forEach((offset, index) => {
      const values = log.get(offset)!;
      const sorted = [...values].sort();
      order.log.push(values);
      order.byIndex.push(sorted[0]!);
      for (const v of sorted) order.byValue.set(v, index);
      if (values.size > 1)
        inconsistent.push({ type: "inconsistent-offsets", key, offset, values: sorted, ops: [] });
    });
    orders.set(key, order);
  }
  return { orders, inconsistent };
}

interface Analysis {
  history: Op[];
  orders: Map<Key, VersionOrder>;
  readsByType: ByType;
  writesByType: ByType;
  /** key -> value -> the op that sent it (the last such op if a value was sent twice). */
  writerOf: Map<Key, Map<Value, Op>>;
  /** key -> value -> the ok ops that polled it. */
  readersOf: Map<Key, Map<Value, Op[]>>;
}

function buildWriterReaders(history: Op[]): Pick<Analysis, "writerOf" | "readersOf"> {
  const writerOf = new Map<Key, Map<Value, Op>>();
  const readersOf = new Map<Key, Map<Value, Op[]>>();
  for (const op of history) {
    for (const [key, values] of writes(op)) {
      let m = writerOf.get(key);
      if (m === undefined) {
        m = new Map();
        writerOf.set(key, m);
      }
      for (const v of values) m.set(v, op);
    }
    if (op.type !== "ok") continue;
    for (const [key, values] of reads(op)) {
      let m = readersOf.get(key);
      if (m === undefined) {
        m = new Map();
        readersOf.set(key, m);
      }
      for (const v of values) {
        const list = m.get(v);
        if (list === undefined) m.set(v, [op]);
        else if (list[list.length - 1] !== op) list.push(op);
      }
    }
  }
  return { writerOf, readersOf };
}

function duplicates(orders: Map<Key, VersionOrder>): Anomaly[] {
  const out: Anomaly[] = [];
  for (const [key, order] of orders) {
    const seen = new Map<Value, number[]>();
    order.log.forEach((values, index) => {
      for (const v of values) {
        const list = seen.get(v);
        if (list === undefined) seen.set(v, [order.offsets[index]!]);
        else list.push(order.offsets[index]!);
      }
    });
    for (const [value, offsets] of seen) {
      if (offsets.length > 1) out.push({ type: "duplicate", key, value, offsets, ops: [] });
    }
  }
  return out;
}

function abortedReads(a: Analysis): Anomaly[] {
  const out: Anomaly[] = [];
  for (const op of a.history) {
    if (op.type !== "ok" || !POLLERS.has(op.f)) continue;
    for (const [key, values] of reads(op)) {
      const failed = a.writesByType.fail.get(key);
      if (failed === undefined) continue;
      for (const value of values) {
        if (!failed.has(value)) continue;
        const writer = a.writerOf.get(key)?.get(value);
        out.push({ type: "aborted-read", key, value, ops: writer ? [writer.index, op.index] : [op.index] });
      }
    }
  }
  return out;
}

function precommittedReads(history: Op[]): Anomaly[] {
  const out: Anomaly[] = [];
  for (const op of history) {
    if (op.f !== "txn") continue;
    const polled = reads(op);
    for (const [key, values] of writes(op)) {
      const read = new Set(polled.get(key) ?? []);
      const bad = values.find((v) => read.has(v));
      if (bad !== undefined) out.push({ type: "precommitted-read", key, value: bad, ops: [op.index] });
    }
  }
  return out;
}

function lostWrites(a: Analysis): { lost: Anomaly[]; unseen: Anomaly[] } {
  const lost: Anomaly[] = [];
  const unseen: Anomaly[] = [];
  for (const [key, read] of a.readsByType.ok) {
    const order = a.orders.get(key);
    if (order === undefined) continue;
    const firstIndex = new Map<Value, number>();
    const lastIndex = new Map<Value, number>();
    order.log.forEach((values, index) => {
      for (const v of values) {
        if (!firstIndex.has(v)) firstIndex.set(v, index);
        lastIndex.set(v, index);
      }
    });
    // The highest index that some ok poll proves was readable.
    let bound = -1;
    for (const v of read) bound = Math.max(bound, firstIndex.get(v) ?? -1);
    const maxReadValue = bound >= 0 ? order.byIndex[bound] : undefined;
    const maxReader = maxReadValue === undefined ? undefined : a.readersOf.get(key)?.get(maxReadValue)?.[0];
    for (const [value, last] of lastIndex) {
      if (last > bound || read.has(value)) continue;
      const writer = a.writerOf.get(key)?.get(value);
      // Values only a poll saw (a failed or info op's) cannot be lost by the log's fault.
      if (writer === undefined || !mustHaveCommitted(a.readsByType, writer)) continue;
      lost.push({
        type: "lost-write",
        key,
        value,
        offset: order.offsets[firstIndex.get(value)!],
        maxReadOffset: order.offsets[bound],
        ops: maxReader ? [writer.index, maxReader.index] : [writer.index],
      });
    }
  }
  const lostSet = new Set(lost.map((l) => `${l.key}\u0000${l.value}`));
  for (const op of a.history) {
    if (op.type !== "ok" || !SENDERS.has(op.f)) continue;
    for (const [key, pairs] of opWritePairs(op)) {
      const read = a.readsByType.ok.get(key);
      for (const [offset, value] of pairs) {
        if (read?.has(value) || lostSet.has(`${key}\u0000${value}`)) continue;
        unseen.push({ type: "unseen", key, value, ...(offset !== null && { offset }), ops: [op.index] });
      }
    }
  }
  return { lost, unseen };
}

/** Steps between successive values of one key: >1 is a skip, <1 is nonmonotonic. */
function stepCases(
  order: VersionOrder | undefined,
  v1: Value,
  v2: Value,
): { delta: number; skipped?: Value[] } | null {
  const i1 = order?.byValue.get(v1);
  const i2 = order?.byValue.get(v2);
  if (order === undefined || i1 === undefined || i2 === undefined) return null;
  const delta = i2 - i1;
  if (delta === 1) return null;
  return delta > 1 ? { delta, skipped: order.byIndex.slice(i1 + 1, i2) } : { delta };
}

function internalCases(a: Analysis): Anomaly[] {
  const out: Anomaly[] = [];
  for (const op of a.history) {
    for (const [kind, pick] of [
      ["poll", reads],
      ["send", writes],
    ] as const) {
      for (const [key, values] of pick(op)) {
        const order = a.orders.get(key);
        for (let i = 1; i < values.length; i++) {
          const c = stepCases(order, values[i - 1]!, values[i]!);
          if (c === null) continue;
          const type: AnomalyType =
            c.delta > 1 ? (kind === "poll" ? "int-poll-skip" : "int-send-skip") : `int-nonmonotonic-${kind}`;
          out.push({ type, key, values: [values[i - 1]!, values[i]!], ...c, ops: [op.index] });
        }
      }
    }
  }
  return out;
}

/**
 * One process's ops in order: each key's first poll (send) in an op must follow right after the
 * last one the process's previous ok op polled (sent). An assign keeps only the keys still owned.
 */
function externalCases(a: Analysis): Anomaly[] {
  const out: Anomaly[] = [];
  const lastRead = new Map<string, Map<Key, Op>>();
  const lastSent = new Map<string, Map<Key, Op>>();
  const state = (m: Map<string, Map<Key, Op>>, p: string): Map<Key, Op> => {
    let s = m.get(p);
    if (s === undefined) {
      s = new Map();
      m.set(p, s);
    }
    return s;
  };
  for (const op of a.history) {
    const readKeys = state(lastRead, op.process);
    const sendKeys = state(lastSent, op.process);
    if (op.f === "assign") {
      if (op.type !== "ok") continue;
      const keep = new Set(op.value as Key[]);
      for (const k of [...readKeys.keys()]) if (!keep.has(k)) readKeys.delete(k);
      for (const k of [...sendKeys.keys()]) if (!keep.has(k)) sendKeys.delete(k);
      continue;
    }
    if (op.type === "fail") continue;
    for (const [kind, pick, last] of [
      ["poll", reads, readKeys],
      ["send", writes, sendKeys],
    ] as const) {
      // As in Jepsen, polls are followed through ok ops only; sends through ok and info ops.
      if (kind === "poll" && op.type !== "ok") continue;
      for (const [key, values] of pick(op)) {
        const prev = last.get(key);
        last.set(key, op);
        if (prev === undefined) continue;
        const prevValues = pick(prev).get(key)!;
        const c = stepCases(a.orders.get(key), prevValues[prevValues.length - 1]!, values[0]!);
        if (c === null) continue;
        // Jepsen does not report external send skips: other producers interleave between ops.
        if (kind === "send" && c.delta > 1) continue;
        const type: AnomalyType = c.delta > 1 ? "poll-skip" : `nonmonotonic-${kind}`;
        out.push({
          type,
          key,
          values: [prevValues[prevValues.length - 1]!, values[0]!],
          ...c,
          ops: [prev.index, op.index],
        });
      }
    }
  }
  return out;
}

function cycles(a: Analysis): Anomaly[] {
  const graph = new DepGraph();
  const inGraph = (op: Op): boolean => isMopOp(op) && mustHaveCommitted(a.readsByType, op);
  // ww: the writer of each value follows the writer of the value right before it in the key's order.
  for (const [key, order] of a.orders) {
    const writers = a.writerOf.get(key);
    if (writers === undefined) continue;
    for (let i = 1; i < order.byIndex.length; i++) {
      const w1 = writers.get(order.byIndex[i - 1]!);
      const w2 = writers.get(order.byIndex[i]!);
      if (w1 === undefined || w2 === undefined || !inGraph(w1) || !inGraph(w2)) continue;
      graph.link(w1.index, w2.index, "ww", { key, value: order.byIndex[i - 1]!, next: order.byIndex[i]! });
    }
  }
  // wr: every ok poll of a value follows its writer.
  for (const [key, readers] of a.readersOf) {
    const writers = a.writerOf.get(key);
    for (const [value, ops] of readers) {
      const w = writers?.get(value);
      if (w === undefined || !inGraph(w)) continue;
      for (const r of ops) if (isMopOp(r)) graph.link(w.index, r.index, "wr", { key, value });
    }
  }
  const out: Anomaly[] = [];
  const report = (type: AnomalyType, cycle: CycleStep[] | null): void => {
    if (cycle === null) return;
    out.push({ type, ops: cycle.map((s) => s.from), cycle });
  };
  for (const c of graph.components(["ww"])) report("G0", graph.cycleThrough(c, ["ww"], "ww"));
  for (const c of graph.components(["wr"])) report("G1c", graph.cycleThrough(c, ["wr"], "wr"));
  const pureWr = new Set(out.filter((x) => x.type === "G1c").flatMap((x) => x.ops));
  for (const c of graph.components(["ww", "wr"])) {
    const cycle = graph.cycleThrough(c, ["ww", "wr"], "wr");
    if (cycle === null || cycle.every((s) => s.kind === "wr") || cycle.every((s) => pureWr.has(s.from)))
      continue;
    report("G1c-ww", cycle);
  }
  return out;
}

function stats(a: Analysis): CheckStats {
  const byF: CheckStats["byF"] = {};
  const sends: Record<OpType, number> = { ok: 0, info: 0, fail: 0 };
  let polledRecords = 0;
  const readValues = new Set<string>();
  for (const op of a.history) {
    byF[op.f] ??= { ok: 0, info: 0, fail: 0 };
    byF[op.f]![op.type]++;
    if (!isMopOp(op)) continue;
    for (const mop of op.value) {
      if (mop[0] === "send") sends[op.type]++;
      else
        for (const [key, pairs] of Object.entries(mop[1])) {
          polledRecords += pairs.length;
          for (const p of pairs) readValues.add(`${key}\u0000${p[1]}`);
        }
    }
  }
  return {
    ops: a.history.length,
    byF,
    sends,
    polledRecords,
    distinctValuesRead: readValues.size,
    keys: a.orders.size,
  };
}

// --- The history around an anomaly ------------------------------------------------------------

function trimOp(
  op: Op,
  key: Key,
  keepPair: (offset: number | null, value: Value, i: number, all: Value[]) => boolean,
): ContextOp | null {
  if (!isMopOp(op)) return null;
  const value: Mop[] = [];
  for (const mop of op.value) {
    if (mop[0] === "send") {
      if (mop[1] === key && keepPair(mop[2][0], mop[2][1], 0, [mop[2][1]])) value.push(mop);
    } else {
      const pairs = mop[1][key];
      if (pairs === undefined) continue;
      const all = pairs.map((p) => p[1]);
      const kept = pairs.filter((p, i) => keepPair(p[0], p[1], i, all));
      if (kept.length > 0) value.push(["poll", { [key]: kept }]);
    }
  }
  if (value.length === 0) return null;
  return {
    index: op.index,
    process: op.process,
    type: op.type,
    f: op.f,
    value,
    ...(op.error !== undefined && { error: op.error }),
  };
}

function wholeOp(op: Op): ContextOp {
  return {
    index: op.index,
    process: op.process,
    type: op.type,
    f: op.f,
    value: op.value,
    ...(op.error !== undefined && { error: op.error }),
  };
}

function attachContext(a: Analysis, found: Anomaly[], limit: number, radius: number): void {
  const opsByKey = new Map<Key, Op[]>();
  for (const op of a.history) {
    if (!isMopOp(op)) continue;
    const keys = new Set<Key>([...writes(op).keys(), ...opReadPairs(op).keys()]);
    for (const k of keys) {
      let list = opsByKey.get(k);
      if (list === undefined) {
        list = [];
        opsByKey.set(k, list);
      }
      list.push(op);
    }
  }
  const perType = new Map<AnomalyType, number>();
  for (const anomaly of found) {
    const n = perType.get(anomaly.type) ?? 0;
    if (n >= limit) continue;
    perType.set(anomaly.type, n + 1);
    if (anomaly.cycle !== undefined || anomaly.key === undefined) {
      anomaly.context = anomaly.ops.map((i) => wholeOp(a.history[i]!));
      continue;
    }
    const key = anomaly.key;
    const order = a.orders.get(key);
    // Center on offsets when the anomaly has them, else on the values it names.
    const centers = new Set<number>();
    for (const o of [anomaly.offset, ...(anomaly.offsets ?? [])]) if (o !== undefined) centers.add(o);
    const centerValues = new Set<Value>(
      [anomaly.value, ...(anomaly.values ?? [])].filter((v) => v !== undefined),
    );
    if (centers.size === 0 && order !== undefined) {
      for (const v of centerValues) {
        const i = order.byValue.get(v);
        if (i !== undefined) centers.add(order.offsets[i]!);
      }
    }
    const nearOffset = (o: number | null): boolean =>
      o !== null && [...centers].some((c) => Math.abs(o - c) <= radius);
    const involved = new Set(anomaly.ops);
    const context: ContextOp[] = [];
    for (const op of opsByKey.get(key) ?? []) {
      const trimmed = trimOp(op, key, (o, v, i, all) => {
        if (nearOffset(o) || centerValues.has(v)) return true;
        // Values without a known offset: keep those within `radius` of a named value in the op.
        for (let j = Math.max(0, i - radius); j <= Math.min(all.length - 1, i + radius); j++) {
          if (centerValues.has(all[j]!)) return true;
        }
        return false;
      });
      if (trimmed !== null) context.push(trimmed);
      else if (involved.has(op.index)) context.push(wholeOp(op));
    }
    anomaly.context = context;
  }
}

/** Checks a history (ops in order, numbered 0..n-1). */
export function check(history: Op[], options: CheckOptions = {}): CheckResult {
  history.forEach((op, i) => {
    if (op.index !== i) throw new Error(`op ${i} has index ${op.index}; number the history first`);
  });
  const readsByType = byType(history, reads, POLLERS);
  const writesByType = byType(history, writes, SENDERS);
  const { orders, inconsistent } = versionOrders(history, readsByType);
  const a: Analysis = { history, orders, readsByType, writesByType, ...buildWriterReaders(history) };
  const { lost, unseen } = lostWrites(a);
  const found: Anomaly[] = [
    ...inconsistent,
    ...duplicates(orders),
    ...lost,
    ...unseen,
    ...abortedReads(a),
    ...precommittedReads(history),
    ...internalCases(a),
    ...externalCases(a),
    ...cycles(a),
  ];
  attachContext(a, found, options.contextLimit ?? 20, options.contextRadius ?? 3);
  const allowed = options.allowed ?? DEFAULT_ALLOWED;
  const anomalies: Partial<Record<AnomalyType, Anomaly[]>> = {};
  const counts: Partial<Record<AnomalyType, number>> = {};
  for (const x of found) {
    const list = anomalies[x.type] ?? [];
    list.push(x);
    anomalies[x.type] = list;
    counts[x.type] = (counts[x.type] ?? 0) + 1;
  }
  const badTypes = ANOMALY_TYPES.filter((t) => counts[t] !== undefined && !allowed.has(t));
  return { valid: badTypes.length === 0, badTypes, counts, anomalies, stats: stats(a) };
}

// Generates histories of a correct Kafka-like system from a seed, for the checker's property tests:
// partitions are logs; producers send batches (idempotent: in order, once) that are ok with offsets,
// or info (timed out: appended or not, by a coin); transactions append their sends and one marker
// and are committed (ok) or aborted (fail, invisible to read_committed polls); consumers read
// sequentially from their position, stop at an open transaction (there are none: transactions
// here are atomic), skip markers and aborted records, are reassigned now and then (an assign op, a
// new position from the last committed one), and the history ends with final polls that read
// every key to its end.
import type { Key, Mop, Op, OpType } from "../../chaos/src/history.js";
import { prng } from "../../chaos/src/schedule.js";

interface Entry {
  value: string | null; // null: a transaction marker
  visible: boolean;
}

export function cleanHistory(seed: number, steps = 200): Op[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const keys: Key[] = ["t/0", "t/1", "t/2"];
  const logs = new Map<Key, Entry[]>(keys.map((k) => [k, []]));
  const processes = ["p0", "p1", "p2", "p3"];
  // Per process, per key: the next offset to read.
  const positions = new Map<string, Map<Key, number>>(processes.map((p) => [p, new Map()]));
  const assigned = new Map<string, Key[]>(processes.map((p) => [p, [...keys]]));
  let counter = 0;
  const ops: Omit<Op, "index">[] = [];
  const append = (key: Key, entry: Entry): number => {
    const log = logs.get(key)!;
    log.push(entry);
    return log.length - 1;
  };
  const pollFrom = (p: string, limit: number): Record<Key, [number, string][]> => {
    const out: Record<Key, [number, string][]> = {};
    for (const key of assigned.get(p)!) {
      const log = logs.get(key)!;
      const pos = positions.get(p)!;
      let at = pos.get(key) ?? 0;
      const got: [number, string][] = [];
      while (at < log.length && got.length < limit) {
        const e = log[at]!;
        if (e.visible && e.value !== null) got.push([at, e.value]);
        at++;
      }
      pos.set(key, at);
      if (got.length > 0) out[key] = got;
    }
    return out;
  };
  for (let step = 0; step < steps; step++) {
    const p = pick(processes);
    const roll = rnd();
    if (roll < 0.35) {
      // A batch of idempotent sends, all ok, or an unknown outcome (appended or not).
      const key = pick(keys);
      const n = 1 + Math.floor(rnd() * 3);
      const outcome: OpType = rnd() < 0.15 ? "info" : "ok";
      const appended = outcome === "ok" || rnd() < 0.5;
      const value: Mop[] = [];
      for (let i = 0; i < n; i++) {
        const v = `${p}:${counter++}`;
        const offset = appended ? append(key, { value: v, visible: true }) : null;
        value.push(["send", key, [outcome === "ok" ? offset : null, v]]);
      }
      ops.push({ process: p, type: outcome, f: "send", value });
    } else if (roll < 0.55) {
      // A consume-transform-produce transaction: poll, send, commit or abort.
      const positionsBefore = new Map(positions.get(p)!);
      const polled = pollFrom(p, 2);
      const commit = rnd() < 0.7;
      const value: Mop[] = [];
      if (Object.keys(polled).length > 0) value.push(["poll", polled]);
      const touched = new Set<Key>();
      for (let i = 0; i < 1 + Math.floor(rnd() * 3); i++) {
        const key = pick(keys);
        touched.add(key);
        const v = `${p}:${counter++}`;
        value.push(["send", key, [append(key, { value: v, visible: commit }), v]]);
      }
      for (const key of touched) append(key, { value: null, visible: false });
      if (!commit) positions.set(p, positionsBefore); // an abort rewinds to the committed offsets
      ops.push({ process: p, type: commit ? "ok" : "fail", f: "txn", value });
    } else if (roll < 0.92) {
      const polled = pollFrom(p, 1 + Math.floor(rnd() * 4));
      if (Object.keys(polled).length > 0)
        ops.push({ process: p, type: "ok", f: "poll", value: [["poll", polled]] });
    } else {
      // A rebalance: new keys; a key kept keeps its position, a key gained starts anywhere at or
      // before the end of its log (the group's committed offset).
      const before = new Set(assigned.get(p)!);
      const next = keys.filter(() => rnd() < 0.7);
      assigned.set(p, next);
      const pos = positions.get(p)!;
      for (const key of next) {
        if (!before.has(key)) pos.set(key, Math.floor(rnd() * (logs.get(key)!.length + 1)));
      }
      ops.push({ process: p, type: "ok", f: "assign", value: next });
    }
  }
  // Final polls: a fresh reader per key reads everything.
  for (const key of keys) {
    const reader = `final-${key}`;
    positions.set(reader, new Map());
    assigned.set(reader, [key]);
    ops.push({ process: reader, type: "ok", f: "assign", value: [key] });
    const polled = pollFrom(reader, Number.MAX_SAFE_INTEGER);
    if (Object.keys(polled).length > 0)
      ops.push({ process: reader, type: "ok", f: "poll", value: [["poll", polled]] });
  }
  return ops.map((op, index) => ({ ...op, index }));
}

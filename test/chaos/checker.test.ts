import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AnomalyType, check } from "../../chaos/src/checker.js";
import { indexHistory, type Key, type Mop, type Op, type OpType } from "../../chaos/src/history.js";
import { cleanHistory } from "./clean-history.js";

// Builders for hand-made histories.
type Draft = Omit<Op, "index">;
const send = (
  process: string,
  key: Key,
  offset: number | null,
  value: string,
  type: OpType = "ok",
): Draft => ({
  process,
  type,
  f: "send",
  value: [["send", key, [offset, value]]],
});
const sends = (process: string, pairs: [Key, number | null, string][], type: OpType = "ok"): Draft => ({
  process,
  type,
  f: "send",
  value: pairs.map(([k, o, v]) => ["send", k, [o, v]] as Mop),
});
const poll = (process: string, reads: Record<Key, [number, string][]>, type: OpType = "ok"): Draft => ({
  process,
  type,
  f: "poll",
  value: [["poll", reads]],
});
const txn = (process: string, value: Mop[], type: OpType = "ok"): Draft => ({
  process,
  type,
  f: "txn",
  value,
});
const assign = (process: string, keys: Key[]): Draft => ({ process, type: "ok", f: "assign", value: keys });

function found(ops: Draft[]): Partial<Record<AnomalyType, number>> {
  return check(indexHistory(ops)).counts;
}

describe("history checker: clean histories", () => {
  it("a plain produce-then-consume history has no anomalies", () => {
    const result = check(
      indexHistory([
        send("a", "k", 0, "a1"),
        send("a", "k", 1, "a2"),
        send("b", "k", 2, "b1"),
        poll("c", { k: [[0, "a1"]] }),
        poll("c", {
          k: [
            [1, "a2"],
            [2, "b1"],
          ],
        }),
      ]),
    );
    expect(result.counts).toEqual({});
    expect(result.valid).toBe(true);
    expect(result.stats.sends.ok).toBe(3);
    expect(result.stats.polledRecords).toBe(3);
  });

  it("histories of a correct log pass (property, 300 seeds)", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const result = check(cleanHistory(seed));
        if (!result.valid || Object.keys(result.counts).length > 0) {
          throw new Error(`seed ${seed}: ${JSON.stringify(result.counts)}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("dropping every read of an acknowledged value below a read one is reported as that lost write (property)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(), (seed, choice) => {
        const history = cleanHistory(seed, 150);
        // Acknowledged sends whose key has a later value read by someone.
        const candidates: [Key, string][] = [];
        for (const op of history) {
          if (op.type !== "ok" || op.f !== "send") continue;
          for (const mop of op.value as Mop[]) if (mop[0] === "send") candidates.push([mop[1], mop[2][1]]);
        }
        fc.pre(candidates.length > 0);
        const [key, victim] = candidates[choice % candidates.length]!;
        const mutated = history.map((op) => {
          if (op.f === "assign") return op;
          const value = (op.value as Mop[]).map((mop): Mop => {
            if (mop[0] === "send") return mop;
            const pairs = mop[1][key];
            if (pairs === undefined) return mop;
            return ["poll", { ...mop[1], [key]: pairs.filter((p) => p[1] !== victim) }];
          });
          return { ...op, value };
        });
        // The victim is lost if something after it in the key's log was read, else unseen.
        const result = check(mutated);
        const lost = [...(result.anomalies["lost-write"] ?? []), ...(result.anomalies.unseen ?? [])];
        expect(lost.map((a) => [a.key, a.value])).toContainEqual([key, victim]);
        expect(result.valid).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe("history checker: each anomaly", () => {
  it("lost write: an acknowledged send below the highest read offset, never read", () => {
    const result = check(
      indexHistory([
        send("a", "k", 0, "a1"),
        send("a", "k", 1, "a2"),
        send("a", "k", 2, "a3"),
        poll("c", { k: [[0, "a1"]] }),
        poll("c", { k: [[2, "a3"]] }),
      ]),
    );
    const lost = result.anomalies["lost-write"]!;
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ key: "k", value: "a2", offset: 1, maxReadOffset: 2, ops: [1, 4] });
    expect(result.badTypes).toContain("lost-write");
    // The history around it: the sends and polls of k within 3 offsets.
    expect(lost[0]!.context!.map((c) => c.index)).toEqual([0, 1, 2, 3, 4]);
    // The poll-skip the loss causes for the reader is reported too.
    expect(result.counts["poll-skip"]).toBe(1);
  });

  it("an unknown (info) send never read is not lost; one proven by a read is", () => {
    expect(
      found([send("a", "k", null, "a1", "info"), send("a", "k", 1, "a2"), poll("c", { k: [[1, "a2"]] })]),
    ).toEqual({});
    // a2's info send was read at offset 1, so it happened; a3 at offset 2 was read, a2... is fine.
    expect(
      found([
        send("a", "k", 0, "a1"),
        send("a", "k", null, "a2", "info"),
        send("a", "k", 2, "a3"),
        poll("c", {
          k: [
            [0, "a1"],
            [1, "a2"],
            [2, "a3"],
          ],
        }),
      ]),
    ).toEqual({});
  });

  it("unseen: an acknowledged send that no poll ever read", () => {
    const c = found([send("a", "k", 0, "a1"), send("a", "k", 1, "a2"), poll("c", { k: [[0, "a1"]] })]);
    expect(c).toEqual({ unseen: 1 });
  });

  it("inconsistent offsets: one offset, two values", () => {
    const result = check(
      indexHistory([
        send("a", "k", 0, "a1"),
        send("b", "k", 0, "b1"),
        poll("c", { k: [[0, "a1"]] }),
        poll("d", { k: [[0, "b1"]] }),
      ]),
    );
    expect(result.anomalies["inconsistent-offsets"]).toEqual([
      expect.objectContaining({ key: "k", offset: 0, values: ["a1", "b1"] }),
    ]);
    expect(result.anomalies["inconsistent-offsets"]![0]!.context).toHaveLength(4);
  });

  it("duplicate: one value at two offsets", () => {
    const result = check(
      indexHistory([
        send("a", "k", 0, "a1"),
        poll("c", {
          k: [
            [0, "a1"],
            [1, "a1"],
          ],
        }),
      ]),
    );
    expect(result.anomalies.duplicate).toEqual([
      expect.objectContaining({ key: "k", value: "a1", offsets: [0, 1] }),
    ]);
    // Reading the same value twice in one poll is also an internal nonmonotonic poll.
    expect(result.counts["int-nonmonotonic-poll"]).toBe(1);
  });

  it("aborted read: a value from an aborted transaction is polled", () => {
    const result = check(
      indexHistory([
        txn("a", [["send", "k", [0, "a1"]]], "fail"),
        send("b", "k", 2, "b1"),
        poll("c", {
          k: [
            [0, "a1"],
            [2, "b1"],
          ],
        }),
      ]),
    );
    expect(result.anomalies["aborted-read"]).toEqual([
      expect.objectContaining({ key: "k", value: "a1", ops: [0, 2] }),
    ]);
    expect(result.valid).toBe(false);
  });

  it("precommitted read: a transaction polls its own send", () => {
    const c = found([
      txn("a", [
        ["send", "k", [0, "a1"]],
        ["poll", { k: [[0, "a1"]] }],
      ]),
    ]);
    expect(c["precommitted-read"]).toBe(1);
  });

  it("internal poll skip and nonmonotonic poll", () => {
    const base = [send("a", "k", 0, "a1"), send("a", "k", 1, "a2"), send("a", "k", 2, "a3")];
    expect(
      found([
        ...base,
        poll("c", { k: [[0, "a1"]] }),
        poll("d", {
          k: [
            [0, "a1"],
            [1, "a2"],
            [2, "a3"],
          ],
        }),
      ]),
    ).toEqual({});
    const skip = check(
      indexHistory([
        ...base,
        txn("c", [
          ["poll", { k: [[0, "a1"]] }],
          ["poll", { k: [[2, "a3"]] }],
        ]),
        poll("d", { k: [[1, "a2"]] }),
      ]),
    );
    expect(skip.anomalies["int-poll-skip"]).toEqual([
      expect.objectContaining({ key: "k", values: ["a1", "a3"], delta: 2, skipped: ["a2"] }),
    ]);
    const back = found([
      ...base,
      poll("c", {
        k: [
          [2, "a3"],
          [0, "a1"],
          [1, "a2"],
        ],
      }),
    ]);
    expect(back["int-nonmonotonic-poll"]).toBe(1);
  });

  it("internal send skip is allowed; internal nonmonotonic send is not", () => {
    const skip = check(
      indexHistory([
        sends("a", [
          ["k", 0, "a1"],
          ["k", 2, "a2"],
        ]),
        send("b", "k", 1, "b1"),
        poll("c", {
          k: [
            [0, "a1"],
            [1, "b1"],
            [2, "a2"],
          ],
        }),
      ]),
    );
    // a1 < b1 < a2 also makes a write cycle between the two producers: G0, allowed too.
    expect(skip.counts).toEqual({ "int-send-skip": 1, G0: 1 });
    expect(skip.valid).toBe(true);
    const back = check(
      indexHistory([
        sends("a", [
          ["k", 1, "a1"],
          ["k", 0, "a2"],
        ]),
        poll("c", {
          k: [
            [0, "a2"],
            [1, "a1"],
          ],
        }),
      ]),
    );
    expect(back.counts).toEqual({ "int-nonmonotonic-send": 1 });
    expect(back.valid).toBe(false);
  });

  it("external poll skip and nonmonotonic poll, reset by an assign", () => {
    const base = [
      send("a", "k", 0, "a1"),
      send("a", "k", 1, "a2"),
      send("a", "k", 2, "a3"),
      poll("z", { k: [[1, "a2"]] }),
    ];
    expect(found([...base, poll("c", { k: [[0, "a1"]] }), poll("c", { k: [[2, "a3"]] })])).toEqual({
      "poll-skip": 1,
    });
    expect(
      found([
        ...base,
        poll("c", { k: [[1, "a2"]] }),
        poll("c", {
          k: [
            [0, "a1"],
            [1, "a2"],
            [2, "a3"],
          ],
        }),
      ]),
    ).toEqual({
      "nonmonotonic-poll": 1,
    });
    // Losing k in a rebalance forgets where the consumer was.
    expect(
      found([
        ...base,
        poll("c", { k: [[1, "a2"]] }),
        assign("c", []),
        poll("c", {
          k: [
            [0, "a1"],
            [1, "a2"],
            [2, "a3"],
          ],
        }),
      ]),
    ).toEqual({});
    // Keeping k does not.
    expect(
      found([...base, poll("c", { k: [[0, "a1"]] }), assign("c", ["k"]), poll("c", { k: [[2, "a3"]] })]),
    ).toEqual({ "poll-skip": 1 });
  });

  it("external nonmonotonic send: a producer's later send lands before its earlier one", () => {
    const result = check(
      indexHistory([
        send("a", "k", 1, "a1"),
        send("a", "k", 0, "a2"),
        poll("c", {
          k: [
            [0, "a2"],
            [1, "a1"],
          ],
        }),
      ]),
    );
    expect(result.anomalies["nonmonotonic-send"]).toEqual([
      expect.objectContaining({ key: "k", values: ["a1", "a2"], delta: -1, ops: [0, 1] }),
    ]);
  });

  it("G0: a write cycle (allowed for Kafka)", () => {
    // T1 writes x before T2, T2 writes y before T1.
    const result = check(
      indexHistory([
        txn("t1", [
          ["send", "x", [0, "x1"]],
          ["send", "y", [1, "y1"]],
        ]),
        txn("t2", [
          ["send", "x", [1, "x2"]],
          ["send", "y", [0, "y2"]],
        ]),
        poll("c", {
          x: [
            [0, "x1"],
            [1, "x2"],
          ],
          y: [
            [0, "y2"],
            [1, "y1"],
          ],
        }),
      ]),
    );
    expect(result.counts).toEqual({ G0: 1 });
    expect(result.valid).toBe(true);
    const cycle = result.anomalies.G0![0]!.cycle!;
    expect(cycle.map((s) => [s.from, s.to, s.kind])).toEqual([
      [0, 1, "ww"],
      [1, 0, "ww"],
    ]);
  });

  it("G1c: circular information flow between two transactions", () => {
    // T1 reads T2's write and T2 reads T1's write.
    const result = check(
      indexHistory([
        txn("t1", [
          ["poll", { y: [[0, "y2"]] }],
          ["send", "x", [0, "x1"]],
        ]),
        txn("t2", [
          ["poll", { x: [[0, "x1"]] }],
          ["send", "y", [0, "y2"]],
        ]),
      ]),
    );
    expect(result.counts).toEqual({ G1c: 1 });
    expect(result.valid).toBe(false);
    expect(result.anomalies.G1c![0]!.cycle!.map((s) => s.kind)).toEqual(["wr", "wr"]);
    expect(result.anomalies.G1c![0]!.context!.map((c) => c.process).sort()).toEqual(["t1", "t2"]);
  });

  it("G1c-ww: a cycle through a write order and a read (allowed, as in Jepsen with ww dependencies)", () => {
    // T1 writes x before T2 does; T1 reads T2's y.
    const result = check(
      indexHistory([
        txn("t1", [
          ["send", "x", [0, "x1"]],
          ["poll", { y: [[0, "y2"]] }],
        ]),
        txn("t2", [
          ["send", "x", [1, "x2"]],
          ["send", "y", [0, "y2"]],
        ]),
        poll("c", {
          x: [
            [0, "x1"],
            [1, "x2"],
          ],
        }),
      ]),
    );
    expect(result.counts).toEqual({ "G1c-ww": 1 });
    expect(result.valid).toBe(true);
  });

  it("a large history is checked in roughly linear time", () => {
    // 30k sends and their polls on 8 keys; a quadratic step would take minutes.
    const ops: Draft[] = [];
    const next = new Map<Key, number>();
    for (let i = 0; i < 30_000; i++) {
      const key = `t/${i % 8}`;
      const offset = next.get(key) ?? 0;
      next.set(key, offset + 1);
      ops.push(send(`p${i % 5}`, key, offset, `v${i}`));
      ops.push(poll(`c${i % 8}`, { [key]: [[offset, `v${i}`]] }));
    }
    const result = check(indexHistory(ops));
    expect(result.counts).toEqual({});
    expect(result.stats.polledRecords).toBe(30_000);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DepGraph } from "../../chaos/src/graph.js";

/** Strongly connected components by reachability (quadratic; the reference for small graphs). */
function componentsByReachability(n: number, edges: [number, number][]): number[][] {
  const reach = Array.from({ length: n }, (_, i) => {
    const seen = new Set<number>([i]);
    const stack = [i];
    while (stack.length > 0) {
      const at = stack.pop()!;
      for (const [a, b] of edges) {
        if (a === at && !seen.has(b)) {
          seen.add(b);
          stack.push(b);
        }
      }
    }
    return seen;
  });
  const out: number[][] = [];
  const done = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (done.has(i)) continue;
    const comp = [...reach[i]!].filter((j) => reach[j]!.has(i)).sort((a, b) => a - b);
    for (const j of comp) done.add(j);
    if (comp.length > 1) out.push(comp);
  }
  return out;
}

const sortComponents = (cs: number[][]): number[][] =>
  cs.map((c) => [...c].sort((a, b) => a - b)).sort((a, b) => a[0]! - b[0]!);

describe("DepGraph", () => {
  it("finds the same strongly connected components as reachability (property)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 12 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 30 })),
          ),
        ([n, edges]) => {
          const g = new DepGraph();
          for (const [a, b] of edges) g.link(a, b, "ww", { key: "k", value: `${a}` });
          const real = edges.filter(([a, b]) => a !== b);
          expect(sortComponents(g.components(["ww"]))).toEqual(componentsByReachability(n, real));
          // Every component has a cycle through each of its edges' kinds, and the cycle is closed.
          for (const c of g.components(["ww"])) {
            const cycle = g.cycleThrough(c, ["ww"], "ww")!;
            expect(cycle.length).toBeGreaterThan(1);
            expect(cycle[cycle.length - 1]!.to).toBe(cycle[0]!.from);
            for (let i = 1; i < cycle.length; i++) expect(cycle[i]!.from).toBe(cycle[i - 1]!.to);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps edge kinds apart: a cycle needing a wr edge is not found over ww edges alone", () => {
    const g = new DepGraph();
    g.link(1, 2, "ww", { key: "x", value: "a", next: "b" });
    g.link(2, 1, "wr", { key: "y", value: "c" });
    expect(g.components(["ww"])).toEqual([]);
    expect(g.components(["wr"])).toEqual([]);
    const [c] = g.components(["ww", "wr"]);
    expect(c).toEqual([1, 2]);
    expect(g.cycleThrough(c!, ["ww", "wr"], "wr")!.map((s) => s.kind)).toEqual(["wr", "ww"]);
  });

  it("handles a long chain without recursion", () => {
    const g = new DepGraph();
    for (let i = 0; i < 200_000; i++) g.link(i, i + 1, "ww", { key: "k", value: `${i}` });
    g.link(200_000, 0, "ww", { key: "k", value: "back" });
    const cs = g.components(["ww"]);
    expect(cs).toHaveLength(1);
    expect(cs[0]).toHaveLength(200_001);
  });
});

// A dependency graph between operations with typed edges, Tarjan's strongly connected components
// and a shortest-cycle search inside one component: what Elle does for Jepsen's Kafka workload,
// reduced to the two relations that workload draws (ww and wr; its rw graph is commented out).
//
// Everything is iterative (a history has hundreds of thousands of ops; recursion would overflow the
// stack) and linear in nodes plus edges, except the cycle search, which is a breadth-first search
// per reported component.

export type EdgeKind = "ww" | "wr";
const KIND_BIT: Record<EdgeKind, number> = { ww: 1, wr: 2 };

/** Why an edge exists: a key and the value(s) that relate the two ops. */
export interface EdgeWhy {
  key: string;
  /** ww: the earlier op sent `value`, the later sent `next` right after it; wr: the later op read `value`. */
  value: string;
  next?: string;
}

export interface CycleStep {
  from: number;
  to: number;
  kind: EdgeKind;
  why: EdgeWhy;
}

export class DepGraph {
  /** from -> to -> the kinds of edge (a bitmask) and one explanation per kind, the first drawn. */
  private readonly out = new Map<number, Map<number, { bits: number; ww?: EdgeWhy; wr?: EdgeWhy }>>();
  private readonly all = new Set<number>();

  link(from: number, to: number, kind: EdgeKind, why: EdgeWhy): void {
    if (from === to) return;
    let targets = this.out.get(from);
    if (targets === undefined) {
      targets = new Map();
      this.out.set(from, targets);
    }
    let edge = targets.get(to);
    if (edge === undefined) {
      edge = { bits: 0 };
      targets.set(to, edge);
    }
    const bit = KIND_BIT[kind];
    if ((edge.bits & bit) === 0) {
      edge.bits |= bit;
      edge[kind] = why;
    }
    this.all.add(from);
    this.all.add(to);
  }

  why(from: number, to: number, kind: EdgeKind): EdgeWhy {
    const w = this.out.get(from)?.get(to)?.[kind];
    if (w === undefined) throw new Error(`no ${kind} edge ${from} -> ${to}`);
    return w;
  }

  /** Successors of `node` over edges having one of the kinds in `mask`. */
  *successors(node: number, mask: number): Iterable<[number, number]> {
    const targets = this.out.get(node);
    if (targets === undefined) return;
    for (const [to, edge] of targets) if ((edge.bits & mask) !== 0) yield [to, edge.bits & mask];
  }

  nodes(): number[] {
    return [...this.all].sort((a, b) => a - b);
  }

  /**
   * Strongly connected components with more than one node, over edges of the given kinds
   * (Tarjan's algorithm with an explicit stack).
   */
  components(kinds: EdgeKind[]): number[][] {
    const mask = kinds.reduce((m, k) => m | KIND_BIT[k], 0);
    const index = new Map<number, number>();
    const low = new Map<number, number>();
    const onStack = new Set<number>();
    const stack: number[] = [];
    const result: number[][] = [];
    let counter = 0;
    for (const root of this.nodes()) {
      if (index.has(root)) continue;
      // Each frame is a node and the iterator over its remaining successors.
      const frames: { node: number; succ: Iterator<[number, number]> }[] = [];
      const enter = (node: number): void => {
        index.set(node, counter);
        low.set(node, counter);
        counter++;
        stack.push(node);
        onStack.add(node);
        frames.push({ node, succ: this.successors(node, mask)[Symbol.iterator]() });
      };
      enter(root);
      while (frames.length > 0) {
        const frame = frames[frames.length - 1]!;
        const next = frame.succ.next();
        if (!next.done) {
          const [to] = next.value;
          if (!index.has(to)) {
            enter(to);
          } else if (onStack.has(to)) {
            low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
          }
          continue;
        }
        frames.pop();
        const parent = frames[frames.length - 1];
        if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
        if (low.get(frame.node) === index.get(frame.node)) {
          const component: number[] = [];
          let member: number;
          do {
            member = stack.pop()!;
            onStack.delete(member);
            component.push(member);
          } while (member !== frame.node);
          if (component.length > 1) result.push(component.sort((a, b) => a - b));
        }
      }
    }
    return result;
  }

  /**
   * The shortest path from `from` to `to` inside `within` over edges of `kinds`, as steps, or null.
   * With from === to it is the shortest cycle through that node.
   */
  shortestPath(from: number, to: number, within: Set<number>, kinds: EdgeKind[]): CycleStep[] | null {
    const mask = kinds.reduce((m, k) => m | KIND_BIT[k], 0);
    const parent = new Map<number, [number, number]>();
    const queue: number[] = [from];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head]!;
      for (const [next, bits] of this.successors(node, mask)) {
        if (!within.has(next) || parent.has(next)) continue;
        parent.set(next, [node, bits]);
        if (next === to) {
          const steps: CycleStep[] = [];
          let at = to;
          do {
            const [prev, b] = parent.get(at)!;
            // Prefer naming the wr relation when both hold: it is the one that carries information.
            const kind: EdgeKind = (b & KIND_BIT.wr) !== 0 ? "wr" : "ww";
            steps.push({ from: prev, to: at, kind, why: this.why(prev, at, kind) });
            at = prev;
          } while (at !== from);
          return steps.reverse();
        }
        queue.push(next);
      }
    }
    return null;
  }

  /**
   * A cycle inside the component that uses at least one edge of kind `required` (and otherwise any
   * of `kinds`), or null: for each such edge a -> b inside the component, the shortest path back
   * from b to a closes a cycle; the shortest such cycle is returned.
   */
  cycleThrough(component: number[], kinds: EdgeKind[], required: EdgeKind): CycleStep[] | null {
    const within = new Set(component);
    let best: CycleStep[] | null = null;
    // Bounded: a component of thousands of ops would otherwise cost a search per edge.
    let searches = 0;
    for (const a of component) {
      for (const [b] of this.successors(a, KIND_BIT[required])) {
        if (!within.has(b)) continue;
        if (++searches > 64) return best;
        const back = this.shortestPath(b, a, within, kinds);
        if (back === null) continue;
        const cycle = [{ from: a, to: b, kind: required, why: this.why(a, b, required) }, ...back];
        if (best === null || cycle.length < best.length) best = cycle;
        if (best.length === 2) return best;
      }
    }
    return best;
  }
}

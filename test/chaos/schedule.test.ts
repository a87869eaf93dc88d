import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FAULT_KINDS, type FaultKind, makeSchedule, type ScheduledFault } from "../../chaos/src/schedule.js";

const arbOptions = fc.record({
  seed: fc.integer(),
  steps: fc.integer({ min: 1, max: 80 }),
  nodes: fc.constantFrom([1], [1, 2, 3], [1, 2, 3, 4, 5]),
  faults: fc.subarray([...FAULT_KINDS], { minLength: 1 }),
  maxDown: fc.integer({ min: 1, max: 2 }),
});

/** Replays a schedule's effects and checks its invariants; returns what is still active at the end. */
function replay(
  schedule: ScheduledFault[],
  maxDown: number,
  steps: number,
): { down: Set<number>; net: boolean } {
  const down = new Set<number>();
  let net = false;
  let lastStep = 0;
  for (const { step, fault } of schedule) {
    expect(step).toBeGreaterThanOrEqual(lastStep);
    expect(step).toBeLessThanOrEqual(steps);
    lastStep = step;
    switch (fault.kind) {
      case "kill":
      case "pause":
        expect(down.has(fault.node)).toBe(false);
        down.add(fault.node);
        expect(down.size).toBeLessThanOrEqual(maxDown);
        break;
      case "restart":
      case "resume":
        expect(down.delete(fault.node)).toBe(true);
        break;
      case "partition":
        expect(net).toBe(false);
        expect(fault.sides.every((s) => s.length > 0)).toBe(true);
        net = true;
        break;
      case "loss":
      case "delay":
        expect(net).toBe(false);
        net = true;
        break;
      case "heal-net":
        expect(net).toBe(true);
        net = false;
        break;
    }
  }
  return { down, net };
}

describe("fault schedule", () => {
  it("is a function of its seed and options (replays exactly)", () => {
    fc.assert(
      fc.property(arbOptions, (o) => {
        expect(makeSchedule(o)).toEqual(makeSchedule(o));
      }),
    );
    const a = makeSchedule({ seed: 1, steps: 50, nodes: [1, 2, 3], faults: FAULT_KINDS });
    const b = makeSchedule({ seed: 2, steps: 50, nodes: [1, 2, 3], faults: FAULT_KINDS });
    expect(a).not.toEqual(b);
  });

  it("ends every fault it starts, never exceeds maxDown, uses only the kinds asked for (property)", () => {
    fc.assert(
      fc.property(arbOptions, (o) => {
        const schedule = makeSchedule(o);
        const end = replay(schedule, o.maxDown, o.steps);
        expect(end.down.size).toBe(0);
        expect(end.net).toBe(false);
        const starts = new Set(
          schedule
            .map((s) => s.fault.kind)
            .filter((k): k is FaultKind => (FAULT_KINDS as string[]).includes(k)),
        );
        for (const k of starts) expect(o.faults).toContain(k);
        if (o.nodes.length === 1) expect(starts.has("partition")).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("draws faults often enough to matter", () => {
    const s = makeSchedule({ seed: 42, steps: 100, nodes: [1, 2, 3], faults: FAULT_KINDS });
    const kinds = new Set(s.map((x) => x.fault.kind));
    for (const k of FAULT_KINDS) expect(kinds.has(k)).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.js";

describe("ManualClock", () => {
  it("moves only when told, and never backwards by advance", () => {
    const clock = new ManualClock(1000);
    expect(clock.nowMs()).toBe(1000);
    clock.advance(250);
    expect(clock.nowMs()).toBe(1250);
    expect(() => clock.advance(-1)).toThrow(/forward/);
    clock.setMs(5);
    expect(clock.nowMs()).toBe(5);
  });
});

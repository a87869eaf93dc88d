/**
 * The real-time driver of the KRaft core: the broker's clock with `setTimeout` timers. The core
 * arms at most one timer at a time (its next poll), so nothing here accumulates. Timers are
 * unref'd: a quorum waiting for its next poll does not keep a stopping process alive.
 */
import { type Clock, SYSTEM_CLOCK } from "../clock.js";
import type { RaftClock } from "./types.js";

export function timerRaftClock(clock: Clock = SYSTEM_CLOCK): RaftClock {
  return {
    nowMs: () => clock.nowMs(),
    setTimer(delayMs: number, fn: () => void): unknown {
      const handle = setTimeout(fn, Math.max(0, delayMs));
      handle.unref();
      return handle;
    },
    clearTimer(handle: unknown): void {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
}

/** Polling for a condition in tests that drive real clients, where there is no event to await. */

/** How often the condition is checked. */
const POLL_INTERVAL_MS = 50;

export type WaitFor = (
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs?: number,
) => Promise<void>;

/**
 * A `waitFor(what, check, timeoutMs)` that polls `check` until it holds and fails naming `what`
 * after `timeoutMs` (`defaultTimeoutMs` when not given).
 */
export function waiter(defaultTimeoutMs: number): WaitFor {
  return async (what, check, timeoutMs = defaultTimeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
}

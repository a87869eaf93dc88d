// Helpers for the @platformatic/kafka scenarios. Plain ESM JavaScript rather than TypeScript: the
// package lives in this folder's own node_modules (installed by scripts/install-compat-deps.sh),
// which the root typecheck cannot assume exists.
import { randomBytes } from "node:crypto";

export const DEADLINE_MS = 45_000;

export class ScenarioFailure extends Error {}

export function check(condition, message) {
  if (!condition) throw new ScenarioFailure(message);
}

export function bootstrapBrokers() {
  const bootstrap = process.env.BOOTSTRAP;
  if (!bootstrap) throw new ScenarioFailure("BOOTSTRAP is not set");
  return [bootstrap];
}

export function uniqueName(prefix) {
  return `compat-plt-${prefix}-${randomBytes(4).toString("hex")}`;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads `count` messages from a consumer stream, or as many as arrive before the deadline. */
export async function take(stream, count, timeoutMs = DEADLINE_MS) {
  const got = [];
  if (count === 0) return got;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("error", onError);
      resolve();
    }
    function onData(message) {
      got.push(message);
      if (got.length >= count) done();
    }
    function onError(err) {
      clearTimeout(timer);
      stream.off("data", onData);
      reject(err);
    }
    stream.on("data", onData);
    stream.on("error", onError);
  });
  return got;
}

/** Wraps a scenario: bounded by a timer, failures reported as one line, always exits. */
export function scenario(body, timeoutMs = 100_000) {
  const timer = setTimeout(() => {
    console.error(`FAIL: scenario did not finish within ${timeoutMs} ms`);
    process.exit(1);
  }, timeoutMs);
  body().then(
    () => {
      clearTimeout(timer);
      process.exit(0);
    },
    (err) => {
      clearTimeout(timer);
      const detail = err?.errors ? ` (${err.errors.map((e) => e.message).join("; ")})` : "";
      const reason = err instanceof Error ? `${err.constructor.name}: ${err.message}${detail}` : String(err);
      console.error(`FAIL: ${reason.replace(/\s+/g, " ")}`);
      process.exit(1);
    },
  );
}

// Starting and stopping the two brokers through compat-tests/broker.sh (the same configuration the
// compatibility suite uses), while measuring start-up independently of that script: the broker's
// pid comes from DIR/broker.pid, its start time from /proc, and readiness from a Metadata probe.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { run } from "./exec.js";
import { waitForMetadata } from "./metadata-probe.js";
import { lastLines } from "./parse.js";
import { readProcStat, uptimeSeconds } from "./proc.js";
import type { BrokerKind } from "./results.js";

const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 60_000;
const PID_WAIT_POLL_MS = 5;

export interface RunningBroker {
  kind: BrokerKind;
  dir: string;
  pid: number;
  bootstrap: string;
  startupMs: number | null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = address && typeof address === "object" ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPid(pidFile: string, isDone: () => boolean): Promise<number | null> {
  while (!isDone()) {
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0) return pid;
    }
    await new Promise((r) => setTimeout(r, PID_WAIT_POLL_MS));
  }
  return null;
}

/**
 * Starts a broker with broker.sh and measures process start to first Metadata answer. One retry
 * with a fresh folder: a start can fail for reasons unrelated to the broker under test (broker.sh
 * picks a random cluster id, which kafka-storage rejects when it begins with '-').
 */
export async function startBroker(
  root: string,
  kind: BrokerKind,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<RunningBroker | { error: string }> {
  let lastError = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    const port = await freePort();
    let scriptDone = false;
    const script = run(
      join(root, "compat-tests/broker.sh"),
      ["start", kind, "--dir", dir, "--port", String(port)],
      {
        timeoutMs: START_TIMEOUT_MS,
        env,
      },
    ).finally(() => {
      scriptDone = true;
    });
    const measure = (async () => {
      const pid = await waitForPid(join(dir, "broker.pid"), () => scriptDone);
      if (pid === null) return { pid: null, startupMs: null };
      const started = readProcStat(pid)?.startSecondsSinceBoot ?? null;
      const reason = await waitForMetadata(
        "127.0.0.1",
        port,
        START_TIMEOUT_MS,
        () => scriptDone && !alive(pid),
      );
      if (reason !== null || started === null) return { pid, startupMs: null };
      return { pid, startupMs: Math.round((uptimeSeconds() - started) * 1000) };
    })();
    const [result, measured] = await Promise.all([script, measure]);
    if (result.code === 0 && measured.pid !== null && alive(measured.pid)) {
      return { kind, dir, pid: measured.pid, bootstrap: `127.0.0.1:${port}`, startupMs: measured.startupMs };
    }
    lastError = `broker.sh start ${kind} failed (attempt ${attempt}): ${lastLines(result.stderr + result.stdout)}`;
    await stopBroker(root, dir);
  }
  return { error: lastError };
}

export async function stopBroker(root: string, dir: string): Promise<void> {
  await run(join(root, "compat-tests/broker.sh"), ["stop", "--dir", dir], { timeoutMs: STOP_TIMEOUT_MS });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readProcStat(pid) !== null;
  } catch {
    return false;
  }
}

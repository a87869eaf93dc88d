// Starting and stopping the two brokers: Kafka through compat-tests/broker.sh (the configuration the
// compatibility suite uses), Krill the way broker.sh does plus the settings broker.sh gives Kafka
// only (see KRILL_EQUIVALENT_OVERRIDES). Start-up is measured independently of either launcher: the
// broker's pid comes from DIR/broker.pid, its start time from /proc, readiness from a Metadata probe.
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { type RunResult, run } from "./exec.js";
import { waitForMetadata } from "./metadata-probe.js";
import { lastLines } from "./parse.js";
import { readProcStat, uptimeSeconds } from "./proc.js";
import type { BrokerKind, LoadTarget } from "./results.js";

const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 60_000;
const PID_WAIT_POLL_MS = 5;

export interface RunningBroker {
  kind: LoadTarget;
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
 * With `security: "tls"` both brokers start through broker.sh with `--security tls` (the same
 * generated server.properties, TLS listeners included: DIR/ssl-bootstrap, CA in DIR/certs/ca.pem).
 */
export async function startBroker(
  root: string,
  kind: BrokerKind,
  dir: string,
  env: NodeJS.ProcessEnv,
  security?: "tls",
  krillOptions: KrillLaunchOptions = {},
): Promise<RunningBroker | { error: string }> {
  let lastError = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    const port = await freePort();
    let scriptDone = false;
    const launch =
      kind === "krill" && security === undefined
        ? launchKrill(root, dir, port, env, krillOptions)
        : run(
            join(root, "compat-tests/broker.sh"),
            [
              "start",
              kind,
              "--dir",
              dir,
              "--port",
              String(port),
              ...(security === undefined ? [] : ["--security", security]),
            ],
            { timeoutMs: START_TIMEOUT_MS, env },
          );
    const script = launch.finally(() => {
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

/**
 * The settings compat-tests/broker.sh gives Kafka beyond its defaults, given to Krill as well so
 * the two run with equivalent configuration. broker.sh passes Krill only its listeners and folders,
 * which would leave Krill with the 3 s group.initial.rebalance.delay.ms that broker.sh turns off for
 * Kafka: every consumer-group run would then wait 3 s longer on Krill.
 */
export const KRILL_EQUIVALENT_OVERRIDES = [
  "node.id=1",
  "num.partitions=1",
  "offsets.topic.replication.factor=1",
  "transaction.state.log.replication.factor=1",
  "transaction.state.log.min.isr=1",
  "group.initial.rebalance.delay.ms=0",
];

/**
 * Spawns `command` as broker.sh starts a broker: in its own process group, output in
 * DIR/broker.out, pid in DIR/broker.pid (so `broker.sh stop --dir DIR` stops it). Returns the pid,
 * or undefined when it could not be spawned.
 */
function spawnInDir(
  dir: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string },
): number | undefined {
  const out = openSync(join(dir, "broker.out"), "w");
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  child.unref();
  if (child.pid !== undefined) writeFileSync(join(dir, "broker.pid"), String(child.pid));
  return child.pid;
}

/**
 * Starts bin/krill the way broker.sh does (own session and process group, output in
 * DIR/broker.out, pid in DIR/broker.pid so `broker.sh stop --dir DIR` stops it), with
 * KRILL_EQUIVALENT_OVERRIDES added, and resolves once it answers Metadata or has failed.
 */
export interface KrillLaunchOptions {
  /**
   * Node options V8 refuses in NODE_OPTIONS (such as --trace-gc-nvp): Krill's launcher is then
   * run by this Node with them (`node ARGS bin/krill.mjs start …`), the same process as bin/krill.
   */
  nodeArgs?: string[];
  /** More `--override key=value` settings after the equivalent ones. */
  overrides?: string[];
}

async function launchKrill(
  root: string,
  dir: string,
  port: number,
  env: NodeJS.ProcessEnv,
  options: KrillLaunchOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  const result = (code: number, stderr: string): RunResult => ({
    code,
    signal: null,
    stdout: "",
    stderr,
    timedOut: false,
    elapsedMs: performance.now() - started,
  });
  if (!existsSync(join(root, "dist/src/cli.js")))
    return result(1, "Krill is not built (dist/src/cli.js missing)");
  mkdirSync(join(dir, "logs"), { recursive: true });
  mkdirSync(join(dir, "data"), { recursive: true });
  const listener = `PLAINTEXT://127.0.0.1:${port}`;
  const overrides = [
    `listeners=${listener}`,
    `advertised.listeners=${listener}`,
    `log.dirs=${join(dir, "data")}`,
    ...KRILL_EQUIVALENT_OVERRIDES,
    ...(options.overrides ?? []),
  ];
  const startArgs = ["start", ...overrides.flatMap((o) => ["--override", o])];
  const pid =
    options.nodeArgs === undefined
      ? spawnInDir(dir, join(root, "bin/krill"), startArgs, { env })
      : spawnInDir(dir, process.execPath, [...options.nodeArgs, join(root, "bin/krill.mjs"), ...startArgs], {
          env,
        });
  if (pid === undefined) return result(1, "could not spawn bin/krill");
  const reason = await waitForMetadata("127.0.0.1", port, START_TIMEOUT_MS, () => !alive(pid));
  if (reason === null) return result(0, "");
  const tail = existsSync(join(dir, "broker.out"))
    ? lastLines(readFileSync(join(dir, "broker.out"), "utf8"))
    : "";
  return result(1, `Krill did not answer Metadata: ${reason}; ${tail}`);
}

/**
 * Starts bench/src/null-broker.ts (the load generators' ceiling) in DIR the way the brokers are
 * started (own process group, pid in DIR/broker.pid, so stopBroker stops it too), serving `topics`
 * (NAME:PARTITIONS), and resolves once it answers Metadata.
 */
export async function startNullSink(
  root: string,
  dir: string,
  topics: string[],
): Promise<RunningBroker | { error: string }> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const pid = spawnInDir(
    dir,
    process.execPath,
    ["--import", "tsx", join(root, "bench/src/null-broker.ts"), String(port), ...topics],
    { cwd: root },
  );
  if (pid === undefined) return { error: "could not spawn the null sink" };
  const reason = await waitForMetadata("127.0.0.1", port, START_TIMEOUT_MS, () => !alive(pid));
  if (reason !== null) return { error: `the null sink did not answer Metadata: ${reason}` };
  return { kind: "ceiling", dir, pid, bootstrap: `127.0.0.1:${port}`, startupMs: null };
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

/**
 * A broker run as a child process through the CLI, for tests that kill it (SIGKILL: no clean
 * shutdown) and start it again on the same data directory and port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";

const CLI = path.resolve(import.meta.dirname, "../../src/cli.ts");
/** How long a start may take (the CLI runs through tsx, slow on a busy machine). */
const START_TIMEOUT_MS = 60_000;

export interface ChildBroker {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

/**
 * Starts `krill start` on 127.0.0.1:`port` (0: any free port) with `dataDir` as log.dirs and the
 * given extra `key=value` overrides; resolves once it logs its listener, with the bound port.
 */
export async function startChildBroker(
  dataDir: string,
  port: number,
  overrides: readonly string[],
): Promise<ChildBroker> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      CLI,
      "start",
      ...[`log.dirs=${dataDir}`, `listeners=PLAINTEXT://127.0.0.1:${port}`, ...overrides].flatMap((o) => [
        "--override",
        o,
      ]),
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, KRILL_LOG_LEVEL: "info" } },
  );
  let stdout = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", () => {});
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const m = /"listeners":\["PLAINTEXT:\/\/127\.0\.0\.1:(\d+)"\]/.exec(stdout);
    if (m) return { child, port: Number(m[1]), exited };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`broker did not start: ${stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills the broker if it still runs (a test's clean-up) and waits for it to exit. */
export async function killChildBroker(running: ChildBroker | undefined): Promise<void> {
  if (running !== undefined && running.child.exitCode === null) {
    running.child.kill("SIGKILL");
    await running.exited;
  }
}

/** A kafkajs client for the broker that keeps retrying long enough to ride out a restart. */
export function kafkaForChildBroker(port: number): Kafka {
  return new Kafka({
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 1000 },
  });
}

// Runs a child process with a hard time limit and bounded captured output. Every load generator
// runs in its own process group so that a time-out kills it and anything it started.
import { spawn } from "node:child_process";

/** Output kept per stream: the tail is what explains a failure, and a chatty tool must not grow memory. */
const CAPTURE_BYTES_MAX = 4 << 20;
const KILL_GRACE_MS = 3000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  elapsedMs: number;
}

export interface RunOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Called with each stdout chunk as it arrives (progress display). */
  onStdout?: (chunk: string) => void;
}

class TailBuffer {
  private chunks: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > CAPTURE_BYTES_MAX && this.chunks.length > 1) {
      this.bytes -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/** Processes started by run() and still alive, so an interrupted harness can kill them all. */
const live = new Set<number>();

export function killAllChildren(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out = new TailBuffer();
    const err = new TailBuffer();
    let timedOut = false;
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    const killGroup = (signal: NodeJS.Signals) => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), KILL_GRACE_MS).unref();
    }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      out.push(chunk);
      options.onStdout?.(chunk.toString("utf8"));
    });
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const done = (code: number | null, signal: NodeJS.Signals | null, extra = "") => {
      clearTimeout(timer);
      if (pid !== undefined) live.delete(pid);
      resolve({
        code,
        signal,
        stdout: out.text(),
        stderr: err.text() + extra,
        timedOut,
        elapsedMs: performance.now() - started,
      });
    };
    child.on("error", (e) => done(null, null, `\n${e.message}`));
    child.on("close", (code, signal) => done(code, signal));
  });
}

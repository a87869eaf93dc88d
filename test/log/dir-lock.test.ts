import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isKrillError } from "../../src/errors.js";
import { DirLocks, LOCK_FILE_NAME } from "../../src/log/dir-lock.js";

const HOLDER = path.resolve(import.meta.dirname, "fixtures/lock-holder.ts");
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "krill-lock-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const kafkaMessage = (dir: string) =>
  `Failed to acquire lock on file .lock in ${dir}. A Kafka instance in another process or thread is using this directory.`;

function refusedFor(dir: string) {
  return (err: unknown) => isKrillError(err, "STATE") && (err as Error).message === kafkaMessage(dir);
}

/** Starts a process that locks `dirs`; resolves once it holds them, with a SIGKILL that waits. */
async function holdInChild(dirs: string[]): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", HOLDER, ...dirs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const deadline = Date.now() + 30_000;
  while (!out.includes("held")) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`lock holder did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return kill;
}

describe("log directory locks", () => {
  it("refuses a second holder in the same process until the first releases", () => {
    const a = tempDir();
    const b = tempDir();
    const first = DirLocks.acquire([a, b]);
    expect(existsSync(path.join(a, LOCK_FILE_NAME))).toBe(true);
    expect(() => DirLocks.acquire([b])).toThrow(kafkaMessage(b));
    first.release();
    first.release();
    const again = DirLocks.acquire([a, b]);
    again.release();
  });

  it("takes all directories or none", () => {
    const free = tempDir();
    const taken = tempDir();
    const holder = DirLocks.acquire([taken]);
    expect(() => DirLocks.acquire([free, taken])).toThrow(kafkaMessage(taken));
    // `free` was released again when `taken` failed.
    DirLocks.acquire([free]).release();
    holder.release();
  });

  it("refuses a directory another process holds, and the lock goes with that process on kill -9", async () => {
    const dir = tempDir();
    const nested = path.join(tempDir(), "not", "yet", "there");
    const kill = await holdInChild([dir, nested]);
    for (const held of [dir, nested]) {
      let caught: unknown;
      try {
        DirLocks.acquire([held]);
      } catch (err) {
        caught = err;
      }
      expect(refusedFor(held)(caught)).toBe(true);
    }
    await kill();
    const mine = DirLocks.acquire([dir, nested]);
    mine.release();
  }, 60_000);
});

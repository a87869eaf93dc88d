/**
 * A log directory that fills up (issue 19 item 7), on a real small filesystem: the broker runs in
 * its own mount namespace (`unshare --user --map-root-user --mount`, no privileges needed) with
 * log.dirs on a 4 MiB tmpfs that a filler file mostly occupies. Producers must get
 * KAFKA_STORAGE_ERROR at once (not a client-side timeout), appends must resume once the filler is
 * removed, and every acknowledged record must still be there. The test reaches the namespace's
 * files through /proc/<pid>/root.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";

const CLI = path.resolve(import.meta.dirname, "../../src/cli.ts");
const TMPFS_BYTES = 4 * 1024 * 1024;
const FILLER_BYTES = 3 * 1024 * 1024;
const VALUE_BYTES = 100 * 1024;
/** More than the space left (about 1 MiB) can take, so the disk fills; bounded. */
const ATTEMPTS_MAX = 40;

function unshareWorks(): boolean {
  try {
    execFileSync("unshare", ["--user", "--map-root-user", "--mount", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const work = mkdtempSync(path.join(os.tmpdir(), "krill-full-disk-"));
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

async function startInSmallFilesystem(
  logDir: string,
  metaDir: string,
): Promise<{ port: number; pid: number }> {
  const script = [
    `mount -t tmpfs -o size=${TMPFS_BYTES} tmpfs '${logDir}'`,
    `head -c ${FILLER_BYTES} /dev/zero > '${logDir}/filler'`,
    `exec '${process.execPath}' --import tsx '${CLI}' start --override 'log.dirs=${logDir}' --override 'metadata.log.dir=${metaDir}' --override 'listeners=PLAINTEXT://127.0.0.1:0'`,
  ].join(" && ");
  const proc = spawn("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", script], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, KRILL_LOG_LEVEL: "info" },
  });
  child = proc;
  let out = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    out += d;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /"listeners":\["PLAINTEXT:\/\/127\.0\.0\.1:(\d+)"\]/.exec(out);
    if (m) return { port: Number(m[1]), pid: proc.pid! };
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`broker did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function errorType(err: unknown): string | undefined {
  const e = err as { type?: string; cause?: { type?: string }; originalError?: { type?: string } };
  return e.type ?? e.cause?.type ?? e.originalError?.type;
}

describe.runIf(unshareWorks())("a log directory that fills up", () => {
  it("answers KAFKA_STORAGE_ERROR at once, resumes when space returns, loses nothing acknowledged", async () => {
    const logDir = path.join(work, "logs");
    const metaDir = path.join(work, "meta");
    execFileSync("mkdir", ["-p", logDir, metaDir]);
    const { port, pid } = await startInSmallFilesystem(logDir, metaDir);
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "full", numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
    await producer.connect();

    const acked: string[] = [];
    let refused: { type: string | undefined; ms: number } | undefined;
    for (let i = 0; i < ATTEMPTS_MAX && refused === undefined; i++) {
      const value = `${String(i).padStart(6, "0")}${"x".repeat(VALUE_BYTES)}`;
      const started = performance.now();
      try {
        await producer.send({ topic: "full", acks: -1, messages: [{ value }] });
        acked.push(value.slice(0, 6));
      } catch (err) {
        refused = { type: errorType(err), ms: performance.now() - started };
      }
    }
    expect(acked.length).toBeGreaterThan(0);
    // Refused by the broker with Kafka's error, not timed out by the client.
    expect(refused?.type).toBe("KAFKA_STORAGE_ERROR");
    // It stays refused while the disk is full ...
    await expect(
      producer.send({ topic: "full", acks: -1, messages: [{ value: "y".repeat(VALUE_BYTES) }] }),
    ).rejects.toThrow();

    // ... and accepts again once space returns.
    rmSync(`/proc/${pid}/root${logDir}/filler`);
    for (let i = 0; i < 3; i++) {
      const value = `r${String(i).padStart(5, "0")}${"z".repeat(VALUE_BYTES)}`;
      await producer.send({ topic: "full", acks: -1, messages: [{ value }] });
      acked.push(value.slice(0, 6));
    }
    await producer.disconnect();

    // Every acknowledged record is there, in order, once each; nothing refused was stored.
    const consumer = kafka.consumer({ groupId: "full-disk-check" });
    await consumer.connect();
    await consumer.subscribe({ topic: "full", fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of ${acked.length}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.subarray(0, 6).toString());
          if (seen.length >= acked.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual(acked);
    const check = kafka.admin();
    await check.connect();
    const [offsets] = await check.fetchTopicOffsets("full");
    await check.disconnect();
    expect(offsets?.high).toBe(String(acked.length));
  }, 120_000);
});

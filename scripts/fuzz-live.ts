/**
 * The live-broker fuzz for a set time (test/server/fuzz-live-loop.ts): a broker started in this
 * process on a temporary directory, mutated real frames for every served API and version, the
 * broker's liveness checked every 500 inputs and the process's resident memory sampled. The suite
 * runs a bounded one (test/server/fuzz-live.test.ts).
 *
 *   tsx scripts/fuzz-live.ts [seconds=60] [seed=<time>]
 *
 * Prints the seed first so a run can be replayed; exits 1 if the broker stopped answering.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { startBroker } from "../src/index.js";
import { fuzzLiveBroker } from "../test/server/fuzz-live-loop.js";

const seconds = Number(process.argv[2] ?? 60);
const seed = Number(process.argv[3] ?? Date.now() >>> 0) >>> 0;
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
  console.error("usage: tsx scripts/fuzz-live.ts [seconds (at most 86400)] [seed]");
  process.exit(2);
}
console.log(`fuzz-live: seed ${seed}, ${seconds} s`);
const dir = mkdtempSync(path.join(os.tmpdir(), "krill-fuzz-live-"));
const broker = await startBroker(
  { "log.dirs": dir, "auto.create.topics.enable": false, "socket.request.max.bytes": 1 << 20 },
  { logger: pino({ level: "silent" }) },
);
const MiB = 1024 * 1024;
try {
  const r = await fuzzLiveBroker(broker, {
    seed,
    inputsMax: Number.MAX_SAFE_INTEGER,
    timeLimitMs: seconds * 1000,
  });
  console.log(
    `${r.inputs} inputs over ${r.targets} API versions in ${seconds} s: ${r.answered} answered, ${r.closed} closed the connection, ` +
      `${r.unanswered} unanswered within 2 s; slowest answer ${r.slowestMs.toFixed(0)} ms (${r.slowestApi}); ` +
      `RSS ${(r.rssStartBytes / MiB).toFixed(0)} MiB at start, ${(r.rssPeakBytes / MiB).toFixed(0)} MiB at peak`,
  );
  if (r.failure !== undefined) {
    console.log(`FAIL ${r.failure}`);
    process.exitCode = 1;
  }
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Child process of the crash test: appends batches to one partition as fast as it can and prints
 * "ack <lastOffset>" after each append returns, until it is killed (SIGKILL, at a random moment).
 * Usage: crash-child.ts <logDir> <leaderEpoch>
 */
import { logConfigFrom } from "../../../src/log/config.js";
import { LogManager } from "../../../src/log/log-manager.js";
import { CRASH_TOPIC_CONFIG, crashBatch } from "./crash-batch.js";

const [logDir, epochText] = process.argv.slice(2);
if (logDir === undefined || epochText === undefined)
  throw new Error("usage: crash-child.ts <logDir> <leaderEpoch>");
const leaderEpoch = Number(epochText);
const manager = new LogManager({ logDirs: [logDir], defaultConfig: logConfigFrom(CRASH_TOPIC_CONFIG) });
manager.startup();
const log = manager.getOrCreateLog({ topic: "crash", partition: 0 });
process.stdout.write(`ready ${log.logEndOffset}\n`);
// Bounded, in case the parent never kills us.
const deadline = Date.now() + 20_000;
function burst(): void {
  for (let i = 0; i < 50 && Date.now() < deadline; i++) {
    const base = log.logEndOffset;
    const r = log.append(crashBatch(base, leaderEpoch), { assignOffsets: true, leaderEpoch });
    // stdout to a pipe is synchronous on Linux: the ack is out before the next append starts.
    process.stdout.write(`ack ${r.lastOffset}\n`);
  }
  if (Date.now() < deadline) setImmediate(burst);
}
burst();

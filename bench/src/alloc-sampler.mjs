// Preload for a Node broker (`node --import ./bench/src/alloc-sampler.mjs …`): V8's sampling heap
// profiler with the objects later collected included (which `--heap-prof` leaves out: it keeps only
// what is alive at exit), so short-lived allocation on the hot paths shows, by call stack. The
// profile is written to $ALLOC_SAMPLER_OUT (default ./alloc.heapprofile) when the process exits.
// Summarize it with `tsx bench/src/alloc-summary.ts FILE`.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";

const out = process.env.ALLOC_SAMPLER_OUT ?? "alloc.heapprofile";
const session = new Session();
session.connect();
session.post("HeapProfiler.enable");
session.post("HeapProfiler.startSampling", {
  samplingInterval: Number(process.env.ALLOC_SAMPLER_INTERVAL ?? 16384),
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
let written = false;
function write() {
  if (written) return;
  written = true;
  session.post("HeapProfiler.stopSampling", (err, result) => {
    if (!err) writeFileSync(out, JSON.stringify(result.profile));
  });
}
process.on("exit", write);

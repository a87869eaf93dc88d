// Checks a history again (the merged history.jsonl a run wrote, or any client files) and prints
// the anomalies as the report does: tsx chaos/src/check.ts FILE.jsonl [FILE.jsonl ...]
// Exit status 0 when valid, 1 when not.
import { check } from "./checker.js";
import { mergeHistories, readHistoryFile } from "./history.js";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: tsx chaos/src/check.ts HISTORY.jsonl [HISTORY.jsonl ...]");
  process.exit(2);
}
const history = mergeHistories(files.map((f) => readHistoryFile(f)));
const result = check(history);
console.log(
  JSON.stringify(
    { valid: result.valid, badTypes: result.badTypes, counts: result.counts, stats: result.stats },
    null,
    1,
  ),
);
for (const [type, list] of Object.entries(result.anomalies)) {
  for (const a of list.slice(0, 5)) {
    const { context, ...rest } = a;
    console.log(`${type}: ${JSON.stringify(rest)}`);
    for (const c of context ?? [])
      console.log(`    #${c.index} ${c.process} ${c.type} ${c.f} ${JSON.stringify(c.value)}`);
  }
}
process.exit(result.valid ? 0 : 1);

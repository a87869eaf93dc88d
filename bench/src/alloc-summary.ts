// Summarizes a sampling heap profile (bench/src/alloc-sampler.mjs, or Chrome DevTools'
// .heapprofile): sampled bytes allocated per function, self and inclusive, largest first.
//
//   tsx bench/src/alloc-summary.ts FILE.heapprofile [--top 25]
import { readFileSync } from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  selfSize: number;
  children?: ProfileNode[];
}
interface Profile {
  head: ProfileNode;
  samples?: { size: number; nodeId: number }[];
}

const file = process.argv[2];
if (file === undefined) {
  console.error("usage: tsx bench/src/alloc-summary.ts FILE.heapprofile [--top 25]");
  process.exit(2);
}
const topAt = process.argv.indexOf("--top");
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;

const name = (f: CallFrame) =>
  `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
function walk(node: ProfileNode, stack: Set<string>): number {
  const n = name(node.callFrame);
  let sum = node.selfSize;
  self.set(n, (self.get(n) ?? 0) + node.selfSize);
  total += node.selfSize;
  const inner = new Set(stack).add(n);
  for (const c of node.children ?? []) sum += walk(c, inner);
  if (!stack.has(n)) inclusive.set(n, (inclusive.get(n) ?? 0) + sum);
  return sum;
}
walk(profile.head, new Set());
const mb = (b: number) => (b / 1024 ** 2).toFixed(1);
console.log(`sampled allocation: ${mb(total)} MiB`);
console.log("\nself MiB | function");
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(v)} | ${k}`);
console.log("\ninclusive MiB | function");
for (const [k, v] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(v)} | ${k}`);

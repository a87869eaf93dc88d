#!/usr/bin/env bash
# Before/after CPU, allocation and GC per GiB of two Krill builds with this checkout's bench
# (bench/src/cpu-per-gib.ts --only krill --krill-root …), the two taking turns ROUNDS times so that a
# change in the machine's load hits both alike.
#
#   bench/ab.sh BEFORE_REF AFTER_REF [ROUNDS] [-- cpu-per-gib options]
#   e.g. bench/ab.sh e4562e9^ e4562e9 3 -- --compression lz4 --rate-mibps 50 --seconds 20
#        bench/ab.sh HEAD~1 HEAD 3
#
# Each ref is checked out as a detached git worktree under ${AB_DIR:-/tmp/krill-ab}/<sha> (once; kept
# for the next call, `git worktree remove` to drop it), with this checkout's node_modules linked in,
# and built with `make build`. Results: bench/out/ab/<before>-<after>/{before,after}-<round>.json and
# a table on stdout (per round: CPU-s/GiB produce and consume, JS heap MiB/GiB, scavenges,
# mark-compacts and GC pause ms per GiB; then the medians).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ $# -ge 2 ] || {
  echo "usage: bench/ab.sh BEFORE_REF AFTER_REF [ROUNDS] [-- cpu-per-gib options]" >&2
  exit 2
}
before_ref=$1
after_ref=$2
shift 2
rounds=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  rounds=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
ab_dir=${AB_DIR:-/tmp/krill-ab}
mkdir -p "$ab_dir"

# checkout REF: a built worktree of REF; prints its path.
checkout() {
  local sha dir
  sha=$(git -C "$root" rev-parse --short=10 "$1^{commit}")
  dir="$ab_dir/$sha"
  if [ ! -d "$dir" ]; then
    git -C "$root" worktree add --detach "$dir" "$sha" >&2
    ln -s "$root/node_modules" "$dir/node_modules"
  fi
  if [ ! -f "$dir/dist/krill.mjs" ]; then
    (cd "$dir" && make build >&2)
    git -C "$dir" checkout -- package-lock.json 2>/dev/null || true
  fi
  echo "$dir"
}

before_dir=$(checkout "$before_ref")
after_dir=$(checkout "$after_ref")
out="$root/bench/out/ab/$(basename "$before_dir")-$(basename "$after_dir")"
mkdir -p "$out"
echo "ab: before $before_ref ($before_dir), after $after_ref ($after_dir), $rounds rounds; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do
    dir=$before_dir
    [ "$side" = after ] && dir=$after_dir
    echo "ab: round $i, $side" >&2
    tsx "$here/src/cpu-per-gib.ts" --only krill --krill-root "$dir" --out "$out/$side-$i.json" "$@" >/dev/null
  done
done
node -e '
const fs = require("fs");
const [dir, rounds] = [process.argv[1], Number(process.argv[2])];
const rows = [];
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor((s.length - 1) / 2)]; };
const agg = { before: {}, after: {} };
const f = (n, d = 2) => (n === undefined || Number.isNaN(n) ? "-" : n.toFixed(d));
console.log("| side | round | load | produce CPU-s/GiB | consume CPU-s/GiB | produce heap MiB/GiB | produce scavenges/GiB | produce mark-compacts/GiB | produce GC pause ms/GiB | consume GC pause ms/GiB |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const side of ["before", "after"]) for (let i = 1; i <= rounds; i++) {
  const r = JSON.parse(fs.readFileSync(`${dir}/${side}-${i}.json`, "utf8"));
  const k = r.results.find((x) => x.target === "krill");
  if (!k || k.error) { console.log(`| ${side} | ${i} | ${r.load} | failed: ${k && k.error} |`); continue; }
  const p = k.produce, c = k.consume, pg = p.gcPerGiB || {}, cg = c.gcPerGiB || {};
  const v = { pcpu: p.broker.perGiB, ccpu: c.broker.perGiB, heap: pg.heapAllocatedBytes / 2 ** 20, scav: pg.scavenges, mc: pg.markCompacts, ppause: pg.pauseMs, cpause: cg.pauseMs };
  for (const [key, x] of Object.entries(v)) (agg[side][key] ??= []).push(x);
  console.log(`| ${side} | ${i} | ${r.load} | ${f(v.pcpu)} | ${f(v.ccpu)} | ${f(v.heap, 0)} | ${f(v.scav, 0)} | ${f(v.mc, 1)} | ${f(v.ppause, 0)} | ${f(v.cpause, 0)} |`);
}
for (const side of ["before", "after"]) {
  const a = agg[side], m = (k) => (a[k] ? med(a[k]) : undefined);
  console.log(`| ${side} | median | | ${f(m("pcpu"))} | ${f(m("ccpu"))} | ${f(m("heap"), 0)} | ${f(m("scav"), 0)} | ${f(m("mc"), 1)} | ${f(m("ppause"), 0)} | ${f(m("cpause"), 0)} |`);
}
' "$out" "$rounds"

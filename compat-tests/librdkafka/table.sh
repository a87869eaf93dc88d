#!/usr/bin/env bash
# Joins two run-suite.sh results (Kafka's and Krill's) into the Markdown rows of FINDINGS.md:
# | test | Kafka | Krill | (cause left to fill). A test number that printed no summary (TIMEOUT,
# CRASH) stands for every test of that number. Tests skipped or absent on both are left out.
#
#   table.sh KAFKA_OUT KRILL_OUT
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: table.sh KAFKA_OUT KRILL_OUT" >&2 && exit 2; }
awk -F'\t' '
  FNR == 1 { side++ }
  {
    num = substr($1, 1, 4)
    if ($1 == num) { bare[side, num] = $2 } else { status[side, $1] = $2; named[num] = 1 }
    if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
  }
  function pick(s, t, num) {
    if ((s, t) in status) return status[s, t]
    if ((s, num) in bare) return bare[s, num]
    return "-"
  }
  function quiet(x) { return x == "SKIPPED" || x == "ABSENT" || x == "-" }
  END {
    for (i = 1; i <= n; i++) {
      t = order[i]; num = substr(t, 1, 4)
      if (t == num && (num in named)) continue
      k = pick(1, t, num); r = pick(2, t, num)
      if (quiet(k) && quiet(r)) continue
      printf "| %s | %s | %s | |\n", t, k, r
    }
  }' "$1/results.tsv" "$2/results.tsv"

#!/usr/bin/env bash
# Krill vs Apache Kafka on this machine, in one run (make bench / make bench-quick).
#   bench/run.sh [--quick] [--only kafka|krill] [--records N] [--repeat N] [--skip-machine] [--no-profile] [--no-ceiling]
#       --records N: N records per producer workload instead of the mode's size (a fast end-to-end
#       check of the full matrix: bench/run.sh --records 20000)
#       --no-ceiling: skip the producer runs against the null sink (bench/src/null-broker.ts)
#   bench/run.sh --report-only     regenerate bench/RESULTS.md and bench/results.png from bench/out/results.json
#   bench/run.sh --machine-only    measure the machine's limits again into bench/out/results.json (noted as such)
# Needs the compat suite's dependencies (Java 17+, the Kafka jars resolved by
# scripts/install-compat-deps.sh) and gnuplot for the plot (installed here from apt when missing).
# Results: bench/out/results.json (raw), bench/RESULTS.md, bench/results.png; tool output under
# bench/out/logs/. Method: docs/bench.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
kafka_version=${KAFKA_VERSION:-4.4.0}

report_only=0
for arg in "$@"; do
  [ "$arg" = "--report-only" ] && report_only=1
done

if [ "$report_only" -eq 0 ]; then
  if [ ! -s "$root/compat-tests/.cache/kafka-$kafka_version.classpath" ] || ! command -v javac >/dev/null 2>&1; then
    echo "bench: installing the compat suite's dependencies (Java, Kafka $kafka_version jars)" >&2
    "$root/scripts/install-compat-deps.sh"
  fi
  command -v javac >/dev/null 2>&1 || {
    echo "bench: javac is missing (needs a JDK, e.g. openjdk-17-jdk-headless)" >&2
    exit 1
  }
  [ -f "$root/dist/src/cli.js" ] || echo "bench: Krill is not built (run 'make build'); its phase will fail to start" >&2
fi
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "bench: installing gnuplot-nox for the plot" >&2
  if [ "$(id -u)" -eq 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gnuplot-nox) \
      >/dev/null 2>&1 || echo "bench: could not install gnuplot; RESULTS.md will have no plot" >&2
  else
    echo "bench: not root, cannot apt-get install gnuplot-nox; RESULTS.md will have no plot" >&2
  fi
fi

# The orchestrator stops the broker it started on any exit; this trap is the backstop for a kill
# of this script itself: stop whatever broker folder still has a pid file.
cleanup() {
  local code=$?
  for dir in "$root"/bench/out/run/*/; do
    [ -f "$dir/broker.pid" ] && "$root/compat-tests/broker.sh" stop --dir "$dir" || true
  done
  exit "$code"
}
trap cleanup EXIT INT TERM

tsx "$here/src/main.ts" "$@"
# The README shows the headline of bench/RESULTS.md: keep it in step.
tsx "$root/scripts/update-readme.ts"

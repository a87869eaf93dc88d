#!/usr/bin/env bash
# The bounded compat subset `make test` runs (`make compat-subset`): kafkajs, one pass of the Java
# console tools (4.x: topics, console producer and consumer), kcat and krill's admin commands,
# against Krill, in under 3 minutes. Exits non-zero when any scenario fails (except known gaps, see known-gaps.txt) or the
# broker does not start. Does not touch REPORT.md.
#
#   run-subset.sh [--target krill|kafka]   (kafka: check the subset itself against the reference)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# Assigned first so that set -e stops the run when no usable Node is found.
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
kafka_version=${KAFKA_VERSION:-4.4.0}

target=krill
if [ "${1:-}" = "--target" ]; then
  case "${2:-}" in
  krill | kafka) target=$2 ;;
  *) echo "run-subset: --target must be krill or kafka" >&2 && exit 2 ;;
  esac
fi

"$root/scripts/install-compat-deps.sh"

# A folder per run, so that subsets started by several engineers at once do not share a broker
# or logs; folders of finished runs are removed.
for stale in "$here"/.work/subset-*; do
  [ -d "$stale" ] || continue
  kill -0 "${stale##*-}" 2>/dev/null || rm -rf "$stale"
done
work="$here/.work/subset-$$"
mkdir -p "$work"
export TARGET=$target RESULTS_FILE="$work/results.tsv" LOG_DIR="$work/logs" SCENARIO_TIMEOUT_S=90
started_ms=$(date +%s%3N)
bootstrap=$("$here/broker.sh" start "$target" --dir "$work/broker" --kafka-version "$kafka_version") || {
  echo "run-subset: $target did not start" >&2
  exit 1
}
trap '"$here/broker.sh" stop --dir "$work/broker"' EXIT
export BOOTSTRAP=$bootstrap BROKER_DATA_DIR="$work/broker/data"

status=0
"$here/kafkajs/run.sh" || status=1
# The Java tools' pass is kept to topics, the console producer/consumer and kafka-dump-log over
# the metadata log: every tool call is a JVM start, and consumer-groups alone makes eleven of them
# (the full suite runs it).
SCENARIOS="topics console-produce-consume dump-log" KAFKA_TOOLS_VERSION=$kafka_version \
  "$here/java-tools/run.sh" || status=1
"$here/kcat/run.sh" || status=1
# Krill's admin commands, without the side-by-side pass with Kafka's tools (JVM starts).
SCENARIOS="topics groups configs cluster produce-consume consume-group reset-offsets acls" "$here/krill-cli/run.sh" || status=1

passed=$(grep -c "^result.*	pass	" "$RESULTS_FILE" || true)
total=$(grep -c "^result" "$RESULTS_FILE" || true)
echo "run-subset: $target: $passed / $total scenarios passed in $((($(date +%s%3N) - started_ms) / 1000)) s (logs: ${LOG_DIR#"$root"/})" >&2
exit "$status"

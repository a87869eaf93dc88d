#!/usr/bin/env bash
# The whole compatibility suite (`make compat`): for each target (the reference Apache Kafka, then
# Krill) start a fresh broker, run every client's scenarios against it, stop it; then write
# compat-tests/REPORT.md (client x scenario, pass/fail on Krill and on Kafka, client versions).
#
#   run-all.sh [--target kafka|krill|all] [--clients "kafkajs kcat ..."] [--skip-install]
#
# Clients: kafkajs java-tools-4.4.0 java-tools-3.9.2 java-consumer java-txn-4.4.0 java-txn-3.9.2
# kcat confluent-python kafka-python platformatic krill-cli (Krill's admin commands)
# testcontainers (Krill in a container; nothing to run on Kafka), and cluster: three combined
# nodes of the target (compat-tests/cluster/run.sh: Kafka's tools through each node, kill -9 of a
# partition leader, of the group coordinator's node, of the transaction coordinator's node), run
# after the single broker stopped, on its own cluster. `--target krill --clients cluster` runs
# only that on one target.
# SCENARIOS="a b" narrows the scenarios (by name, in every client).
# When only one target runs, the report keeps the other target's last results (the Runs table
# shows when each ran); when only some clients run, the other clients' last results stay too.
# Exits non-zero when any scenario failed (known gaps aside, see known-gaps.txt) or a broker did
# not start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# Assigned first so that set -e stops the run when no usable Node is found.
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

kafka_version=${KAFKA_VERSION:-4.4.0}
kafka_legacy_version=${KAFKA_LEGACY_VERSION:-3.9.2}
all_clients="kafkajs java-tools-$kafka_version java-tools-$kafka_legacy_version java-consumer java-txn-$kafka_version java-txn-$kafka_legacy_version kcat confluent-python kafka-python platformatic krill-cli testcontainers cluster"
targets="kafka krill"
clients=$all_clients
install=1
report="$here/REPORT.md"
work="$here/.work"

while [ $# -gt 0 ]; do
  case "$1" in
  --target)
    case "${2:-}" in
    kafka | krill) targets=$2 ;;
    all) targets="kafka krill" ;;
    *) echo "run-all: --target must be kafka, krill or all" >&2 && exit 2 ;;
    esac
    shift 2
    ;;
  --clients)
    clients=${2//,/ }
    shift 2
    ;;
  --skip-install)
    install=0
    shift
    ;;
  --report)
    report=$2
    shift 2
    ;;
  -h | --help)
    # The header comment is the help text.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
  *)
    echo "run-all: unknown argument $1" >&2
    exit 2
    ;;
  esac
done
for client in $clients; do
  case " $all_clients " in
  *" $client "*) ;;
  *) echo "run-all: unknown client $client (known: $all_clients)" >&2 && exit 2 ;;
  esac
done

# One run at a time: runs share compat-tests/.work (brokers, results, logs), and two at once on a
# small machine would also distort each other's timings.
mkdir -p "$work"
exec 9>"$work/run-all.lock"
if ! flock -n 9; then
  echo "run-all: another run-all.sh is in progress (it holds $work/run-all.lock); wait for it to finish" >&2
  exit 1
fi

if [ "$install" -eq 1 ]; then
  "$root/scripts/install-compat-deps.sh"
fi

# run_client CLIENT: runs one client's run.sh with the environment already exported.
run_client() {
  case "$1" in
  java-tools-*) KAFKA_TOOLS_VERSION=${1#java-tools-} "$here/java-tools/run.sh" ;;
  java-consumer) KAFKA_TOOLS_VERSION=$kafka_version "$here/java-consumer/run.sh" ;;
  java-txn-*) KAFKA_TOOLS_VERSION=${1#java-txn-} "$here/java-txn/run.sh" ;;
  *) "$here/$1/run.sh" ;;
  esac
}

status=0
mkdir -p "$work"
# A broker left running by an interrupted run would hold its port and data; stop it on any exit.
current_broker_dir=""
trap '[ -z "$current_broker_dir" ] || "$here/broker.sh" stop --dir "$current_broker_dir"' EXIT
for target in $targets; do
  results="$work/results-$target.tsv"
  broker_dir="$work/broker-$target"
  meta_prefix=""
  if { [ "$clients" = "$all_clients" ] && [ -z "${SCENARIOS:-}" ]; } || [ ! -f "$results" ]; then
    : >"$results"
    rm -rf "$work/logs/$target"
  else
    # A run of some clients (or some scenarios) replaces only the rows it runs again: the rest of
    # the last results stay in the report. The last full run's meta rows (time, start-up,
    # duration) stay too; this run's are recorded as partial_*.
    keep=$(mktemp)
    awk -F '\t' -v clients=" $clients " -v scenarios=" ${SCENARIOS:-} " '
      $1 == "meta" && $3 ~ /^partial_/ { next }
      $1 == "result" && index(clients, " " $3 " ") && (scenarios == "  " || index(scenarios, " " $4 " ")) { next }
      $1 == "version" && index(clients, " " $2 " ") { next }
      { print }' "$results" >"$keep"
    mv "$keep" "$results"
    meta_prefix=partial_
  fi
  rm -rf "$broker_dir"
  mkdir -p "$broker_dir"
  export TARGET=$target RESULTS_FILE=$results LOG_DIR="$work/logs"
  printf 'meta\t%s\t%sstarted_at\t%s\n' "$target" "$meta_prefix" "$(date -u '+%Y-%m-%d %H:%M')" >>"$results"
  if [ "$target" = kafka ]; then
    printf 'meta\t%s\t%sbroker\tApache Kafka %s (KRaft combined mode, one node)\n' "$target" "$meta_prefix" "$kafka_version" >>"$results"
  else
    printf 'meta\t%s\t%sbroker\tKrill %s (dist/ built from the working tree at %s)\n' "$target" "$meta_prefix" "$(node -p "require('$root/package.json').version")" \
      "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" >>"$results"
  fi
  # The clients that use the single broker (cluster starts its own three nodes, below).
  single_clients=$(tr ' ' '\n' <<<"$clients" | grep -vx cluster | paste -sd' ' || true)
  suite_started_ms=$(date +%s%3N)
  if [ -n "$single_clients" ]; then
    echo "== $target: starting broker" >&2
    current_broker_dir=$broker_dir
    if bootstrap=$("$here/broker.sh" start "$target" --dir "$broker_dir" --kafka-version "$kafka_version"); then
      printf 'meta\t%s\t%sstartup_ms\t%s\n' "$target" "$meta_prefix" "$(cat "$broker_dir/startup-ms")" >>"$results"
      echo "== $target: broker at $bootstrap (started in $(cat "$broker_dir/startup-ms") ms)" >&2
      export BOOTSTRAP=$bootstrap BROKER_DATA_DIR="$broker_dir/data"
      for client in $single_clients; do
        run_client "$client" || status=1
      done
      "$here/broker.sh" stop --dir "$broker_dir"
      current_broker_dir=""
    else
      status=1
      printf 'meta\t%s\t%sstartup_error\tbroker did not start\n' "$target" "$meta_prefix" >>"$results"
      # Every scenario fails on this target; record them so the matrix shows it.
      for client in $single_clients; do
        LIST_SCENARIOS=1 run_client "$client" | while read -r c s; do
          printf 'result\t%s\t%s\t%s\tfail\t0\t%s did not start\n' "$target" "$c" "$s" "$target" >>"$results"
        done
      done
    fi
  fi
  unset BOOTSTRAP BROKER_DATA_DIR
  if [[ " $clients " == *" cluster "* ]]; then
    echo "== $target: the cluster scenarios (three nodes)" >&2
    "$here/cluster/run.sh" --target "$target" || status=1
  fi
  printf 'meta\t%s\t%ssuite_ms\t%s\n' "$target" "$meta_prefix" "$(($(date +%s%3N) - suite_started_ms))" >>"$results"
done

tsx "$here/lib/report.ts" --out "$report" \
  --results "kafka=$work/results-kafka.tsv" --results "krill=$work/results-krill.tsv"
# Keep the generated Markdown in the formatter's shape so `make lint` stays clean.
biome format --write "$report" >/dev/null 2>&1 || true
echo "run-all: report written to ${report#"$root"/}" >&2
# The README's compatibility table is generated from the report: keep it in step.
if [ "$report" = "$here/REPORT.md" ]; then
  tsx "$root/scripts/update-readme.ts"
fi
for target in $targets; do
  passed=$(grep -c "^result.*	pass	" "$work/results-$target.tsv" || true)
  total=$(grep -c "^result" "$work/results-$target.tsv" || true)
  echo "run-all: $target: $passed / $total scenarios passed" >&2
done
exit "$status"

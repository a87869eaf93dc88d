#!/usr/bin/env bash
# The cluster scenarios (issue 16): three combined KRaft nodes on loopback started with Kafka's keys
# (compat-tests/quorum/cluster.sh, the same server.properties for both targets), internal topics
# with replication factor 3 and min.insync.replicas=2, then:
#
#   cli-tools            Kafka's tools through each node in turn: kafka-topics --describe of an RF=3
#                        topic (Leader, Replicas, Isr the same through every node and as Kafka shows
#                        them), kafka-leader-election --election-type preferred
#                        --all-topic-partitions after a leader moved, kafka-consumer-groups --list /
#                        --describe, kafka-transactions list / describe
#   kill-leader          kill -9 of a partition leader under an idempotent acks=all producer
#   kill-group-coordinator  kill -9 of the group coordinator's node under a committing consumer
#   kill-txn-coordinator    kill -9 of the transaction coordinator's node under a transactional
#                        producer, read back with read_committed
#
# One cluster per target serves every scenario (each restarts what it killed and leaves three
# nodes up). Results go to RESULTS_FILE (as every client's, see ../lib/common.sh) under the client
# name "cluster"; run-all.sh runs this once per target after its single-broker clients.
#
#   run.sh [--target krill|kafka|both]     (default both; a scenario is trusted once it passes on Kafka)
#
# SCENARIOS narrows as elsewhere. Krill must be built (make build); Kafka's jars come from
# scripts/install-compat-deps.sh. Each node's output stays in compat-tests/.work/cluster/<target>
# until the next run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compat=$(cd "$here/.." && pwd)
root=$(cd "$compat/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
export KAFKA_TOOLS_VERSION=${KAFKA_VERSION:-4.4.0}

targets="kafka krill"
if [ "${1:-}" = "--target" ]; then
  case "${2:-}" in
  krill | kafka) targets=$2 ;;
  both) ;;
  *) echo "cluster/run.sh: --target must be krill, kafka or both" >&2 && exit 2 ;;
  esac
fi
[ -z "${TARGET:-}" ] || targets=$TARGET

scenarios="cli-tools kill-leader kill-group-coordinator kill-txn-coordinator"
# The scenarios' own bound (each kills and restarts a node: a JVM start on Kafka).
: "${SCENARIO_TIMEOUT_S:=420}"
export SCENARIO_TIMEOUT_S

if [ "${LIST_SCENARIOS:-0}" = 1 ]; then
  for s in $scenarios; do echo "cluster $s"; done
  exit 0
fi

# The same keys for both targets; auto.leader.rebalance.enable off so that only
# kafka-leader-election moves a leader back (Kafka's default check runs every 300 s anyway).
properties=(
  --property offsets.topic.replication.factor=3
  --property offsets.topic.num.partitions=10
  --property transaction.state.log.replication.factor=3
  --property transaction.state.log.num.partitions=10
  --property transaction.state.log.min.isr=2
  --property min.insync.replicas=2
  --property auto.leader.rebalance.enable=false
)

status=0
dir=""
trap '[ -z "$dir" ] || "$compat/quorum/cluster.sh" stop --dir "$dir"' EXIT
for target in $targets; do
  dir="$compat/.work/cluster/$target"
  rm -rf "$dir"
  export TARGET=$target CLUSTER_DIR=$dir
  started=$(date +%s%3N)
  if ! "$compat/quorum/cluster.sh" start "$target" --dir "$dir" --kafka-version "$KAFKA_TOOLS_VERSION" "${properties[@]}"; then
    echo "cluster[$target]: the cluster did not start" >&2
    "$compat/quorum/cluster.sh" stop --dir "$dir" || true
    if [ -n "${RESULTS_FILE:-}" ]; then
      for s in $scenarios; do
        printf 'result\t%s\tcluster\t%s\tfail\t0\tthe three %s nodes did not start\n' "$target" "$s" "$target" >>"$RESULTS_FILE"
      done
    fi
    status=1
    continue
  fi
  echo "cluster[$target]: three nodes up in $((($(date +%s%3N) - started) / 1000)) s" >&2
  export BOOTSTRAP
  BOOTSTRAP=$(cat "$dir/bootstrap-server")
  (
    source "$compat/lib/common.sh"
    record_version cluster "three combined nodes, confluent-kafka $(/usr/bin/python3 -c 'import confluent_kafka as c; print(c.version()[0])'), Kafka tools $KAFKA_TOOLS_VERSION"
    # A scenario that failed (or timed out) between a kill and the restart leaves a node down:
    # the next one starts with three again.
    heal() {
      local id
      for id in 1 2 3; do
        [ -f "$dir/node-$id/pid" ] && kill -0 "$(cat "$dir/node-$id/pid")" 2>/dev/null && continue
        echo "cluster[$target]: node $id is down after a scenario; restarting it" >&2
        "$compat/quorum/cluster.sh" restart "$id" --dir "$dir" || true
      done
    }
    run_scenario cluster cli-tools "$here/scenarios/cli-tools.sh"
    for s in kill-leader kill-group-coordinator kill-txn-coordinator; do
      heal
      run_scenario cluster "$s" "$PYTHON" "$here/scenarios/$s.py"
    done
    finish_client
  ) || status=1
  "$compat/quorum/cluster.sh" stop --dir "$dir"
  dir=""
done
exit "$status"

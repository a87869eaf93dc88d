# kafka-metadata-quorum describe --status and --replication against the single combined node, through
# its broker listener (--bootstrap-server: DescribeQuorum forwarded to the controller) and its
# controller listener (--bootstrap-controller, KIP-919: DescribeCluster lists the controllers, then
# DescribeQuorum to the active one): node 1 leads a quorum of one, is its only voter with its
# CONTROLLER endpoint, and there are no observers. The controller listener comes from the broker's
# server.properties beside BROKER_DATA_DIR (broker.sh writes the same file for both targets).
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
[ -n "${BROKER_DATA_DIR:-}" ] || fail "BROKER_DATA_DIR is not set (run-all.sh and run-subset.sh set it)"
properties="$BROKER_DATA_DIR/../server.properties"
controller=$(sed -n 's/^listeners=.*CONTROLLER:\/\/\([0-9.]*:[0-9]*\).*/\1/p' "$properties")
[ -n "$controller" ] || fail "no CONTROLLER listener in $properties"
for bootstrap in "--bootstrap-server $BOOTSTRAP" "--bootstrap-controller $controller"; do
  # shellcheck disable=SC2086 # two words on purpose
  status=$(kafka_tool kafka-metadata-quorum $bootstrap describe --status)
  printf '%s\n' "$status" | grep -Eq '^LeaderId:[[:space:]]+1$' || fail "$bootstrap: LeaderId not 1: $status"
  printf '%s\n' "$status" | grep -Eq '^LeaderEpoch:[[:space:]]+[1-9][0-9]*$' || fail "$bootstrap: no epoch: $status"
  printf '%s\n' "$status" | grep -Eq '^HighWatermark:[[:space:]]+[1-9][0-9]*$' || fail "$bootstrap: no high watermark: $status"
  assert_contains "$status" "\"endpoints\": [\"CONTROLLER://$controller\"]" "$bootstrap: the voter's endpoint"
  assert_contains "$status" "CurrentObservers:       []" "$bootstrap: no observers"
  # shellcheck disable=SC2086
  replication=$(kafka_tool kafka-metadata-quorum $bootstrap describe --replication)
  rows=$(printf '%s\n' "$replication" | grep -Ec '^[0-9]+[[:space:]]' || true)
  assert_eq "$rows" "1" "$bootstrap: one replica row"
  printf '%s\n' "$replication" | grep -Eq '^1[[:space:]].*[[:space:]]Leader[[:space:]]*$' ||
    fail "$bootstrap: node 1 is not listed as Leader: $replication"
done

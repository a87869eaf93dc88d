# kafka-leader-election: preferred elections on one partition and on every partition, where the
# preferred replica already leads (ELECTION_NOT_NEEDED: "Valid replica already elected"); an unknown
# partition fails with its error.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic election)
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 2 --replication-factor 1 >/dev/null
out=$(kafka_tool kafka-leader-election "${b[@]}" --election-type preferred --topic "$topic" --partition 0 2>&1)
assert_contains "$out" "Valid replica already elected for partitions $topic-0" "preferred, one partition"
out=$(kafka_tool kafka-leader-election "${b[@]}" --election-type preferred --all-topic-partitions 2>&1)
if printf '%s\n' "$out" | grep -qi "error\|exception"; then fail "all partitions: $out"; fi
out=$(kafka_tool kafka-leader-election "${b[@]}" --election-type preferred --topic "$topic" --partition 7 2>&1 || true)
assert_contains "$out" "$topic-7" "unknown partition named in the failure"
kafka_tool kafka-topics "${b[@]}" --delete --topic "$topic"

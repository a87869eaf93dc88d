# kafka-topics: create with 3 partitions, list, describe, alter to 5 partitions, delete.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic topics)
b=(--bootstrap-server "$BOOTSTRAP")
out=$(kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 3 --replication-factor 1 \
  --config retention.ms=3600000)
assert_contains "$out" "Created topic $topic" "create"
list=$(kafka_tool kafka-topics "${b[@]}" --list)
printf '%s\n' "$list" | grep -qx "$topic" || fail "list: $topic not listed"
desc=$(kafka_tool kafka-topics "${b[@]}" --describe --topic "$topic")
assert_contains "$desc" "PartitionCount: 3" "describe partition count"
assert_contains "$desc" "ReplicationFactor: 1" "describe replication factor"
assert_contains "$desc" "retention.ms=3600000" "describe configs"
assert_eq "$(printf '%s\n' "$desc" | grep -c "Leader: 1")" "3" "describe: every partition led by node 1"
out=$(kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 1 2>&1 || true)
assert_contains "$out" "already exists" "creating it again fails with TopicExistsException"
kafka_tool kafka-topics "${b[@]}" --alter --topic "$topic" --partitions 5
desc=$(kafka_tool kafka-topics "${b[@]}" --describe --topic "$topic")
assert_contains "$desc" "PartitionCount: 5" "describe after alter"
kafka_tool kafka-topics "${b[@]}" --delete --topic "$topic"
# Deletion completes asynchronously; give it a bounded while.
for _ in $(seq 1 20); do
  if ! kafka_tool kafka-topics "${b[@]}" --list | grep -qx "$topic"; then
    exit 0
  fi
  sleep 0.5
done
fail "delete: $topic still listed 10 s after deletion"

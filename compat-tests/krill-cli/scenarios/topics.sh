# krill topic create/list/describe/alter/delete, and their exit statuses.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-topics)
out=$(krill topic create "$topic" --partitions 2 --config retention.ms=600000)
assert_eq "$out" "Created topic $topic." "create"
expect_status 1 krill topic create "$topic"
expect_status 0 krill topic create "$topic" --if-not-exists
krill topic list | grep -qx "$topic" || fail "list: $topic not listed"
desc=$(krill topic describe "$topic")
head=$(printf '%s\n' "$desc" | head -1)
assert_contains "$head" "Topic: $topic	TopicId: " "describe: topic line"
assert_contains "$head" "	PartitionCount: 2	ReplicationFactor: 1	Configs: " "describe: counts"
assert_contains "$head" "retention.ms=600000" "describe: the topic's config"
assert_eq "$(printf '%s\n' "$desc" | grep -c "^	Topic: $topic	Partition: [01]	Leader: 1	Replicas: 1	Isr: 1	")" "2" "describe: partition lines"
krill topic alter "$topic" --partitions 3
assert_contains "$(krill topic describe "$topic")" "PartitionCount: 3" "alter --partitions 3"
expect_status 1 krill topic alter "$topic" --partitions 1
expect_status 2 krill topic create "$topic" --partitions none
krill topic delete "$topic"
expect_status 1 krill topic describe "$topic"
expect_status 0 krill topic delete "$topic" --if-exists

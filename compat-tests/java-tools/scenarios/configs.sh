# kafka-configs: describe a topic's and the broker's configs, alter (add and delete) a topic config.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic configs)
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 1 >/dev/null
out=$(kafka_tool kafka-configs "${b[@]}" --describe --entity-type topics --entity-name "$topic")
assert_contains "$out" "Dynamic configs for topic $topic are:" "describe with no overrides"
kafka_tool kafka-configs "${b[@]}" --alter --entity-type topics --entity-name "$topic" \
  --add-config retention.ms=123456,cleanup.policy=compact >/dev/null
out=$(kafka_tool kafka-configs "${b[@]}" --describe --entity-type topics --entity-name "$topic")
assert_contains "$out" "retention.ms=123456" "describe after alter"
assert_contains "$out" "cleanup.policy=compact" "describe after alter"
kafka_tool kafka-configs "${b[@]}" --alter --entity-type topics --entity-name "$topic" \
  --delete-config cleanup.policy >/dev/null
out=$(kafka_tool kafka-configs "${b[@]}" --describe --entity-type topics --entity-name "$topic")
assert_not_contains "$out" "cleanup.policy=compact" "describe after delete-config"
out=$(kafka_tool kafka-configs "${b[@]}" --describe --all --entity-type topics --entity-name "$topic")
assert_contains "$out" "segment.bytes=" "describe --all lists defaults"
out=$(kafka_tool kafka-configs "${b[@]}" --describe --all --entity-type brokers --entity-name 1)
assert_contains "$out" "All configs for broker 1 are:" "broker describe --all"
assert_contains "$out" "log.retention.hours=" "broker describe --all lists log.retention.hours"
out=$(kafka_tool kafka-configs "${b[@]}" --alter --entity-type topics --entity-name "$topic" \
  --add-config retention.ms=not-a-number 2>&1 || true)
assert_contains "$out" "retention.ms" "an invalid value is rejected naming the config"

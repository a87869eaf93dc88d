# krill config get/set on a topic and a broker, as kafka-configs --describe/--alter.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-configs)
krill topic create "$topic" --partitions 1 >/dev/null
assert_eq "$(krill config get --topic "$topic")" "Dynamic configs for topic $topic are:" "no overrides"
out=$(krill config set --topic "$topic" --add-config retention.ms=123456,cleanup.policy=compact)
assert_eq "$out" "Completed updating config for topic $topic." "set"
out=$(krill config get --topic "$topic")
assert_contains "$out" "  retention.ms=123456 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=123456}" "get after set"
assert_contains "$out" "  cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact, DEFAULT_CONFIG:log.cleanup.policy=delete}" "get after set"
krill config set --topic "$topic" --delete-config cleanup.policy >/dev/null
assert_not_contains "$(krill config get --topic "$topic")" "cleanup.policy" "get after delete"
expect_status 1 krill config set --topic "$topic" --delete-config cleanup.policy
expect_status 1 krill config set --topic "$topic" --set retention.ms=not-a-number
assert_contains "$(krill config get --topic "$topic" --all)" "  segment.bytes=" "get --all lists defaults"
# Kafka reports broker synonyms of retention.ms from log.retention.ms on, layer by layer.
krill config set --broker-defaults --set log.retention.ms=7200000 >/dev/null
assert_contains "$(krill config get --broker-defaults)" "  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000" "broker default set"
out=$(krill config get --topic "$topic" --all)
assert_contains "$out" "  retention.ms=123456 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=123456, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000, DEFAULT_CONFIG:log.retention.hours=168}" "topic synonyms under a broker default"
krill config set --broker-defaults --delete log.retention.ms >/dev/null
out=$(krill config get --broker 1 --all)
assert_contains "$out" "All configs for broker 1 are:" "broker get --all"
assert_contains "$out" "  log.retention.hours=168 sensitive=false" "broker get --all lists log.retention.hours"
krill topic delete "$topic"

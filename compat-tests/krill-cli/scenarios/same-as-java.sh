# The same questions asked of the same broker by Kafka's tools and by krill: identical output
# (kafka-topics --describe, kafka-consumer-groups --describe / --list, kafka-configs --describe).
set -euo pipefail
here=$(dirname "$0")
source "$here/lib.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic cli-java)
group="$topic-group"
b=(--bootstrap-server "$BOOTSTRAP")
krill topic create "$topic" --partitions 2 --config retention.ms=600000 >/dev/null
seq 1 20 | sed 's/.*/k&:&/' | kcat -b "$BOOTSTRAP" -P -t "$topic" -K: -X message.timeout.ms=20000
kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -c 15 -q "$topic" >/dev/null
java=$(kafka_tool kafka-topics "${b[@]}" --describe --topic "$topic")
ours=$(krill topic describe "$topic")
# krill does not ask DescribeTopicPartitions, so its Elr columns are N/A where Kafka's tool prints
# the (empty) lists.
assert_eq "$ours" "$(printf '%s\n' "$java" | sed 's/\tElr: [0-9,]*\tLastKnownElr: [0-9,]*$/\tElr: N\/A\tLastKnownElr: N\/A/')" "topic describe"
# Kafka's tool prints the rows of partitions no member holds in hash order: compare sorted lines.
java=$(kafka_tool kafka-consumer-groups "${b[@]}" --describe --group "$group" 2>/dev/null | sort)
ours=$(krill group describe "$group" 2>/dev/null | sort)
assert_eq "$ours" "$java" "group describe"
java=$(kafka_tool kafka-consumer-groups "${b[@]}" --list)
ours=$(krill group list)
assert_eq "$(printf '%s\n' "$ours" | sort)" "$(printf '%s\n' "$java" | sort)" "group list"
java=$(kafka_tool kafka-configs "${b[@]}" --describe --entity-type topics --entity-name "$topic")
ours=$(krill config get --topic "$topic")
assert_eq "$ours" "$java" "config describe"
krill group delete "$group" >/dev/null
krill topic delete "$topic"

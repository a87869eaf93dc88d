# The same questions asked of the same broker by Kafka's tools and by krill: identical output
# (kafka-topics --describe, kafka-consumer-groups --describe / --list / --reset-offsets,
# kafka-configs --describe), and the partition Kafka's producer and krill produce choose per key.
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
# reset-offsets: the same plan (dry run), rows compared sorted (Kafka's tool prints them in hash order).
java=$(kafka_tool kafka-consumer-groups "${b[@]}" --reset-offsets --group "$group" --topic "$topic" --to-earliest | grep -v '^$' | sort)
ours=$(krill group reset-offsets "$group" --topic "$topic" --to-earliest | grep -v '^$' | sort)
assert_eq "$ours" "$java" "group reset-offsets (dry run)"
java=$(kafka_tool kafka-consumer-groups "${b[@]}" --reset-offsets --group "$group" --all-topics --shift-by -3 | grep -v '^$' | sort)
ours=$(krill group reset-offsets "$group" --all-topics --shift-by -3 | grep -v '^$' | sort)
assert_eq "$ours" "$java" "group reset-offsets --shift-by (dry run)"
# The partitioner: the Java console producer and krill produce put each key in the same partition.
keyed="$topic-keys"
krill topic create "$keyed-java" --partitions 5 >/dev/null
krill topic create "$keyed-krill" --partitions 5 >/dev/null
keys=$(mktemp)
trap 'rm -f "$keys"' EXIT
seq 1 40 | sed 's/.*/user-&:v&/' >"$keys"
kafka_tool kafka-console-producer "${b[@]}" --topic "$keyed-java" $KT_READER_PROPERTY parse.key=true \
  $KT_READER_PROPERTY key.separator=: <"$keys"
krill produce "$keyed-krill" --key-separator : <"$keys"
java=$(krill consume "$keyed-java" --from-beginning --exit-at-end --format '%k %p\n' 2>/dev/null | sort)
ours=$(krill consume "$keyed-krill" --from-beginning --exit-at-end --format '%k %p\n' 2>/dev/null | sort)
assert_eq "$(printf '%s\n' "$ours" | wc -l)" "40" "every keyed record read back"
assert_eq "$ours" "$java" "the Java producer's partition for each key"
krill topic delete "$keyed-java"
krill topic delete "$keyed-krill"
krill group delete "$group" >/dev/null
krill topic delete "$topic"

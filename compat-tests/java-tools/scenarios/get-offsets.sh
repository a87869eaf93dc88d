# kafka-get-offsets (GetOffsetShell): latest, earliest and by-timestamp offsets per partition.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic offsets)
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 2 >/dev/null
seq 1 10 | kafka_tool kafka-console-producer "${b[@]}" --topic "$topic" \
  "$KT_PRODUCER_PROPERTY" partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner
latest=$(kafka_tool kafka-get-offsets "${b[@]}" --topic "$topic" | sort)
total=$(printf '%s\n' "$latest" | awk -F: '{ s += $3 } END { print s }')
assert_eq "$total" "10" "sum of latest offsets"
assert_eq "$(printf '%s\n' "$latest" | wc -l)" "2" "one line per partition"
earliest=$(kafka_tool kafka-get-offsets "${b[@]}" --topic "$topic" --time -2 | sort)
assert_eq "$earliest" "$topic:0:0"$'\n'"$topic:1:0" "earliest offsets"
one=$(kafka_tool kafka-get-offsets "${b[@]}" --topic "$topic" --partitions 0 --time latest)
assert_eq "$one" "$(printf '%s\n' "$latest" | grep "^$topic:0:")" "--partitions 0 --time latest"

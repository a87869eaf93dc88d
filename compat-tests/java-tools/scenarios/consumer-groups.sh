# kafka-console-consumer --group commits offsets; kafka-consumer-groups lists, describes (offsets
# and lag), resets offsets to the earliest and deletes the group.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic cg)
group="$topic-group"
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 2 >/dev/null
# Keyed records, so both partitions get some (an unkeyed run may stick to one partition).
seq 1 20 | sed 's/.*/k&:&/' | kafka_tool kafka-console-producer "${b[@]}" --topic "$topic" \
  "$KT_READER_PROPERTY" parse.key=true "$KT_READER_PROPERTY" key.separator=:
got=$(kafka_tool kafka-console-consumer "${b[@]}" --topic "$topic" --group "$group" --from-beginning \
  --max-messages 20 --timeout-ms 20000)
assert_eq "$(printf '%s\n' "$got" | sort -n | tr '\n' ' ')" "$(seq 1 20 | tr '\n' ' ')" "group consumed every record"
list=$(kafka_tool kafka-consumer-groups "${b[@]}" --list)
printf '%s\n' "$list" | grep -qx "$group" || fail "list: $group not listed"
# describe: columns GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
desc=$(kafka_tool kafka-consumer-groups "${b[@]}" --describe --group "$group")
sums=$(printf '%s\n' "$desc" | awk -v t="$topic" '$2 == t { c += $4; e += $5; l += $6; n++ } END { print n, c, e, l }')
assert_eq "$sums" "2 20 20 0" "describe: partitions, committed, end offsets, lag"
reset=$(kafka_tool kafka-consumer-groups "${b[@]}" --reset-offsets --group "$group" --topic "$topic" \
  --to-earliest --execute)
# Kafka 3.9 prints the reset rows without line breaks, so match "TOPIC PARTITION NEW-OFFSET" triples.
assert_eq "$(printf '%s\n' "$reset" | grep -oE "$topic +[0-9]+ +[0-9]+" | awk '{ n++; s += $3 } END { print n, s }')" "2 0" \
  "reset-offsets --to-earliest output"
desc=$(kafka_tool kafka-consumer-groups "${b[@]}" --describe --group "$group")
sums=$(printf '%s\n' "$desc" | awk -v t="$topic" '$2 == t { c += $4; l += $6 } END { print c, l }')
assert_eq "$sums" "0 20" "describe after reset: committed offsets and lag"
# The partition holding the most records (at least 10 of the 20).
fullest=$(printf '%s\n' "$desc" | awk -v t="$topic" '$2 == t && $5 >= 10 { print $3; exit }')
[ -n "$fullest" ] || fail "describe: no partition with 10 or more records"
kafka_tool kafka-consumer-groups "${b[@]}" --reset-offsets --group "$group" --topic "$topic:$fullest" \
  --to-offset 3 --execute >/dev/null
desc=$(kafka_tool kafka-consumer-groups "${b[@]}" --describe --group "$group")
assert_eq "$(printf '%s\n' "$desc" | awk -v t="$topic" -v p="$fullest" '$2 == t && $3 == p { print $4 }')" "3" \
  "reset-offsets --to-offset 3 on partition $fullest"
out=$(kafka_tool kafka-consumer-groups "${b[@]}" --delete --group "$group")
assert_contains "$out" "successful" "delete"
list=$(kafka_tool kafka-consumer-groups "${b[@]}" --list)
if printf '%s\n' "$list" | grep -qx "$group"; then fail "list: $group still listed after delete"; fi

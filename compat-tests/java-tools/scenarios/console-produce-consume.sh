# kafka-console-producer with keys and headers, then kafka-console-consumer --from-beginning
# --max-messages printing keys, headers, partitions and offsets.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic console)
kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 1 >/dev/null
input=""
for i in 1 2 3 4 5 6; do input+="h1:v$i,h2:x"$'\t'"key$i"$'\t'"value number $i"$'\n'; done
printf '%s' "$input" | kafka_tool kafka-console-producer --bootstrap-server "$BOOTSTRAP" --topic "$topic" \
  "$KT_READER_PROPERTY" parse.key=true "$KT_READER_PROPERTY" parse.headers=true \
  "$KT_READER_PROPERTY" key.separator=$'\t' "$KT_PRODUCER_PROPERTY" acks=all
got=$(kafka_tool kafka-console-consumer --bootstrap-server "$BOOTSTRAP" --topic "$topic" --from-beginning \
  --max-messages 6 --timeout-ms 20000 "$KT_FORMATTER_PROPERTY" print.key=true \
  "$KT_FORMATTER_PROPERTY" print.headers=true "$KT_FORMATTER_PROPERTY" print.offset=true \
  "$KT_FORMATTER_PROPERTY" print.partition=true)
expected=""
for i in 1 2 3 4 5 6; do expected+="Partition:0	Offset:$((i - 1))	h1:v$i,h2:x	key$i	value number $i"$'\n'; done
assert_eq "$got" "${expected%$'\n'}" "consumed records"
# --max-messages stops early even when more records are there.
two=$(kafka_tool kafka-console-consumer --bootstrap-server "$BOOTSTRAP" --topic "$topic" --from-beginning \
  --max-messages 2 --timeout-ms 20000)
assert_eq "$two" "value number 1"$'\n'"value number 2" "--max-messages 2"

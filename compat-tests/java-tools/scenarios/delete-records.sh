# kafka-delete-records: moves the log start offset; get-offsets --time -2 and the consumer agree.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic delrec)
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 1 >/dev/null
seq 0 9 | kafka_tool kafka-console-producer "${b[@]}" --topic "$topic"
json=$(mktemp)
trap 'rm -f "$json"' EXIT
printf '{"version":1,"partitions":[{"topic":"%s","partition":0,"offset":4}]}' "$topic" >"$json"
out=$(kafka_tool kafka-delete-records "${b[@]}" --offset-json-file "$json")
assert_contains "$out" "low_watermark: 4" "delete-records result"
assert_eq "$(kafka_tool kafka-get-offsets "${b[@]}" --topic "$topic" --time -2)" "$topic:0:4" "earliest offset"
assert_eq "$(kafka_tool kafka-get-offsets "${b[@]}" --topic "$topic" --time -1)" "$topic:0:10" "latest offset"
got=$(kafka_tool kafka-console-consumer "${b[@]}" --topic "$topic" --from-beginning --max-messages 6 --timeout-ms 20000)
assert_eq "$(printf '%s\n' "$got" | tr '\n' ' ')" "4 5 6 7 8 9 " "consumer starts at the new log start"

# kafka-producer-perf-test and kafka-consumer-perf-test: short runs that must move every record.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic perf)
records=20000
kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 2 >/dev/null
out=$(kafka_tool kafka-producer-perf-test --topic "$topic" --num-records "$records" --record-size 100 \
  --throughput -1 "$KT_PERF_PRODUCER_PROPS" "bootstrap.servers=$BOOTSTRAP" acks=all compression.type=lz4)
assert_contains "$out" "$records records sent" "producer perf summary"
out=$(kafka_tool kafka-consumer-perf-test --bootstrap-server "$BOOTSTRAP" --topic "$topic" \
  "$KT_PERF_MESSAGES" "$records" --timeout 20000)
# Header then one summary line: start.time, end.time, data.consumed.in.MB, MB.sec,
# data.consumed.in.nMsg, nMsg.sec, ...
consumed=$(printf '%s\n' "$out" | awk -F', *' '$1 == "start.time" { getline; print $5 }')
assert_eq "$consumed" "$records" "consumer perf consumed records"

# consumer_byte_rate=1048576 (1 MiB/s) for one client id: 40,000 records of 1000 bytes are produced
# unthrottled, then kafka-consumer-perf-test reads them as that client. The measured rate (the
# tool's fetch.MB.sec, over the whole fetching time, Kafka's ten-second initial allowance
# included) must be within 10% of 1.00. Prints "MEASURED <target> ..." for run-security.sh's summary.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
client="quota-consumer-$RANDOM"
topic=$(unique_topic quota-consume)
records=40000
kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 1 >/dev/null
kafka_tool kafka-producer-perf-test --topic "$topic" --num-records "$records" --record-size 1000 \
  --throughput -1 "$KT_PERF_PRODUCER_PROPS" "bootstrap.servers=$BOOTSTRAP" acks=1 >/dev/null
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --add-config consumer_byte_rate=1048576 \
  --entity-type clients --entity-name "$client" >/dev/null
trap 'kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --delete-config consumer_byte_rate \
  --entity-type clients --entity-name "$client" >/dev/null 2>&1 || true' EXIT
sleep 2
work=$(mktemp -d)
printf 'client.id=%s\n' "$client" >"$work/consumer.properties"
out=$(kafka_tool kafka-consumer-perf-test --bootstrap-server "$BOOTSTRAP" --topic "$topic" \
  "$KT_PERF_MESSAGES" "$records" --timeout 120000 --command-config "$work/consumer.properties" 2>&1)
rm -rf "$work"
# Header then one summary line: start.time, end.time, data.consumed.in.MB, MB.sec,
# data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
# (The client's log lines, "[...] WARN ... is throttled", come between the header and the summary.)
line=$(printf '%s\n' "$out" | grep -v '^\[' | awk -F', *' '$1 == "start.time" { getline; print }')
consumed=$(printf '%s\n' "$line" | awk -F', *' '{ print $5 }')
# fetch.MB.sec: the rate while fetching (MB.sec also counts joining the group, which Kafka delays
# by group.initial.rebalance.delay.ms).
rate=$(printf '%s\n' "$line" | awk -F', *' '{ print $9 }')
[ "$consumed" = "$records" ] || {
  printf '%s\n' "$out"
  fail "records consumed: expected $records, got '$consumed'"
}
echo "MEASURED $TARGET: consumer_byte_rate=1048576 (1.00 MB/s), kafka-consumer-perf-test measured $rate MB/s"
if ! awk -v r="$rate" 'BEGIN { exit !(r >= 0.9 && r <= 1.1) }'; then
  echo "FAIL: measured $rate MB/s, not within 10% of 1.00 MB/s"
  exit 1
fi

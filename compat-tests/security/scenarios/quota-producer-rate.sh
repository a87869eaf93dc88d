# producer_byte_rate=1048576 (1 MiB/s) for one client id, then kafka-producer-perf-test sends
# 50,000 records of 1000 bytes as fast as it can: the measured rate (the tool's MB/sec, MiB of
# record values per second over the whole run, Kafka's ten-second initial allowance included)
# must be within 10% of 1.00. Prints "MEASURED <target> ..." for run-security.sh's summary.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
client="quota-perf-$RANDOM"
topic=$(unique_topic quota)
kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 1 >/dev/null
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --add-config producer_byte_rate=1048576 \
  --entity-type clients --entity-name "$client" >/dev/null
trap 'kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --delete-config producer_byte_rate \
  --entity-type clients --entity-name "$client" >/dev/null 2>&1 || true' EXIT
# The quota reaches the broker through the metadata log; give it a moment on both targets.
sleep 2
out=$(kafka_tool kafka-producer-perf-test --topic "$topic" --num-records 50000 --record-size 1000 \
  --throughput -1 "$KT_PERF_PRODUCER_PROPS" "bootstrap.servers=$BOOTSTRAP" "client.id=$client" acks=1 2>&1)
summary=$(printf '%s\n' "$out" | grep -E '^50000 records sent' | tail -n 1)
assert_contains "$summary" "50000 records sent" "perf summary"
rate=$(printf '%s\n' "$summary" | sed -E 's/.*\(([0-9.]+) MB\/sec\).*/\1/')
throttled=$(printf '%s\n' "$out" | grep -c "is throttled for" || true)
echo "MEASURED $TARGET: producer_byte_rate=1048576 (1.00 MB/s), kafka-producer-perf-test measured $rate MB/s ($throttled client throttle notices)"
if ! awk -v r="$rate" 'BEGIN { exit !(r >= 0.9 && r <= 1.1) }'; then
  echo "FAIL: measured $rate MB/s, not within 10% of 1.00 MB/s"
  exit 1
fi

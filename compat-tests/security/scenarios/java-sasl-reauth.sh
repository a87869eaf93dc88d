# KIP-368 re-authentication with the Java producer: the SASL listener has
# connections.max.reauth.ms=5000 (broker.sh --security tls), and kafka-producer-perf-test sends 2
# records a second for 14 s on one connection as alice (SASL/PLAIN). Every record must be sent,
# and the client's own metrics must show it re-authenticated on its connection
# (successful-reauthentication-total, which a client counts only for a re-authentication of a
# live connection, not for a new connection after the broker closed an expired one).
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic sasl-reauth)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/alice.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";
PROPS
kafka_tool kafka-topics --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/alice.properties" \
  --create --topic "$topic" --partitions 1 >/dev/null
out=$(kafka_tool kafka-producer-perf-test --topic "$topic" --num-records 28 --record-size 100 --throughput 2 \
  --print-metrics --command-config "$work/alice.properties" \
  "$KT_PERF_PRODUCER_PROPS" "bootstrap.servers=$SASL_BOOTSTRAP" acks=all 2>&1) || {
  printf '%s\n' "$out"
  fail "kafka-producer-perf-test failed"
}
assert_contains "$out" "28 records sent" "every record sent across re-authentications"
reauths=$(printf '%s\n' "$out" | awk '$1 ~ /^producer-metrics:successful-reauthentication-total:/ { print int($NF) }' | head -n 1)
failed=$(printf '%s\n' "$out" | awk '$1 ~ /^producer-metrics:failed-reauthentication-total:/ { print int($NF) }' | head -n 1)
echo "re-authentications: ${reauths:-none}, failed: ${failed:-none}"
[ "${reauths:-0}" -ge 1 ] || fail "the producer never re-authenticated (successful-reauthentication-total ${reauths:-absent})"
assert_eq "${failed:-0}" "0" "failed re-authentications"
echo "ok"

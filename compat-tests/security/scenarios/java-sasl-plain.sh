# The Java tools with SASL/PLAIN on the SASL listener: kafka-topics and the console producer and
# consumer as a JAAS user; a wrong password is refused with SaslAuthenticationException.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
props() { # FILE PASSWORD
  cat >"$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="$2";
PROPS
}
props "$work/good.properties" alice-secret
props "$work/bad.properties" wrong
topic=$(unique_topic sasl-plain)
kafka_tool kafka-topics --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/good.properties" \
  --create --topic "$topic" --partitions 1 >/dev/null
printf 'p1\np2\n' | kafka_tool kafka-console-producer --bootstrap-server "$SASL_BOOTSTRAP" \
  --command-config "$work/good.properties" --topic "$topic"
got=$(kafka_tool kafka-console-consumer --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/good.properties" \
  --topic "$topic" --from-beginning --max-messages 2 --timeout-ms 20000)
assert_eq "$got" $'p1\np2' "records over SASL/PLAIN"
set +e
refused=$(kafka_tool kafka-topics --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/bad.properties" --list 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a wrong PLAIN password listed topics"
assert_contains "$refused" "Invalid username or password" "refusal of a wrong password"
echo "ok"

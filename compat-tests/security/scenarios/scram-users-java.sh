# SCRAM users managed with kafka-configs (AlterUserScramCredentials / DescribeUserScramCredentials,
# stored in the metadata log), then the Java console producer and consumer authenticating
# with SCRAM-SHA-512 on the SASL listener; a wrong password is refused; a deleted credential is
# no longer described.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
user="bob$RANDOM"
# One mechanism per request: Kafka refuses two alterations of one user in a request
# (DUPLICATE_RESOURCE "A user credential cannot be altered twice in the same request"), Krill too.
set +e
twice=$(kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --add-config 'SCRAM-SHA-256=[iterations=8192,password=bob-secret],SCRAM-SHA-512=[password=bob-secret]' 2>&1)
set -e
assert_contains "$twice" "cannot be altered twice in the same request" "two mechanisms in one request"
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --add-config 'SCRAM-SHA-256=[iterations=8192,password=bob-secret]' >/dev/null
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --add-config 'SCRAM-SHA-512=[password=bob-secret]' >/dev/null
described=$(kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --describe --entity-type users --entity-name "$user")
assert_contains "$described" "SCRAM-SHA-256=iterations=8192" "described SCRAM-SHA-256 credential"
assert_contains "$described" "SCRAM-SHA-512=iterations=4096" "described SCRAM-SHA-512 credential"
topic=$(unique_topic scram)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scram_props() { # FILE PASSWORD
  cat >"$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$user" password="$2";
PROPS
}
scram_props "$work/good.properties" bob-secret
scram_props "$work/bad.properties" wrong
printf 'one\ntwo\n' | kafka_tool kafka-console-producer --bootstrap-server "$SASL_BOOTSTRAP" \
  --command-config "$work/good.properties" --topic "$topic"
got=$(kafka_tool kafka-console-consumer --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/good.properties" \
  --topic "$topic" --from-beginning --max-messages 2 --timeout-ms 20000)
assert_eq "$got" $'one\ntwo' "records produced and consumed with SCRAM-SHA-512"
set +e
refused=$(kafka_tool kafka-topics --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/bad.properties" --list 2>&1)
set -e
assert_contains "$refused" "invalid credentials with SASL mechanism SCRAM-SHA-512" "wrong SCRAM password"
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --delete-config SCRAM-SHA-512 >/dev/null
described=$(kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --describe --entity-type users --entity-name "$user")
assert_not_contains "$described" "SCRAM-SHA-512" "deleted SCRAM-SHA-512 credential"
echo "ok"

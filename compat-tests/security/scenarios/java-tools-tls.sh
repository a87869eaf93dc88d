# The Java tools over TLS with PKCS12 stores: kafka-topics over the SSL listener (trust store
# only), the console producer and consumer over the MTLS listener (client key store), and a
# console consumer without a key store refused by the MTLS listener.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/ssl.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PKCS12
ssl.truststore.location=$CERTS_DIR/trust.p12
ssl.truststore.password=changeit1
PROPS
cp "$work/ssl.properties" "$work/mtls.properties"
cat >>"$work/mtls.properties" <<PROPS
ssl.keystore.type=PKCS12
ssl.keystore.location=$CERTS_DIR/client.p12
ssl.keystore.password=changeit1
PROPS
topic=$(unique_topic java-tls)
kafka_tool kafka-topics --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/ssl.properties" \
  --create --topic "$topic" --partitions 1 >/dev/null
listed=$(kafka_tool kafka-topics --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/ssl.properties" --list)
assert_contains "$listed" "$topic" "topic listed over TLS"
printf 'x1\nx2\nx3\n' | kafka_tool kafka-console-producer --bootstrap-server "$MTLS_BOOTSTRAP" \
  --command-config "$work/mtls.properties" --topic "$topic"
got=$(kafka_tool kafka-console-consumer --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/mtls.properties" \
  --topic "$topic" --from-beginning --max-messages 3 --timeout-ms 20000)
assert_eq "$got" $'x1\nx2\nx3' "records over mutual TLS"
set +e
refused=$(kafka_tool kafka-topics --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/ssl.properties" \
  --list 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "kafka-topics without a client certificate listed topics: $refused"
assert_contains "$refused" "SslAuthenticationException" "refusal without a client certificate"
echo "ok"

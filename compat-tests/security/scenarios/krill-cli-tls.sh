# krill's client commands over TLS with --command-config: kafka-topics' PKCS12 trust store on the
# SSL listener, a PEM trust store and a PKCS12 client key store on the MTLS listener (produce and
# consume), a PEM client key and chain inline; refused: no client certificate on MTLS, a CA that
# does not sign the broker, a JKS-typed trust store that is not one.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
krill() { "$here/../../../bin/krill" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/ssl.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PKCS12
ssl.truststore.location=$CERTS_DIR/trust.p12
ssl.truststore.password=changeit1
PROPS
cat >"$work/mtls.properties" <<PROPS
security.protocol=SSL
ssl.truststore.type=PEM
ssl.truststore.location=$CERTS_DIR/ca.pem
ssl.keystore.type=PKCS12
ssl.keystore.location=$CERTS_DIR/client.p12
ssl.keystore.password=changeit1
PROPS
# The client key and chain inline (PEM strings), as Kafka's ssl.keystore.key/certificate.chain.
{
  echo "security.protocol=SSL"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.location=$CERTS_DIR/ca.pem"
  echo "ssl.keystore.type=PEM"
  printf 'ssl.keystore.key='
  sed 's/$/\\n\\/' "$CERTS_DIR/client.key" | sed '$ s/\\n\\$//'
  printf 'ssl.keystore.certificate.chain='
  sed 's/$/\\n\\/' "$CERTS_DIR/client.pem" | sed '$ s/\\n\\$//'
} >"$work/mtls-pem.properties"
topic=$(unique_topic cli-tls)
out=$(krill topic create "$topic" --partitions 1 --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/ssl.properties")
assert_eq "$out" "Created topic $topic." "topic create over TLS"
krill topic list --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/ssl.properties" | grep -qx "$topic" ||
  fail "topic list over TLS does not show $topic"
printf 't1\nt2\n' | krill produce "$topic" --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/mtls.properties"
got=$(krill consume "$topic" --from-beginning --exit-at-end --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/mtls.properties" 2>/dev/null)
assert_eq "$got" $'t1\nt2' "produce and consume over mutual TLS (PKCS12 key store)"
got=$(krill consume "$topic" --from-beginning --exit-at-end --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/mtls-pem.properties" 2>/dev/null)
assert_eq "$got" $'t1\nt2' "consume over mutual TLS (inline PEM key and chain)"
set +e
refused=$(krill topic list --bootstrap-server "$MTLS_BOOTSTRAP" --command-config "$work/ssl.properties" --timeout 10000 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "no client certificate on the MTLS listener: exit status $rc ($refused)"
sed "s|$CERTS_DIR/ca.pem|$CERTS_DIR/rogue-ca.pem|" "$work/mtls.properties" >"$work/rogue.properties"
set +e
refused=$(krill topic list --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/rogue.properties" --timeout 10000 2>&1)
rc=$?
set -e
assert_eq "$rc" "1" "untrusted broker: exit status"
assert_contains "$refused" "TLS handshake with $SSL_BOOTSTRAP failed" "untrusted broker refused"
printf 'security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=%s\n' "$CERTS_DIR/ca.pem" >"$work/jks.properties"
set +e
refused=$(krill topic list --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/jks.properties" 2>&1)
rc=$?
set -e
assert_eq "$rc" "2" "a PEM file typed JKS: exit status"
assert_contains "$refused" "ssl.truststore.location" "the store named"
krill topic delete "$topic" --bootstrap-server "$SSL_BOOTSTRAP" --command-config "$work/ssl.properties"
echo "ok"

# kcat against the MTLS listener (ssl.client.auth=required): refused without a certificate and
# with one signed by an untrusted CA, served with the client certificate the CA signed.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
tls=(-X security.protocol=ssl -X "ssl.ca.location=$CERTS_DIR/ca.pem")
if kcat -b "$MTLS_BOOTSTRAP" "${tls[@]}" -L -m 5 >/dev/null 2>&1; then
  fail "no client certificate, yet metadata was served"
fi
if kcat -b "$MTLS_BOOTSTRAP" "${tls[@]}" -X "ssl.certificate.location=$CERTS_DIR/rogue.pem" \
  -X "ssl.key.location=$CERTS_DIR/rogue.key" -L -m 5 >/dev/null 2>&1; then
  fail "an untrusted client certificate was accepted"
fi
mine=(-X "ssl.certificate.location=$CERTS_DIR/client.pem" -X "ssl.key.location=$CERTS_DIR/client.key")
topic=$(unique_topic kcat-mtls)
printf 'a\nb\n' | kcat -b "$MTLS_BOOTSTRAP" "${tls[@]}" "${mine[@]}" -P -t "$topic" -X message.timeout.ms=20000
got=$(kcat -b "$MTLS_BOOTSTRAP" "${tls[@]}" "${mine[@]}" -C -t "$topic" -o beginning -c 2 -e -q -m 20)
assert_eq "$got" $'a\nb' "records consumed over mutual TLS"
echo "ok"

# kcat over the SSL listener (server certificate checked against the CA, no client certificate):
# metadata names the SSL listener's address, records go in and come back out.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
tls=(-X security.protocol=ssl -X "ssl.ca.location=$CERTS_DIR/ca.pem")
topic=$(unique_topic kcat-tls)
printf 'one\ntwo\nthree\n' | kcat -b "$SSL_BOOTSTRAP" "${tls[@]}" -P -t "$topic" -X message.timeout.ms=20000
got=$(kcat -b "$SSL_BOOTSTRAP" "${tls[@]}" -C -t "$topic" -o beginning -c 3 -e -q -m 20)
assert_eq "$got" $'one\ntwo\nthree' "records consumed over TLS"
brokers=$(kcat -b "$SSL_BOOTSTRAP" "${tls[@]}" -L -J -m 15 | /usr/bin/python3 -c 'import json,sys; print(",".join(b["name"] for b in json.load(sys.stdin)["brokers"]))')
assert_eq "$brokers" "$SSL_BOOTSTRAP" "advertised SSL listener"
# A client that does not trust the broker's CA is refused by its own verification.
if kcat -b "$SSL_BOOTSTRAP" -X security.protocol=ssl -X "ssl.ca.location=$CERTS_DIR/rogue-ca.pem" -L -m 5 >/dev/null 2>&1; then
  fail "a client trusting another CA got metadata"
fi
echo "ok"

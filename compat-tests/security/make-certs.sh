#!/usr/bin/env bash
# Generates the TLS material the security scenarios use, in DIR (created): a CA, a server
# certificate for 127.0.0.1/localhost in a PKCS12 key store (keytool), a PKCS12 trust store with
# the CA, a client certificate signed by the CA (PEM and PKCS12) and one signed by a CA nobody
# trusts. Password: changeit1. Valid two days; regenerated per broker start.
#   make-certs.sh DIR
set -euo pipefail
dir=$1
pw=changeit1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1 || { echo "make-certs: $* failed" >&2; exit 1; }; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=Krill Compat CA" -days 2
q openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key -out rogue-ca.pem -subj "/CN=Rogue CA" -days 2
sign() { # NAME SUBJECT CA [EXT]
  q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  if [ -n "${4:-}" ]; then
    printf '%s\n' "$4" >"$1.ext"
    q openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.ext"
  else
    q openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" -days 2
  fi
}
sign server "/CN=localhost" ca "subjectAltName=DNS:localhost,IP:127.0.0.1"
sign client "/O=Krill/CN=client" ca
sign rogue "/CN=rogue" rogue-ca
q openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name server -out server-openssl.p12 -passout "pass:$pw"
q keytool -importkeystore -srckeystore server-openssl.p12 -srcstoretype PKCS12 -srcstorepass "$pw" \
  -destkeystore server.p12 -deststoretype PKCS12 -deststorepass "$pw" -noprompt
q openssl pkcs12 -export -in client.pem -inkey client.key -certfile ca.pem -name client -out client.p12 -passout "pass:$pw"
q keytool -importcert -noprompt -alias ca -file ca.pem -keystore trust.p12 -storetype PKCS12 -storepass "$pw"

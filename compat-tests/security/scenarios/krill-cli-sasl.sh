# krill's client commands over SASL_PLAINTEXT with --command-config: PLAIN (the listener's JAAS
# users) and SCRAM-SHA-256 / SCRAM-SHA-512 (a user made with kafka-configs), produce and consume
# in a group; a wrong password and an unknown user fail at once with exit 1; a mechanism the
# client does not have (GSSAPI) is refused before connecting (exit 2).
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
krill() { "$here/../../../bin/krill" "$@" --bootstrap-server "$SASL_BOOTSTRAP"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
props() { # FILE MECHANISM MODULE USER PASSWORD
  cat >"$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=$2
sasl.jaas.config=org.apache.kafka.common.security.$3 required username="$4" password="$5";
PROPS
}
props "$work/plain.properties" PLAIN plain.PlainLoginModule admin admin-secret
props "$work/plain-bad.properties" PLAIN plain.PlainLoginModule admin wrong
user="carol$RANDOM"
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --add-config 'SCRAM-SHA-256=[password=carol-secret]' >/dev/null
kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$user" \
  --add-config 'SCRAM-SHA-512=[password=carol-secret]' >/dev/null
props "$work/scram256.properties" SCRAM-SHA-256 scram.ScramLoginModule "$user" carol-secret
props "$work/scram512.properties" SCRAM-SHA-512 scram.ScramLoginModule "$user" carol-secret
props "$work/scram-bad.properties" SCRAM-SHA-512 scram.ScramLoginModule "$user" wrong
props "$work/scram-nobody.properties" SCRAM-SHA-256 scram.ScramLoginModule "nobody$RANDOM" x
topic=$(unique_topic cli-sasl)
assert_eq "$(krill topic create "$topic" --partitions 1 --command-config "$work/plain.properties")" "Created topic $topic." "topic create with PLAIN"
printf 's1\ns2\n' | krill produce "$topic" --command-config "$work/scram256.properties"
got=$(krill consume "$topic" --from-beginning --exit-at-end --command-config "$work/scram512.properties" 2>/dev/null)
assert_eq "$got" $'s1\ns2' "produce with SCRAM-SHA-256, consume with SCRAM-SHA-512"
got=$(krill consume "$topic" --group "$topic-g" --from-beginning --exit-at-end --command-config "$work/plain.properties" 2>/dev/null)
assert_eq "$got" $'s1\ns2' "consume in a group with PLAIN"
for bad in plain-bad scram-bad scram-nobody; do
  set +e
  started=$(date +%s)
  out=$(krill topic list --command-config "$work/$bad.properties" --timeout 20000 2>&1)
  rc=$?
  set -e
  assert_eq "$rc" "1" "$bad: exit status"
  assert_contains "$out" "authentication failed" "$bad: refused"
  [ $(($(date +%s) - started)) -lt 15 ] || fail "$bad: the failure was retried instead of reported"
done
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\n' >"$work/gssapi.properties"
set +e
out=$(krill topic list --command-config "$work/gssapi.properties" 2>&1)
rc=$?
set -e
assert_eq "$rc" "2" "GSSAPI: exit status"
assert_contains "$out" "GSSAPI is not supported" "GSSAPI refused before connecting"
krill topic delete "$topic" --command-config "$work/plain.properties"
echo "ok"

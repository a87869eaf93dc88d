# krill acl with the StandardAuthorizer, as kafka-acls --add/--list/--remove (acls-java.sh's
# story): the super user admin (SASL/PLAIN through --command-config) lets alice write one topic;
# alice's krill produce is refused on a topic guarded by someone else's ACL and her consume until
# READ is granted; a PREFIXED DENY then wins; krill acl list shows what kafka-acls --list shows,
# and krill acl delete removes the bindings.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sasl_props() { # FILE USER PASSWORD
  cat >"$1" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$2" password="$3";
PROPS
}
sasl_props "$work/admin.properties" admin admin-secret
sasl_props "$work/alice.properties" alice alice-secret
as_admin() { "$here/../../../bin/krill" "$@" --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/admin.properties"; }
as_alice() { "$here/../../../bin/krill" "$@" --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/alice.properties"; }
prefix=$(unique_topic cli-acl)
allowed="$prefix-open"
guarded="$prefix-guarded"
as_admin topic create "$allowed" --partitions 1 >/dev/null
as_admin topic create "$guarded" --partitions 1 >/dev/null
added=$(as_admin acl create --allow-principal User:alice --operation Write --topic "$allowed")
assert_contains "$added" "Adding ACLs for resource \`ResourcePattern(resourceType=TOPIC, name=$allowed, patternType=LITERAL)\`:" "create output"
as_admin acl create --allow-principal User:nobody --operation Read --topic "$guarded" >/dev/null
ours=$(as_admin acl list --topic "$allowed")
assert_contains "$ours" "(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)" "krill acl list"
java=$(kafka_tool kafka-acls --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/admin.properties" --list --topic "$allowed")
assert_eq "$ours" "$java" "krill acl list prints what kafka-acls --list prints (one binding)"

printf 'a1\na2\n' | as_alice produce "$allowed"
set +e
refused=$(printf 'b1\n' | as_alice produce "$guarded" --timeout 10000 2>&1)
rc=$?
set -e
assert_eq "$rc" "1" "produce to a guarded topic: exit status"
assert_contains "$refused" "TOPIC_AUTHORIZATION_FAILED" "produce to a guarded topic"
set +e
denied=$(as_alice consume "$allowed" --from-beginning --exit-at-end --timeout 10000 2>&1)
rc=$?
set -e
assert_eq "$rc" "1" "consume without READ: exit status"
assert_contains "$denied" "TOPIC_AUTHORIZATION_FAILED" "consume without READ"
as_admin acl create --allow-principal User:alice --operation Read --topic "$allowed" >/dev/null
got=$(as_alice consume "$allowed" --from-beginning --exit-at-end 2>/dev/null)
assert_eq "$got" $'a1\na2' "records consumed once READ is granted"
as_admin acl create --deny-principal User:alice --operation Read --resource-pattern-type prefixed --topic "$prefix" >/dev/null
set +e
denied=$(as_alice consume "$allowed" --from-beginning --exit-at-end --timeout 10000 2>&1)
set -e
assert_contains "$denied" "TOPIC_AUTHORIZATION_FAILED" "prefixed DENY over literal ALLOW"
matching=$(as_admin acl list --topic "$allowed" --resource-pattern-type match)
assert_contains "$matching" "patternType=PREFIXED" "list --resource-pattern-type match finds the prefixed DENY"
assert_contains "$(as_admin acl list --principal User:alice)" "ACLs for principal \`User:alice\`" "list --principal"
as_admin acl delete --resource-pattern-type prefixed --topic "$prefix"
as_admin acl delete --topic "$allowed" --allow-principal User:alice --operation Read
left=$(as_admin acl list --topic "$allowed")
assert_not_contains "$left" "operation=READ" "one entry removed"
assert_contains "$left" "operation=WRITE" "the other kept"
as_admin acl delete --topic "$allowed" --force
as_admin acl delete --topic "$guarded"
assert_eq "$(as_admin acl list --topic "$allowed" --resource-pattern-type match)" "" "ACLs removed"
echo "ok"

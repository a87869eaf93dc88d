# ACLs with kafka-acls and the StandardAuthorizer (broker.sh --security tls: super users admin and
# ANONYMOUS, allow.everyone.if.no.acl.found=true). As the super user admin (SASL/PLAIN), grant the
# JAAS user alice WRITE on one topic and leave another guarded by an ACL for someone else; alice's
# console producer is allowed on the first and refused on the second, kafka-topics --list shows her
# only the first, her consumer is refused until READ is granted, a PREFIXED DENY then wins over the
# literal ALLOW; kafka-acls --list shows the bindings and --remove deletes them.
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
prefix=$(unique_topic acl)
allowed="$prefix-open"
guarded="$prefix-guarded"
acls() { kafka_tool kafka-acls --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/admin.properties" "$@"; }
as_alice() { # TOOL ARGS...: runs a tool as alice, output and status kept
  local tool=$1
  shift
  kafka_tool "$tool" --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/alice.properties" "$@"
}
for t in "$allowed" "$guarded"; do
  kafka_tool kafka-topics --bootstrap-server "$SASL_BOOTSTRAP" --command-config "$work/admin.properties" \
    --create --topic "$t" --partitions 1 >/dev/null
done
acls --add --allow-principal User:alice --operation Write --topic "$allowed" >/dev/null
acls --add --allow-principal User:nobody --operation Read --topic "$guarded" >/dev/null
listed=$(acls --list --topic "$allowed")
assert_contains "$listed" "principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW" "kafka-acls --list"

printf 'a1\na2\n' | as_alice kafka-console-producer --topic "$allowed"
set +e
refused=$(printf 'b1\n' | as_alice kafka-console-producer --topic "$guarded" 2>&1)
set -e
assert_contains "$refused" "Not authorized to access topics: [$guarded]" "produce to a topic guarded by another user's ACL"
topics=$(as_alice kafka-topics --list)
assert_contains "$topics" "$allowed" "alice lists the topic she may write"
assert_not_contains "$topics" "$guarded" "alice does not see the guarded topic"

# WRITE implies DESCRIBE, not READ.
set +e
denied=$(as_alice kafka-console-consumer --topic "$allowed" --from-beginning --max-messages 2 --timeout-ms 15000 2>&1)
set -e
assert_contains "$denied" "Not authorized to access topics: [$allowed]" "consume without READ"
acls --add --allow-principal User:alice --operation Read --topic "$allowed" >/dev/null
got=$(as_alice kafka-console-consumer --topic "$allowed" --from-beginning --max-messages 2 --timeout-ms 20000)
assert_eq "$got" $'a1\na2' "records consumed once READ is granted"

# A PREFIXED DENY matching the topic wins over the LITERAL ALLOW.
acls --add --deny-principal User:alice --operation Read --resource-pattern-type prefixed --topic "$prefix" >/dev/null
set +e
denied=$(as_alice kafka-console-consumer --topic "$allowed" --from-beginning --max-messages 2 --timeout-ms 15000 2>&1)
set -e
assert_contains "$denied" "Not authorized to access topics: [$allowed]" "prefixed DENY over literal ALLOW"
matching=$(acls --list --topic "$allowed" --resource-pattern-type match)
assert_contains "$matching" "patternType=PREFIXED" "kafka-acls --list --resource-pattern-type match finds the prefixed DENY"

acls --remove --force --resource-pattern-type prefixed --topic "$prefix" >/dev/null
acls --remove --force --topic "$allowed" >/dev/null
acls --remove --force --topic "$guarded" >/dev/null
left=$(acls --list --topic "$allowed" --resource-pattern-type match)
assert_not_contains "$left" "User:alice" "ACLs removed"
echo "ok"

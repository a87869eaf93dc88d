# krill acl on a broker without an authorizer (the compat broker): every action is refused with
# SECURITY_DISABLED and exit status 1, as Kafka answers; usage errors exit 2. The ACLs themselves
# are exercised with an authorizer in ../../security/scenarios/krill-cli-acls.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
for action in "list" "create --topic t --allow-principal User:a --operation Read" "delete --topic t"; do
  set +e
  # shellcheck disable=SC2086
  out=$(krill acl $action 2>&1)
  rc=$?
  set -e
  assert_eq "$rc" "1" "acl $action: exit status"
  assert_contains "$out" "SECURITY_DISABLED" "acl $action"
done
expect_status 2 krill acl create --topic t --operation Read
expect_status 2 krill acl create --topic t --allow-principal alice --operation Read
expect_status 2 krill acl create --topic t --allow-principal User:a --operation Fly
expect_status 2 krill acl create --allow-principal User:a --operation Read
expect_status 2 krill acl create --topic t --allow-principal User:a --operation Read --resource-pattern-type match
expect_status 0 krill acl --help

# kafka-configs for client quotas (AlterClientQuotas / DescribeClientQuotas, stored in the metadata
# log): users, clients, a user's client id, default entities combined with a named one (so no other
# scenario is throttled), describe, delete, and Kafka's validation errors. Every quota set here is
# removed at the end.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
u="quser$RANDOM"
c="qclient$RANDOM"
kc() { kafka_tool kafka-configs --bootstrap-server "$BOOTSTRAP" "$@"; }

out=$(kc --alter --add-config producer_byte_rate=1048576,consumer_byte_rate=2097152 --entity-type users --entity-name "$u")
assert_contains "$out" "Completed updating config for user $u." "alter a user's quotas"
out=$(kc --describe --entity-type users --entity-name "$u")
assert_contains "$out" "Quota configs for user-principal '$u' are" "describe a user"
assert_contains "$out" "producer_byte_rate=1048576.0" "user producer_byte_rate"
assert_contains "$out" "consumer_byte_rate=2097152.0" "user consumer_byte_rate"

out=$(kc --alter --add-config request_percentage=50.5 --entity-type clients --entity-name "$c")
assert_contains "$out" "Completed updating config for client $c." "alter a client id's quota"
out=$(kc --describe --entity-type clients --entity-name "$c")
assert_contains "$out" "Quota configs for client-id '$c' are request_percentage=50.5" "describe a client id"

kc --alter --add-config producer_byte_rate=1000 --entity-type users --entity-name "$u" \
  --entity-type clients --entity-name "$c" >/dev/null
kc --alter --add-config controller_mutation_rate=10 --entity-type users --entity-name "$u" \
  --entity-type clients --entity-default >/dev/null
kc --alter --add-config consumer_byte_rate=4096 --entity-type users --entity-default \
  --entity-type clients --entity-name "$c" >/dev/null
out=$(kc --describe --entity-type users --entity-name "$u" --entity-type clients --entity-name "$c")
assert_contains "$out" "Quota configs for user-principal '$u', client-id '$c' are producer_byte_rate=1000.0" \
  "describe a user's client id"
out=$(kc --describe --entity-type users --entity-name "$u" --entity-type clients --entity-default)
assert_contains "$out" "Quota configs for user-principal '$u', the default client-id are controller_mutation_rate=10.0" \
  "describe a user's default client id"
out=$(kc --describe --entity-type users --entity-default --entity-type clients --entity-name "$c")
assert_contains "$out" "Quota configs for the default user-principal, client-id '$c' are consumer_byte_rate=4096.0" \
  "describe the default user's client id"
out=$(kc --describe --entity-type users)
assert_contains "$out" "Quota configs for user-principal '$u' are" "describe all users"

set +e
fractional=$(kc --alter --add-config producer_byte_rate=1.5 --entity-type users --entity-name "$u" 2>&1)
negative=$(kc --alter --add-config consumer_byte_rate=-1 --entity-type clients --entity-name "$c" 2>&1)
set -e
assert_contains "$fractional" "InvalidRequestException: producer_byte_rate cannot be a fractional value." "fractional byte rate"
assert_contains "$negative" "InvalidRequestException: Quota consumer_byte_rate must be greater than 0" "non-positive quota"

kc --alter --delete-config producer_byte_rate,consumer_byte_rate --entity-type users --entity-name "$u" >/dev/null
out=$(kc --describe --entity-type users --entity-name "$u")
assert_not_contains "$out" "producer_byte_rate" "deleted user quota"
kc --alter --delete-config request_percentage --entity-type clients --entity-name "$c" >/dev/null
kc --alter --delete-config producer_byte_rate --entity-type users --entity-name "$u" \
  --entity-type clients --entity-name "$c" >/dev/null
kc --alter --delete-config controller_mutation_rate --entity-type users --entity-name "$u" \
  --entity-type clients --entity-default >/dev/null
kc --alter --delete-config consumer_byte_rate --entity-type users --entity-default \
  --entity-type clients --entity-name "$c" >/dev/null
out=$(kc --describe --entity-type clients --entity-name "$c")
assert_not_contains "$out" "request_percentage" "deleted client quota"

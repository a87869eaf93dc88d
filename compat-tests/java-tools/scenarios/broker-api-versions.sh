# kafka-broker-api-versions: the broker answers ApiVersions and the tool finds a usable version of
# the APIs every client needs.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
out=$(kafka_tool kafka-broker-api-versions --bootstrap-server "$BOOTSTRAP")
assert_contains "$out" "(id: 1 rack: null" "broker line"
for api in "Produce(0)" "Fetch(1)" "ListOffsets(2)" "Metadata(3)" "OffsetCommit(8)" "OffsetFetch(9)" \
  "FindCoordinator(10)" "JoinGroup(11)" "Heartbeat(12)" "SyncGroup(14)" "ApiVersions(18)" "CreateTopics(19)"; do
  line=$(printf '%s\n' "$out" | grep -F "$api:" || true)
  [ -n "$line" ] || fail "$api missing"
  assert_contains "$line" "usable:" "$api has a usable version"
done

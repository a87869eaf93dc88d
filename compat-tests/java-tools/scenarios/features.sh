# kafka-features describe: the broker lists every feature Kafka 4.4 knows (its ApiVersions
# supported and finalized features), metadata.version finalized at a 4.x level and the consumer
# group protocol (group.version 1) on. The other levels are each broker's own (Krill: no ELR,
# share or streams groups, transactions v1), so only the names are compared for them.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
out=$(kafka_tool kafka-features --bootstrap-server "$BOOTSTRAP" describe)
names=$(printf '%s\n' "$out" | sed -n 's/^Feature: \([a-z.]*\).*/\1/p' | sort | tr '\n' ' ')
assert_eq "$names" "eligible.leader.replicas.version group.version kraft.version metadata.version share.version streams.version transaction.version " "features listed"
mv=$(printf '%s\n' "$out" | grep "^Feature: metadata.version")
assert_contains "$mv" "SupportedMinVersion: 3.3-IV3" "metadata.version minimum"
printf '%s\n' "$mv" | grep -Eq "FinalizedVersionLevel: (4\.[0-9]+-IV[0-9]+|UNKNOWN [0-9]+)" ||
  fail "metadata.version not finalized at a 4.x level: $mv"
gv=$(printf '%s\n' "$out" | grep "^Feature: group.version")
printf '%s\n' "$gv" | grep -Eq "FinalizedVersionLevel: 1[[:space:]]" || fail "group.version not finalized at 1: $gv"

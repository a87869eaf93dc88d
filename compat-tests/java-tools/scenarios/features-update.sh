# kafka-features upgrade / downgrade / disable (UpdateFeatures): the broker validates as Kafka's
# controller does and answers with Kafka's messages; accepted levels show in describe. A level
# changed is restored before the scenario ends (the scenarios after it use the same broker).
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
b=(--bootstrap-server "$BOOTSTRAP")
features() { kafka_tool kafka-features "${b[@]}" "$@" 2>&1; }
level_in() { printf '%s\n' "$1" | grep "^Feature: $2[[:space:]]" | sed -n 's/.*FinalizedVersionLevel: \([0-9]*\).*/\1/p'; }
restore=""
trap '[ -z "$restore" ] || features upgrade $restore >/dev/null || true' EXIT

out=$(features downgrade --feature transaction.version=1 --dry-run)
assert_contains "$out" "transaction.version can be downgraded to 1." "dry-run downgrade"
restore="--feature transaction.version=2"
out=$(features downgrade --feature transaction.version=1)
assert_contains "$out" "transaction.version was downgraded to 1." "downgrade"
desc=$(features describe)
assert_eq "$(level_in "$desc" transaction.version)" "1" "transaction.version after the downgrade"
out=$(features upgrade --feature transaction.version=2)
assert_contains "$out" "transaction.version was upgraded to 2." "upgrade"
restore="--feature group.version=1"
out=$(features disable --feature group.version)
assert_contains "$out" "group.version was disabled." "disable"
desc=$(features describe)
assert_eq "$(level_in "$desc" transaction.version)" "2" "transaction.version after the upgrade"
# A level 0 is not finalized: describe shows no level for it.
gv=$(level_in "$desc" group.version)
[ -z "$gv" ] || [ "$gv" = 0 ] || fail "group.version after disable: $gv"
# kraft.version: a single node formatted --standalone runs the dynamic quorum format (level 1).
assert_eq "$(level_in "$desc" kraft.version)" "1" "kraft.version finalized"
out=$(features upgrade --feature group.version=1)
assert_contains "$out" "group.version was upgraded to 1." "upgrade back"
restore=""

out=$(features upgrade --feature transaction.version=3) && fail "transaction.version=3 accepted: $out"
assert_contains "$out" "Could not upgrade transaction.version to 3. The update failed for all features since the following feature had an error: Invalid update version 3 for feature transaction.version. Local controller 1 only supports versions 0-2" "level beyond the supported range"
out=$(features upgrade --feature foo.bar=1) && fail "foo.bar accepted: $out"
assert_contains "$out" "Invalid update version 1 for feature foo.bar. Local controller 1 does not support this feature." "unknown feature"
out=$(features upgrade --feature transaction.version=1) && fail "downgrade by upgrade accepted: $out"
assert_contains "$out" "Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade." "downgrade without a downgrade type"
out=$(features downgrade --feature kraft.version=0) && fail "kraft.version downgrade accepted: $out"
assert_contains "$out" "Invalid update version 0 for feature kraft.version. Can't downgrade the version of this feature." "kraft.version downgrade"
out=$(features downgrade --metadata 3.9) && fail "metadata.version downgrade accepted: $out"
printf '%s\n' "$out" | grep -Eq "Unsupported metadata.version downgrade from [0-9]+ to 21. Refusing to perform the requested downgrade because it might delete metadata information." ||
  fail "metadata.version downgrade answer: $out"

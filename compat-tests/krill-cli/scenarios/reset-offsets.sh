# krill group reset-offsets, as kafka-consumer-groups --reset-offsets: a dry run by default (the
# plan printed, nothing changed), --execute commits; --to-earliest / --to-latest / --to-offset /
# --shift-by / --to-datetime / --by-duration / --to-current, offsets outside the log moved to its
# ends, --topic T:P scopes, and a group that never existed ("Dead") can be given offsets.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-reset)
group="$topic-group"
krill topic create "$topic" --partitions 2 >/dev/null
printf 'a\nb\nc\nd\ne\n' | krill produce "$topic" --partition 0
seq 1 3 | krill produce "$topic" --partition 1
krill consume "$topic" --group "$group" --from-beginning --exit-at-end >/dev/null 2>&1
# committed: p0=5, p1=3
offsets() { krill group describe "$group" 2>/dev/null | awk -v t="$topic" '$2 == t { printf "%s=%s ", $3, $4 }'; }
assert_eq "$(offsets)" "0=5 1=3 " "committed after consuming"
plan=$(krill group reset-offsets "$group" --topic "$topic" --to-earliest)
rows=$(printf '%s\n' "$plan" | awk -v g="$group" '$1 == g { printf "%s:%s=%s ", $2 == "'"$topic"'" ? "t" : $2, $3, $4 }')
assert_eq "$rows" "t:0=0 t:1=0 " "dry-run plan"
assert_contains "$plan" "PARTITION  NEW-OFFSET" "Kafka's header"
assert_eq "$(offsets)" "0=5 1=3 " "a dry run changes nothing"
krill group reset-offsets "$group" --topic "$topic" --to-earliest --execute >/dev/null
assert_eq "$(offsets)" "0=0 1=0 " "--to-earliest --execute"
krill group reset-offsets "$group" --all-topics --to-latest --execute >/dev/null
assert_eq "$(offsets)" "0=5 1=3 " "--to-latest"
krill group reset-offsets "$group" --topic "$topic:0" --to-offset 2 --execute >/dev/null
assert_eq "$(offsets)" "0=2 1=3 " "--to-offset on one partition"
krill group reset-offsets "$group" --all-topics --shift-by -2 --execute >/dev/null
assert_eq "$(offsets)" "0=0 1=1 " "--shift-by -2"
krill group reset-offsets "$group" --all-topics --shift-by 100 --execute >/dev/null 2>&1
assert_eq "$(offsets)" "0=5 1=3 " "--shift-by past the end is moved to the end"
krill group reset-offsets "$group" --all-topics --to-offset 99 --execute >/dev/null 2>&1
assert_eq "$(offsets)" "0=5 1=3 " "--to-offset past the end is moved to the end"
krill group reset-offsets "$group" --all-topics --to-datetime 2000-01-01T00:00:00.000 --execute >/dev/null
assert_eq "$(offsets)" "0=0 1=0 " "--to-datetime before every record"
krill group reset-offsets "$group" --all-topics --by-duration PT1H --execute >/dev/null
assert_eq "$(offsets)" "0=0 1=0 " "--by-duration covering every record"
krill group reset-offsets "$group" --all-topics --to-current --execute >/dev/null
assert_eq "$(offsets)" "0=0 1=0 " "--to-current"
# The records after a reset are read again by the group.
again=$(krill consume "$topic" --group "$group" --exit-at-end 2>/dev/null | wc -l)
assert_eq "$again" "8" "the group reads everything again after the reset"
# A group without offsets (Dead) gets them.
krill group reset-offsets "$group-new" --topic "$topic" --to-latest --execute >/dev/null
assert_eq "$(krill group describe "$group-new" 2>/dev/null | awk -v t="$topic" '$2 == t { printf "%s=%s ", $3, $4 }')" "0=5 1=3 " "offsets for a new group"
# Usage errors: no scenario, two scenarios, no scope.
expect_status 2 krill group reset-offsets "$group" --all-topics
expect_status 2 krill group reset-offsets "$group" --all-topics --to-earliest --to-latest
expect_status 2 krill group reset-offsets "$group" --to-earliest
krill group delete "$group" "$group-new" >/dev/null
krill topic delete "$topic"

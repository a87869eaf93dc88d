# krill group list/describe/delete after a kcat group consumed part of a topic: committed offsets,
# log end offsets and lag per partition, as kafka-consumer-groups --describe prints them.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-groups)
group="$topic-group"
krill topic create "$topic" --partitions 1 >/dev/null
seq 1 10 | kcat -b "$BOOTSTRAP" -P -t "$topic" -X message.timeout.ms=20000
# Consume six of the ten records and commit them (the offset after the sixth).
got=$(kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -c 6 -q -f '%s\n' "$topic" | tr '\n' ' ')
assert_eq "$got" "1 2 3 4 5 6 " "kcat consumed six records"
# kcat commits the offsets of what it delivered when it closes, after the sixth record (-c 6).
krill group list | grep -qx "$group" || fail "list: $group not listed"
assert_contains "$(krill group list --state)" "$group" "list --state"
desc=$(krill group describe "$group" 2>/dev/null)
assert_contains "$desc" "GROUP" "describe header"
row=$(printf '%s\n' "$desc" | awk -v t="$topic" '$2 == t { print $3, $4, $5, $6, $7 }')
assert_eq "$row" "0 6 10 4 -" "describe: partition, committed, log end, lag, consumer"
expect_status 1 krill group describe "$group-none"
out=$(krill group delete "$group")
assert_eq "$out" "Deletion of requested consumer groups ('$group') was successful." "delete"
krill group list | grep -qx "$group" && fail "list: $group still listed after delete"
krill topic delete "$topic"

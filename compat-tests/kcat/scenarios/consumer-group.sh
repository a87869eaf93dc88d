# kcat -G (balanced consumer group): a first run consumes everything and commits on close; a
# second run of the same group after more produces sees only the new records.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
topic=$(unique_topic kcat-grp)
group="$topic-group"
seq 1 10 | kcat -b "$BOOTSTRAP" -P -t "$topic" -X message.timeout.ms=20000
first=$(kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -e -q -f '%s\n' "$topic")
assert_eq "$(printf '%s\n' "$first" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 " "first group run"
seq 11 15 | kcat -b "$BOOTSTRAP" -P -t "$topic" -X message.timeout.ms=20000
second=$(kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -e -q -f '%s\n' "$topic")
assert_eq "$(printf '%s\n' "$second" | tr '\n' ' ')" "11 12 13 14 15 " "second group run resumes at the committed offset"

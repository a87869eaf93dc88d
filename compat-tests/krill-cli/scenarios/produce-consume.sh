# krill produce and krill consume without a group: keys, headers, text / JSON / kcat-style formats,
# start positions (beginning, N, -N, @TIME), --partition, --count and --exit-at-end; kcat reads what
# krill wrote (keys and headers) and krill reads what kcat wrote; JSON lines copy a topic.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
topic=$(unique_topic cli-produce)
copy="$topic-copy"
krill topic create "$topic" --partitions 3 >/dev/null
krill topic create "$copy" --partitions 3 >/dev/null
seq 1 30 | sed 's/.*/key&:value&/' | krill produce "$topic" --key-separator : --header origin=krill --header n=1
# Every record once, each key in one partition, headers on each.
all=$(krill consume "$topic" --from-beginning --exit-at-end --format '%k=%s|%h\n' 2>/dev/null | sort -V)
assert_eq "$all" "$(seq 1 30 | sed 's/.*/key&=value&|origin=krill,n=1/')" "consumed every record with key and headers"
per_key=$(krill consume "$topic" --from-beginning --exit-at-end --format '%k %p\n' 2>/dev/null | sort -u | awk '{ print $1 }' | uniq -d)
assert_eq "$per_key" "" "a key lives in one partition"
# kcat reads krill's records: the same keys, values and headers.
from_kcat=$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%k=%s|%h\n' | sort -V)
assert_eq "$from_kcat" "$all" "kcat reads krill's records"
# --count stops early; exit status 0; the console consumer's summary on stderr.
err=$(krill consume "$topic" --from-beginning --count 4 2>&1 >/dev/null)
assert_contains "$err" "Processed a total of 4 messages" "--count summary"
# Positions on one partition: N, -N, @TIME, and the end (nothing).
p0=$(krill consume "$topic" --partition 0 --offset beginning --exit-at-end --format '%o\n' 2>/dev/null)
n0=$(printf '%s\n' "$p0" | wc -l)
[ "$n0" -ge 2 ] || fail "partition 0 holds $n0 records; the scenario needs two"
assert_eq "$(krill consume "$topic" --partition 0 --offset 1 --exit-at-end --format '%o\n' 2>/dev/null)" "$(seq 1 $((n0 - 1)))" "--offset N"
assert_eq "$(krill consume "$topic" --partition 0 --offset -1 --exit-at-end --format '%o\n' 2>/dev/null)" "$((n0 - 1))" "--offset -N"
assert_eq "$(krill consume "$topic" --partition 0 --offset end --exit-at-end 2>/dev/null)" "" "--offset end"
future=$(($(date +%s%3N) + 3600000))
assert_eq "$(krill consume "$topic" --offset "@$future" --exit-at-end 2>/dev/null)" "" "--offset @TIME after every record"
assert_eq "$(krill consume "$topic" --offset @2000-01-01T00:00:00.000 --exit-at-end 2>/dev/null | wc -l)" "30" "--offset @TIME before every record"
# A record produced by kcat with a key and a header, read by krill as JSON.
printf 'kk;vv\n' | kcat -b "$BOOTSTRAP" -P -t "$topic" -p 2 -K ';' -H h1=x1 -X message.timeout.ms=20000
json=$(krill consume "$topic" --partition 2 --offset -1 --exit-at-end --format json 2>/dev/null)
assert_contains "$json" '"key":"kk","value":"vv","headers":[{"key":"h1","value":"x1"}]' "kcat's record as JSON"
assert_contains "$json" '"partition":2' "JSON names the partition"
# JSON lines copy a topic, partitions, keys and headers kept.
krill consume "$topic" --from-beginning --exit-at-end --format json 2>/dev/null | krill produce "$copy" --format json
a=$(krill consume "$topic" --from-beginning --exit-at-end --format '%p %k %s %h\n' 2>/dev/null | sort)
b=$(krill consume "$copy" --from-beginning --exit-at-end --format '%p %k %s %h\n' 2>/dev/null | sort)
assert_eq "$b" "$a" "copy through JSON lines"
# --partition on produce; a line without the separator is refused (exit 1) and the rest written.
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
set +e
printf 'x:1\nnoseparator\ny:2\n' | krill produce "$copy" --partition 1 --key-separator : 2>"$errors"
rc=$?
set -e
assert_eq "$rc" "1" "exit status when a line does not parse"
assert_contains "$(cat "$errors")" "line 2: no key separator" "the line named"
assert_eq "$(krill consume "$copy" --partition 1 --offset -2 --exit-at-end --format '%k\n' 2>/dev/null)" $'x\ny' "--partition on produce"
# Usage errors exit 2; a missing topic exits 1.
expect_status 2 krill consume "$topic" --offset sometime
expect_status 2 krill produce "$topic" --acks 0 </dev/null
expect_status 1 krill consume "$topic-missing" --exit-at-end
krill topic delete "$topic"
krill topic delete "$copy"

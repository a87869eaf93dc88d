# Offsets: -Q queries ListOffsets (earliest, latest, by timestamp); -o starts at an absolute,
# a relative-from-end and a logical offset; -c bounds the count.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
topic=$(unique_topic kcat-off)
before_ms=$(($(date +%s%3N) - 1000))
seq 0 9 | kcat -b "$BOOTSTRAP" -P -t "$topic" -X message.timeout.ms=20000
latest=$(kcat -b "$BOOTSTRAP" -Q -t "$topic:0:-1" -m 15)
assert_contains "$latest" "[0] offset 10" "latest offset"
earliest=$(kcat -b "$BOOTSTRAP" -Q -t "$topic:0:-2" -m 15)
assert_contains "$earliest" "[0] offset 0" "earliest offset"
by_time=$(kcat -b "$BOOTSTRAP" -Q -t "$topic:0:$before_ms" -m 15)
assert_contains "$by_time" "[0] offset 0" "offset for a timestamp before the first record"
future=$(kcat -b "$BOOTSTRAP" -Q -t "$topic:0:$(($(date +%s%3N) + 3600000))" -m 15)
assert_contains "$future" "[0] offset -1" "offset for a timestamp after the last record"
assert_eq "$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o 4 -c 2 -q -f '%o:%s\n' -m 15 | tr '\n' ' ')" "4:4 5:5 " "-o 4 -c 2"
assert_eq "$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o -3 -e -q -f '%s\n' -m 15 | tr '\n' ' ')" "7 8 9 " "-o -3"
assert_eq "$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o end -e -q -f '%s\n' -m 15 | wc -l)" "0" "-o end"

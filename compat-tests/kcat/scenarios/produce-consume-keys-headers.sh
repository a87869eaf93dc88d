# kcat produce with keys (-K) and headers (-H), then consume from the beginning and compare keys,
# values, headers and offsets.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
topic=$(unique_topic kcat-kh)
for i in 0 1 2 3 4; do echo "key$i:value $i"; done |
  kcat -b "$BOOTSTRAP" -P -t "$topic" -K: -H trace=abc -H "n=$topic" -X message.timeout.ms=20000
got=$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%o|%k|%s|%h\n' -m 15)
expected=""
for i in 0 1 2 3 4; do expected+="$i|key$i|value $i|trace=abc,n=$topic"$'\n'; done
assert_eq "$got" "${expected%$'\n'}" "consumed records"

# krill cluster info: the cluster id, a controller id and the one broker on loopback.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$(krill cluster info)
printf '%s\n' "$out" | grep -qE '^Cluster ID: [A-Za-z0-9_-]{22}$' || fail "cluster id line: $out"
printf '%s\n' "$out" | grep -qE '^Controller ID: 1$' || fail "controller line: $out"
row=$(printf '%s\n' "$out" | awk -F '\t' 'NR == 4 { gsub(/ +/, ""); print $1, $2, $4, $5 }')
assert_eq "$row" "1 127.0.0.1 - unfenced" "broker row"

# krill cluster quorum: kafka-metadata-quorum describe --status and --replication of a one-node
# KRaft quorum.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out=$(krill cluster quorum)
assert_contains "$out" "LeaderId:               1" "status: leader"
assert_contains "$out" "MaxFollowerLag:         0" "status: lag"
assert_contains "$out" 'CurrentVoters:          [{"id": 1, ' "status: voters"
out=$(krill cluster quorum --replication)
row=$(printf '%s\n' "$out" | awk -F '\t' 'NR == 2 { gsub(/ +/, ""); print $1, $4, $7 }')
assert_eq "$row" "1 0 Leader" "replication: the leader's row"

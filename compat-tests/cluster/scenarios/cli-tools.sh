#!/usr/bin/env bash
# Kafka's command-line tools against the three nodes, each node in turn as --bootstrap-server
# (issue 16): the same answers through any node, in Kafka's shape.
#
#   1. kafka-topics --describe of an RF=3 topic: Leader, Replicas (three distinct nodes, the
#      leader first on a fresh topic) and Isr (all three) per partition, the same through every node;
#   2. kafka-leader-election --election-type preferred --all-topic-partitions: partition 0's
#      preferred replica is killed (leadership moves to another ISR member, the ISR shrinks),
#      restarted (it rejoins the ISR, leadership stays away: auto.leader.rebalance.enable is off),
#      then the tool moves leadership back, and a second run finds nothing to elect for it;
#   3. kafka-consumer-groups --list, --describe (offsets, log end, lag) and --describe --state
#      (the coordinator: the leader of the group's __consumer_offsets partition);
#   4. kafka-transactions list and describe (coordinator, producer id, CompleteCommit).
#
# Needs CLUSTER_DIR (compat-tests/quorum/cluster.sh's directory); prints "FAIL: reason" on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compat=$(cd "$here/../.." && pwd)
source "$compat/java/kafka-tool.sh"
: "${CLUSTER_DIR:?CLUSTER_DIR must be set}"
dir=$CLUSTER_DIR
PYTHON=/usr/bin/python3

fail() {
  echo "FAIL: $*"
  exit 1
}
now_ms() { date +%s%3N; }
address() { echo "127.0.0.1:$(cat "$dir/node-$1/port")"; }

stamp=$(date +%s%N | cut -c1-13)-$$
topic=cluster-cli-$stamp
group=cluster-cli-group-$stamp
txn_id=cluster-cli-txn-$stamp

# describe NODE: kafka-topics --describe of the topic through NODE (sets `described`).
describe() {
  described=$(kafka_tool kafka-topics --bootstrap-server "$(address "$1")" --describe --topic "$topic" 2>&1) || return 1
}

# row PARTITION: partition's row of the last description.
row() { printf '%s\n' "$described" | grep -P "^\tTopic: $topic\tPartition: $1\t" || true; }
column() { printf '%s\n' "$1" | grep -oP "(?<=\t$2: )[^\t]*" || true; }

# wait_row NODE PARTITION WHAT TEST: until TEST (run with $leader $replicas $isr set from the row
# described through NODE) succeeds, bounded.
wait_row() {
  local node=$1 partition=$2 what=$3 test=$4 deadline=$(($(now_ms) + 120000)) r
  while :; do
    if describe "$node"; then
      r=$(row "$partition")
      leader=$(column "$r" Leader) replicas=$(column "$r" Replicas) isr=$(column "$r" Isr)
      if [ -n "$r" ] && eval "$test"; then return 0; fi
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "through node $node, $topic-$partition: no $what within 120 s: $described"
    sleep 1
  done
}

sorted() { tr ',' '\n' <<<"$1" | sort -n | paste -sd,; }

# 1. kafka-topics --describe through each node.
kafka_tool kafka-topics --bootstrap-server "$(address 1)" --create --topic "$topic" --partitions 3 \
  --replication-factor 3 >/dev/null 2>&1 || fail "kafka-topics --create of an RF=3 topic failed"
reference=""
for node in 1 2 3; do
  for p in 0 1 2; do
    wait_row "$node" "$p" "leader with a full ISR" '[ "$leader" -ge 1 ] && [ "$(sorted "$isr")" = 1,2,3 ]'
  done
  header=$(printf '%s\n' "$described" | head -1)
  [[ "$header" =~ ^Topic:\ $topic$'\t'TopicId:\ [A-Za-z0-9_-]{22}$'\t'PartitionCount:\ 3$'\t'ReplicationFactor:\ 3$'\t'Configs:\ min.insync.replicas=2$ ]] ||
    fail "through node $node, the header is not Kafka's: $header"
  for p in 0 1 2; do
    r=$(row "$p")
    # Kafka 4.4's row, ELR columns included (empty: eligible leader replicas are off).
    [[ "$r" =~ ^$'\t'Topic:\ $topic$'\t'Partition:\ $p$'\t'Leader:\ [1-3]$'\t'Replicas:\ [1-3],[1-3],[1-3]$'\t'Isr:\ [1-3],[1-3],[1-3]$'\t'Elr:\ $'\t'LastKnownElr:\ $ ]] ||
      fail "through node $node, partition $p's row is not Kafka's: $r"
    replicas=$(column "$r" Replicas) leader=$(column "$r" Leader)
    [ "$(sorted "$replicas")" = 1,2,3 ] || fail "partition $p: replicas $replicas are not three distinct nodes"
    [ "$leader" = "${replicas%%,*}" ] || fail "partition $p of a fresh topic: leader $leader is not the first replica ($replicas)"
  done
  [ -z "$reference" ] || [ "$described" = "$reference" ] ||
    fail "node $node describes the topic otherwise than node 1: $described / $reference"
  reference=$described
  echo "kafka-topics --describe through node $node:"
  echo "$described"
done
leaders=$(for p in 0 1 2; do column "$(row "$p")" Leader; done | sort -u | wc -l)
[ "$leaders" -eq 3 ] || fail "the three partitions' leaders are not spread over the three nodes: $described"

# 2. kafka-leader-election: partition 0's preferred leader killed, restarted, elected back.
preferred=$(column "$(row 0)" Leader)
other=$((preferred % 3 + 1))
"$compat/quorum/cluster.sh" kill "$preferred" --dir "$dir"
echo "killed node $preferred (the preferred leader of $topic-0)"
wait_row "$other" 0 "new leader and an ISR without node $preferred" \
  '[ "$leader" != "$preferred" ] && [ "$leader" -ge 1 ] && ! [[ ",$isr," == *",$preferred,"* ]]'
echo "through node $other: leader $leader, Isr $isr"
"$compat/quorum/cluster.sh" restart "$preferred" --dir "$dir"
wait_row "$preferred" 0 "ISR with node $preferred back" '[ "$(sorted "$isr")" = 1,2,3 ]'
[ "$leader" != "$preferred" ] || fail "leadership went back to node $preferred without an election (auto.leader.rebalance.enable is off)"
echo "node $preferred back in the ISR ($isr), leader still $leader"
for node in "$other" "$preferred"; do
  # The first run elects; the restarted node may see the election a moment later.
  election=$(kafka_tool kafka-leader-election --bootstrap-server "$(address "$node")" --election-type preferred \
    --all-topic-partitions 2>&1) || fail "kafka-leader-election through node $node failed: $election"
  echo "kafka-leader-election through node $node: $election"
  if [ "$node" = "$other" ]; then
    [[ "$election" == "Successfully completed leader election (PREFERRED) for partitions "*"$topic-0"* ]] ||
      fail "kafka-leader-election did not elect $topic-0: $election"
  else
    # Nothing left to elect for the topic: Kafka leaves partitions that need no election out.
    [[ "$election" != *"$topic-"* ]] || fail "a second kafka-leader-election elected again: $election"
  fi
done
for node in 1 2 3; do
  wait_row "$node" 0 "leader $preferred again" '[ "$leader" = "$preferred" ] && [ "$(sorted "$isr")" = 1,2,3 ]'
done
echo "node $preferred leads $topic-0 again through every node"

# 3. kafka-consumer-groups through each node.
setup=$("$PYTHON" "$here/cli-setup.py" group "$topic" "$group" 2>&1) || fail "the group's setup: $(grep FAIL <<<"$setup")"
group_coordinator=$(sed -n 's/^coordinator //p' <<<"$setup")
for node in 1 2 3; do
  b=$(address "$node")
  list=$(kafka_tool kafka-consumer-groups --bootstrap-server "$b" --list 2>&1) || fail "kafka-consumer-groups --list through node $node: $list"
  grep -qx "$group" <<<"$list" || fail "kafka-consumer-groups --list through node $node does not list $group: $list"
  out=$(kafka_tool kafka-consumer-groups --bootstrap-server "$b" --describe --group "$group" 2>/dev/null) ||
    fail "kafka-consumer-groups --describe through node $node failed"
  for p in 0 1 2; do
    awk -v g="$group" -v t="$topic" -v p="$p" '$1 == g && $2 == t && $3 == p && $4 == 10 && $5 == 10 && $6 == 0 { found = 1 } END { exit !found }' <<<"$out" ||
      fail "kafka-consumer-groups --describe through node $node: no row 'partition $p, offset 10, log end 10, lag 0': $out"
  done
  out=$(kafka_tool kafka-consumer-groups --bootstrap-server "$b" --describe --group "$group" --state 2>/dev/null) ||
    fail "kafka-consumer-groups --describe --state through node $node failed"
  coordinator_column=$(awk -v g="$group" '$1 == g { print $2, $3 }' <<<"$out")
  [ "$coordinator_column" = "$(address "$group_coordinator") ($group_coordinator)" ] ||
    fail "kafka-consumer-groups --state through node $node names coordinator '$coordinator_column', not node $group_coordinator (the leader of the group's __consumer_offsets partition): $out"
  awk -v g="$group" '$1 == g && $(NF-1) == "Empty" && $NF == 0 { found = 1 } END { exit !found }' <<<"$out" ||
    fail "kafka-consumer-groups --state through node $node: not Empty with 0 members: $out"
done
echo "kafka-consumer-groups --list/--describe/--state through nodes 1-3: $group at offsets 10, coordinator node $group_coordinator"

# 4. kafka-transactions through each node.
setup=$("$PYTHON" "$here/cli-setup.py" txn "$topic" "$txn_id" 2>&1) || fail "the transaction's setup: $(grep FAIL <<<"$setup")"
txn_coordinator=$(sed -n 's/^coordinator //p' <<<"$setup")
for node in 1 2 3; do
  b=$(address "$node")
  list=$(kafka_tool kafka-transactions --bootstrap-server "$b" list 2>&1) || fail "kafka-transactions list through node $node: $list"
  [ "$(head -1 <<<"$list" | tr -s ' \t' ' ')" = "TransactionalId Coordinator ProducerId TransactionState " ] ||
    fail "kafka-transactions list through node $node: not Kafka's header: $(head -1 <<<"$list")"
  awk -F '\t' -v id="$txn_id" -v c="$txn_coordinator" '{ for (i = 1; i <= NF; i++) gsub(/ +$/, "", $i) }
    $1 == id && $2 == c && $3 ~ /^[0-9]+$/ && $4 == "CompleteCommit" { found = 1 } END { exit !found }' <<<"$list" ||
    fail "kafka-transactions list through node $node: no row '$txn_id, coordinator $txn_coordinator, CompleteCommit': $list"
  out=$(kafka_tool kafka-transactions --bootstrap-server "$b" describe --transactional-id "$txn_id" 2>&1) ||
    fail "kafka-transactions describe through node $node: $out"
  [ "$(head -1 <<<"$out" | tr -s ' \t' ' ')" = "CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState TransactionTimeoutMs CurrentTransactionStartTimeMs TransactionDurationMs TopicPartitions " ] ||
    fail "kafka-transactions describe through node $node: not Kafka's header: $out"
  awk -F '\t' -v id="$txn_id" -v c="$txn_coordinator" 'NR == 2 { for (i = 1; i <= NF; i++) gsub(/ +$/, "", $i) }
    NR == 2 && $1 == c && $2 == id && $5 == "CompleteCommit" && $9 == "" { found = 1 } END { exit !found }' <<<"$out" ||
    fail "kafka-transactions describe through node $node: not 'coordinator $txn_coordinator, CompleteCommit, no partitions': $out"
done
echo "kafka-transactions list/describe through nodes 1-3: $txn_id CompleteCommit, coordinator node $txn_coordinator"
echo "$out"

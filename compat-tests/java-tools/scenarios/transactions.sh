# kafka-transactions: a transactional producer-perf-test run commits; list shows the transactional
# id, describe shows it CompleteCommit, and a read_committed consumer sees every record.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic txn)
tid="$topic-tid"
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$topic" --partitions 1 >/dev/null
out=$(kafka_tool kafka-producer-perf-test --topic "$topic" --num-records 500 --record-size 50 --throughput -1 \
  --transactional-id "$tid" --transaction-duration-ms 200 "$KT_PERF_PRODUCER_PROPS" "bootstrap.servers=$BOOTSTRAP")
assert_contains "$out" "500 records sent" "transactional perf run"
list=$(kafka_tool kafka-transactions "${b[@]}" list)
assert_contains "$list" "$tid" "list shows the transactional id"
desc=$(kafka_tool kafka-transactions "${b[@]}" describe --transactional-id "$tid")
assert_contains "$desc" "CompleteCommit" "describe shows the last transaction committed"
got=$(kafka_tool kafka-console-consumer "${b[@]}" --topic "$topic" --from-beginning --max-messages 500 \
  --timeout-ms 20000 --isolation-level read_committed | wc -l)
assert_eq "$got" "500" "read_committed consumer count"
out=$(kafka_tool kafka-transactions "${b[@]}" describe-producers --topic "$topic" --partition 0)
assert_contains "$out" "ProducerId" "describe-producers header"

# kafka-dump-log --cluster-metadata-decoder (Kafka's DumpLogSegments) over the broker's own
# metadata log: every segment and snapshot of __cluster_metadata-0 decodes (Krill writes Kafka's
# layout), no batch is invalid, the topic created here is a TopicRecord, and each snapshot (at least
# the bootstrap one, 00000000000000000000-0000000000.checkpoint) has its SnapshotHeader and
# SnapshotFooter. Needs BROKER_DATA_DIR (the broker's log.dirs, set by
# run-all.sh and run-subset.sh). Uses Kafka 4.4.0's tool when its classpath is installed.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
[ -n "${BROKER_DATA_DIR:-}" ] || fail "BROKER_DATA_DIR is not set (run-all.sh and run-subset.sh set it)"
if [ -s "$here/../../.cache/kafka-4.4.0.classpath" ]; then
  export KAFKA_TOOLS_VERSION=4.4.0
fi
source "$here/../../java/kafka-tool.sh"
topic=$(unique_topic dumplog)
kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --create --topic "$topic" --partitions 2 \
  --replication-factor 1 >/dev/null
mdir="$BROKER_DATA_DIR/__cluster_metadata-0"
segments=$(find "$mdir" -maxdepth 1 -name '*.log' | sort | paste -sd, -)
[ -n "$segments" ] || fail "no segment (*.log) in $mdir: $(ls "$mdir")"
out=$(kafka_tool kafka-dump-log --cluster-metadata-decoder --files "$segments")
assert_contains "$out" "\"type\":\"TOPIC_RECORD\",\"version\":0,\"data\":{\"name\":\"$topic\"" "segments: the TopicRecord"
assert_contains "$out" "\"type\":\"PARTITION_RECORD\"" "segments: PartitionRecords"
assert_contains "$out" "isvalid: true" "segments: batches decoded"
assert_not_contains "$out" "isvalid: false" "segments: no invalid batch"
snapshots=$(find "$mdir" -maxdepth 1 -name '*.checkpoint' | sort)
# Both format the node as `kafka-storage format --standalone`: the bootstrap snapshot at least.
[ -n "$snapshots" ] || fail "no snapshot (*.checkpoint) in $mdir: $(ls "$mdir")"
for snapshot in $snapshots; do
  name=$(basename "$snapshot")
  [[ "$name" =~ ^[0-9]{20}-[0-9]{10}\.checkpoint$ ]] || fail "snapshot name $name is not <20-digit offset>-<10-digit epoch>.checkpoint"
  out=$(kafka_tool kafka-dump-log --cluster-metadata-decoder --files "$snapshot")
  assert_contains "$out" "Snapshot end offset: $((10#${name:0:20})), epoch: $((10#${name:21:10}))" "$name: snapshot id"
  assert_contains "$out" "SnapshotHeader" "$name: header"
  assert_contains "$out" "SnapshotFooter" "$name: footer"
  assert_not_contains "$out" "isvalid: false" "$name: no invalid batch"
done

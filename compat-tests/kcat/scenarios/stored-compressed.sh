# kcat and confluent-kafka (both librdkafka) produce gzip, snappy, lz4 and zstd batches, and the
# broker stores them compressed, as Kafka does: Kafka's own kafka-dump-log reads the partition's
# segment files and must name the codec of every batch. librdkafka compresses only when the
# broker advertises Produce v2 (its check for the v1+ message format); a broker advertising
# Produce from v3 gets every batch uncompressed ("Broker does not support compression type").
# librdkafka also sends a batch uncompressed when compressing does not make it smaller (a batch of
# one short record, for instance): records are lingered into batches (linger.ms 2000), and a
# single-record batch (librdkafka sends the first record alone when it was produced before the new
# topic's metadata arrived) is not held against the broker; every batch of several records must
# be stored with the codec, and there must be such a batch.
# Needs BROKER_DATA_DIR (the broker's log.dirs), set by run-all.sh and run-subset.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
: "${BROKER_DATA_DIR:?BROKER_DATA_DIR must name the log directory of the broker}"
PYTHON=/usr/bin/python3

files=()
expect=()
for codec in gzip snappy lz4 zstd; do
  topic=$(unique_topic "kcat-stored-$codec")
  seq 1 200 | sed "s/^/$codec kcat line /" |
    kcat -b "$BOOTSTRAP" -P -t "$topic" -p 0 -z "$codec" -X linger.ms=2000 -X message.timeout.ms=20000
  files+=("$BROKER_DATA_DIR/$topic-0")
  expect+=("$codec")

  topic=$(unique_topic "python-stored-$codec")
  "$PYTHON" - "$BOOTSTRAP" "$topic" "$codec" <<'PY'
import sys
from confluent_kafka import Producer
bootstrap, topic, codec = sys.argv[1:]
errors = []
p = Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 2000,
              "message.timeout.ms": 20000})
for i in range(200):
    p.produce(topic, key=b"k%d" % i, value=b"%s python line %d" % (codec.encode(), i), partition=0,
              on_delivery=lambda err, msg: errors.append(err) if err else None)
if p.flush(30) != 0 or errors:
    sys.exit("confluent-kafka %s: not delivered: %s" % (codec, errors[:3]))
PY
  files+=("$BROKER_DATA_DIR/$topic-0")
  expect+=("$codec")
done

# One JVM for every segment file: kafka-dump-log prints "Dumping <file>" before each one's batches.
segments=()
for dir in "${files[@]}"; do
  seg=$(ls "$dir"/*.log 2>/dev/null | head -1) || true
  [ -n "$seg" ] || fail "no segment file in $dir"
  segments+=("$seg")
done
dump=$(kafka_tool kafka-dump-log --files "$(IFS=,; echo "${segments[*]}")")
for i in "${!segments[@]}"; do
  codec=${expect[$i]}
  batches=$(printf '%s\n' "$dump" | awk -v f="${segments[$i]}" '
    /^Dumping / { on = ($2 == f) ; next }
    on && /baseOffset:/ { print }')
  [ -n "$batches" ] || fail "$codec: kafka-dump-log shows no batch in ${segments[$i]}"
  # A batch of one record may legitimately be stored uncompressed (the client's choice when
  # compressing does not shrink it); every batch of several records must carry the codec.
  multi=$(printf '%s\n' "$batches" | grep -v " count: 1 " || true)
  [ -n "$multi" ] || fail "$codec: no batch of several records in ${segments[$i]##*/data/}"
  wrong=$(printf '%s\n' "$multi" | grep -v "compresscodec: $codec" || true)
  [ -z "$wrong" ] || fail "$codec: batches in ${segments[$i]##*/data/} not stored as $codec: $(printf '%s' "$wrong" | head -1 | grep -o 'compresscodec: [a-z]*')"
  records=$(printf '%s\n' "$batches" | sed -n 's/.* count: \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
  assert_eq "$records" "200" "$codec: records in ${segments[$i]##*/data/}"
done

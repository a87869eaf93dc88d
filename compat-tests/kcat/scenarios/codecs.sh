# kcat produces batches with every codec librdkafka has (none, gzip, snappy, lz4, zstd); the
# broker must accept each (it validates compressed batches) and serve them back intact.
set -euo pipefail
source "$(dirname "$0")/../../lib/assert.sh"
for codec in none gzip snappy lz4 zstd; do
  topic=$(unique_topic "kcat-$codec")
  seq 1 200 | sed "s/^/$codec payload line /" |
    kcat -b "$BOOTSTRAP" -P -t "$topic" -z "$codec" -X linger.ms=20 -X message.timeout.ms=20000
  got=$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%s\n' -m 15)
  expected=$(seq 1 200 | sed "s/^/$codec payload line /")
  assert_eq "$(printf '%s\n' "$got" | wc -l)" "200" "$codec: record count"
  [ "$got" = "$expected" ] || fail "$codec: consumed values differ from produced values"
done

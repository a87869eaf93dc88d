#!/usr/bin/env bash
# confluent-kafka-python (Debian's python3-confluent-kafka on librdkafka). Needs BOOTSTRAP; see
# ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

record_version confluent-python "$("$PYTHON" -c 'import confluent_kafka as c; print("confluent-kafka %s, librdkafka %s" % (c.version()[0], c.libversion()[0]))')"
for scenario in admin produce-consume-codecs consumer-group transactions idempotent-producer; do
  run_scenario confluent-python "$scenario" "$PYTHON" "$here/scenarios/$scenario.py"
done
finish_client

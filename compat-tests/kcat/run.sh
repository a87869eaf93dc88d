#!/usr/bin/env bash
# kcat (librdkafka) scenarios. Needs BOOTSTRAP; see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

record_version kcat "kcat $(kcat -V 2>&1 | sed -n 's/.*kcat - .* \([0-9][0-9.]*\).*/\1/p;s/^Version \([^ ]*\).*librdkafka \([^ ]*\).*/\1, librdkafka \2/p' | head -1)"
for scenario in metadata produce-consume-keys-headers codecs stored-compressed offsets-query consumer-group; do
  run_scenario kcat "$scenario" bash "$here/scenarios/$scenario.sh"
done
finish_client

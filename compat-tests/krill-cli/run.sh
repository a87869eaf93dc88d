#!/usr/bin/env bash
# Krill's own client commands (`krill topic|group|config|cluster|acl|produce|consume`, no Java): the
# same scenarios against Krill and against Apache Kafka 4.4, and (same-as-java) their output side by
# side with Kafka's own tools on the same broker. Needs BOOTSTRAP and a built Krill (bin/krill);
# see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

record_version krill-cli "$("$here/../../bin/krill" --version)"
for scenario in topics groups configs cluster quorum produce-consume consume-group reset-offsets acls same-as-java; do
  run_scenario krill-cli "$scenario" bash "$here/scenarios/$scenario.sh"
done
finish_client

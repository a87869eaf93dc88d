#!/usr/bin/env bash
# The official Apache Kafka command-line tools, run through the main classes of Kafka's bin
# scripts, from the jars of KAFKA_TOOLS_VERSION (default 4.4.0; run-all.sh also runs 3.9.2).
# Needs BOOTSTRAP; see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export KAFKA_TOOLS_VERSION=${KAFKA_TOOLS_VERSION:-4.4.0}
source "$here/../lib/common.sh"

client="java-tools-$KAFKA_TOOLS_VERSION"
record_version "$client" "Apache Kafka tools $KAFKA_TOOLS_VERSION (Maven Central), $(java -version 2>&1 | head -1)"
for scenario in topics console-produce-consume consumer-groups configs get-offsets delete-records \
  transactions broker-api-versions perf-test dump-log topics-describe features features-update leader-election metadata-quorum; do
  run_scenario "$client" "$scenario" bash "$here/scenarios/$scenario.sh"
done
finish_client

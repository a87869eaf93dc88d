#!/usr/bin/env bash
# The Apache Kafka Java transactional producer and read_committed consumer, from the client jars
# of KAFKA_TOOLS_VERSION (default 4.4.0, which runs transactions v2 when the broker finalizes
# transaction.version 2; run-all.sh also runs 3.9.2, a transactions-v1 client). Needs BOOTSTRAP;
# see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"
version=${KAFKA_TOOLS_VERSION:-4.4.0}
classpath_file="$here/../.cache/kafka-$version.classpath"
[ -s "$classpath_file" ] || { echo "java-txn: no classpath for Kafka $version; run scripts/install-compat-deps.sh" >&2 && exit 1; }

client="java-txn-$version"
record_version "$client" "kafka-clients $version, $(java -version 2>&1 | head -1)"
for scenario in commit-abort consume-transform-produce fencing; do
  run_scenario "$client" "$scenario" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    "-Dlog4j2.configurationFile=$here/../java/tools-log4j2.properties" \
    "-Dlog4j.configuration=file:$here/../java/tools-log4j.properties" "-Dkafka.client.version=$version" \
    -cp "$(cat "$classpath_file")" "$here/TransactionScenarios.java" "$scenario"
done
finish_client

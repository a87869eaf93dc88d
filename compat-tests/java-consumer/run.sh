#!/usr/bin/env bash
# The Apache Kafka Java consumer with the KIP-848 group protocol (group.protocol=consumer), from
# the 4.x client jars. Needs BOOTSTRAP; see ../lib/common.sh for the other inputs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"
version=${KAFKA_TOOLS_VERSION:-4.4.0}
classpath_file="$here/../.cache/kafka-$version.classpath"
[ -s "$classpath_file" ] || { echo "java-consumer: no classpath for Kafka $version; run scripts/install-compat-deps.sh" >&2 && exit 1; }

record_version java-consumer "kafka-clients $version, group.protocol=consumer, $(java -version 2>&1 | head -1)"
for scenario in consume-commit two-members seek; do
  run_scenario java-consumer "$scenario" java -Xmx256m -XX:+UseSerialGC \
    "-Dlog4j2.configurationFile=$here/../java/tools-log4j2.properties" \
    -cp "$(cat "$classpath_file")" "$here/ConsumerProtocolScenarios.java" "$scenario"
done
finish_client

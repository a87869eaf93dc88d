# Runs an Apache Kafka command-line tool the way Kafka's bin/<tool>.sh does: the same main class,
# on the classpath Maven resolved for KAFKA_TOOLS_VERSION (sourced; defines kafka_tool).
#   kafka_tool kafka-topics --bootstrap-server "$BOOTSTRAP" --list
# Main classes checked against the jars of 4.4.0 and 3.9.2 (3.9 still runs the console producer,
# broker-api-versions and configs from the Scala core).
: "${KAFKA_TOOLS_VERSION:=4.4.0}"
kafka_tool_java_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kafka_tool_classpath_file="$kafka_tool_java_dir/../.cache/kafka-$KAFKA_TOOLS_VERSION.classpath"

# Option names that changed between 3.9 and 4.x (4.x prints a deprecation notice on stdout for
# the old ones, which would pollute the outputs the scenarios compare).
case "$KAFKA_TOOLS_VERSION" in
3.*)
  KT_READER_PROPERTY=--property
  KT_FORMATTER_PROPERTY=--property
  KT_PRODUCER_PROPERTY=--producer-property
  KT_PERF_MESSAGES=--messages
  KT_PERF_PRODUCER_PROPS=--producer-props
  ;;
*)
  KT_READER_PROPERTY=--reader-property
  KT_FORMATTER_PROPERTY=--formatter-property
  KT_PRODUCER_PROPERTY=--command-property
  KT_PERF_MESSAGES=--num-records
  KT_PERF_PRODUCER_PROPS=--command-property
  ;;
esac

kafka_tool_main_class() {
  local legacy=0
  case "$KAFKA_TOOLS_VERSION" in 3.*) legacy=1 ;; esac
  case "$1" in
  kafka-topics) echo org.apache.kafka.tools.TopicCommand ;;
  kafka-console-producer)
    if [ "$legacy" -eq 1 ]; then echo kafka.tools.ConsoleProducer; else echo org.apache.kafka.tools.ConsoleProducer; fi
    ;;
  kafka-console-consumer) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  kafka-consumer-groups) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  kafka-configs)
    # Moved from the Scala core to the tools module in 4.x (4.4 has no kafka.admin.ConfigCommand).
    if [ "$legacy" -eq 1 ]; then echo kafka.admin.ConfigCommand; else echo org.apache.kafka.tools.ConfigCommand; fi
    ;;
  kafka-features) echo org.apache.kafka.tools.FeatureCommand ;;
  kafka-metadata-quorum) echo org.apache.kafka.tools.MetadataQuorumCommand ;;
  kafka-cluster) echo org.apache.kafka.tools.ClusterTool ;;
  kafka-acls)
    if [ "$legacy" -eq 1 ]; then echo kafka.admin.AclCommand; else echo org.apache.kafka.tools.AclCommand; fi
    ;;
  kafka-get-offsets) echo org.apache.kafka.tools.GetOffsetShell ;;
  kafka-delete-records) echo org.apache.kafka.tools.DeleteRecordsCommand ;;
  kafka-transactions) echo org.apache.kafka.tools.TransactionsCommand ;;
  kafka-leader-election) echo org.apache.kafka.tools.LeaderElectionCommand ;;
  kafka-broker-api-versions)
    if [ "$legacy" -eq 1 ]; then echo kafka.admin.BrokerApiVersionsCommand; else echo org.apache.kafka.tools.BrokerApiVersionsCommand; fi
    ;;
  kafka-producer-perf-test) echo org.apache.kafka.tools.ProducerPerformance ;;
  kafka-consumer-perf-test) echo org.apache.kafka.tools.ConsumerPerformance ;;
  kafka-dump-log)
    if [ "$legacy" -eq 1 ]; then echo kafka.tools.DumpLogSegments; else echo org.apache.kafka.tools.DumpLogSegments; fi
    ;;
  *)
    echo "kafka_tool: unknown tool $1" >&2
    return 1
    ;;
  esac
}

kafka_tool() {
  local tool=$1
  shift
  local main
  main=$(kafka_tool_main_class "$tool") || return 1
  [ -s "$kafka_tool_classpath_file" ] ||
    { echo "kafka_tool: no classpath for Kafka $KAFKA_TOOLS_VERSION; run scripts/install-compat-deps.sh" >&2 && return 1; }
  # Small heap and C1-only JIT: these are short runs on a shared 2-core machine.
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$kafka_tool_java_dir/tools-log4j2.properties" \
    "-Dlog4j.configuration=file:$kafka_tool_java_dir/tools-log4j.properties" \
    -cp "$(cat "$kafka_tool_classpath_file")" "$main" "$@"
}

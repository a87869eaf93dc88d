# kafka-topics --describe as 4.x runs it: DescribeTopicPartitions (KIP-966), paged with a small
# --partition-size-limit-per-response so the listing spans several responses and their cursors,
# across two topics. The output, with the topic names and ids replaced, must be exactly the shape
# Kafka prints. Kafka 4.4 formats its storage with eligible leader replicas enabled, which sets a
# cluster-wide min.insync.replicas=1 default that kafka-topics lists among every topic's configs;
# Krill does not implement ELR, so that entry is taken out before comparing.
set -euo pipefail
here=$(dirname "$0")
source "$here/../../lib/assert.sh"
source "$here/../../java/kafka-tool.sh"
prefix=$(unique_topic describe)
b=(--bootstrap-server "$BOOTSTRAP")
kafka_tool kafka-topics "${b[@]}" --create --topic "$prefix-a" --partitions 2 --replication-factor 1 >/dev/null
kafka_tool kafka-topics "${b[@]}" --create --topic "$prefix-b" --partitions 3 --replication-factor 1 \
  --config retention.ms=3600000 >/dev/null
desc=$(kafka_tool kafka-topics "${b[@]}" --describe --topic "$prefix-.*" --partition-size-limit-per-response 2)
tab=$'\t'
normalized=$(printf '%s\n' "$desc" |
  sed -e "s/$prefix-a/A/g" -e "s/$prefix-b/B/g" -e 's/TopicId: [A-Za-z0-9_-]*/TopicId: ID/' \
    -e 's/min\.insync\.replicas=1,\{0,1\}//' -e 's/,$//')
# kafka-topics prints the topics in no fixed order: compare topic by topic.
shape=$(printf '%s\n' "$normalized" | grep "Topic: A$tab"; printf '%s\n' "$normalized" | grep "Topic: B$tab")
expected="Topic: A${tab}TopicId: ID${tab}PartitionCount: 2${tab}ReplicationFactor: 1${tab}Configs: 
${tab}Topic: A${tab}Partition: 0${tab}Leader: 1${tab}Replicas: 1${tab}Isr: 1${tab}Elr: ${tab}LastKnownElr: 
${tab}Topic: A${tab}Partition: 1${tab}Leader: 1${tab}Replicas: 1${tab}Isr: 1${tab}Elr: ${tab}LastKnownElr: 
Topic: B${tab}TopicId: ID${tab}PartitionCount: 3${tab}ReplicationFactor: 1${tab}Configs: retention.ms=3600000
${tab}Topic: B${tab}Partition: 0${tab}Leader: 1${tab}Replicas: 1${tab}Isr: 1${tab}Elr: ${tab}LastKnownElr: 
${tab}Topic: B${tab}Partition: 1${tab}Leader: 1${tab}Replicas: 1${tab}Isr: 1${tab}Elr: ${tab}LastKnownElr: 
${tab}Topic: B${tab}Partition: 2${tab}Leader: 1${tab}Replicas: 1${tab}Isr: 1${tab}Elr: ${tab}LastKnownElr: "
assert_eq "$shape" "$expected" "describe output"

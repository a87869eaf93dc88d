#!/usr/bin/env bash
# Three combined KRaft nodes (process.roles=broker,controller) with static voters on 127.0.0.1:
# Apache Kafka (the Maven jars scripts/install-compat-deps.sh resolved) or Krill (bin/krill), from
# the same generated server.properties, each directory formatted with one cluster id (Kafka's
# kafka-storage format, or `krill format` with the same options).
#
#   cluster.sh start kafka|krill --dir DIR [--kafka-version V] [--property KEY=VALUE]...
#       Creates DIR/node-{1,2,3} (server.properties, data, logs; each --property replaces or adds
#       one key in every node's server.properties), starts the three nodes, waits
#       until every broker listener answers ApiVersions, writes DIR/bootstrap-server (the three
#       broker listeners) and DIR/bootstrap-controller (the three controller listeners).
#   cluster.sh kill N --dir DIR       SIGKILL of node N's process group (kill -9: no clean shutdown)
#   cluster.sh restart N --dir DIR    starts node N again on its files, waits for its broker listener
#   cluster.sh stop --dir DIR         SIGTERM to every node, SIGKILL after 30 s; removes nothing
#
# DIR/target remembers which broker runs; node N's console output is DIR/node-N/broker.out (Kafka's
# own log: DIR/node-N/logs/server.log).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
compat=$(cd "$here/.." && pwd)
root=$(cd "$compat/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
startup_timeout_ms=${BROKER_STARTUP_TIMEOUT_MS:-120000}
stop_timeout_s=30
ids="1 2 3"

die() {
  echo "cluster.sh: $*" >&2
  exit 1
}

usage() {
  die "usage: cluster.sh start kafka|krill --dir DIR [--kafka-version V] [--property KEY=VALUE]... | kill N --dir DIR | restart N --dir DIR | stop --dir DIR"
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# jvm_args NODE_DIR: sets the array `java_args`, the JVM options a node of Kafka runs with.
jvm_args() {
  java_args=(-Xms128m -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$1/log4j2.properties" "-Dkafka.logs.dir=$1/logs"
    -cp "$(cat "$compat/.cache/kafka-$kafka_version.classpath")")
}

write_config() {
  local node_dir=$1 id=$2 port=$3 controller_port=$4 voters=$5
  mkdir -p "$node_dir/data" "$node_dir/logs"
  cat >"$node_dir/server.properties" <<PROPS
# One of three combined KRaft nodes, static voters, loopback only: compat-tests/quorum/cluster.sh.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$node_dir/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  local property
  for property in "${properties[@]}"; do
    awk -v key="${property%%=*}" 'index($0, key "=") != 1' "$node_dir/server.properties" >"$node_dir/server.properties.new"
    echo "$property" >>"$node_dir/server.properties.new"
    mv "$node_dir/server.properties.new" "$node_dir/server.properties"
  done
  cat >"$node_dir/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $node_dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
PROPS
  echo "$port" >"$node_dir/port"
  echo "$controller_port" >"$node_dir/controller-port"
}

launch() {
  local node_dir=$1
  case "$target" in
  kafka)
    jvm_args "$node_dir"
    setsid java "${java_args[@]}" kafka.Kafka "$node_dir/server.properties" >>"$node_dir/broker.out" 2>&1 </dev/null &
    ;;
  krill) KRILL_LOG_LEVEL=info setsid "$root/bin/krill" start --config "$node_dir/server.properties" \
    >>"$node_dir/broker.out" 2>&1 </dev/null & ;;
  esac
  echo $! >"$node_dir/pid"
}

wait_ready() {
  local node_dir=$1
  if ! tsx "$compat/lib/probe.ts" "127.0.0.1:$(cat "$node_dir/port")" "$startup_timeout_ms"; then
    tail -n 20 "$node_dir/broker.out" >&2 || true
    die "$target node $(basename "$node_dir") did not answer within ${startup_timeout_ms} ms (output: $node_dir/broker.out)"
  fi
}

signal_node() {
  local node_dir=$1 signal=$2
  [ -f "$node_dir/pid" ] || return 0
  local pid
  pid=$(cat "$node_dir/pid")
  kill -0 "$pid" 2>/dev/null || return 0
  # setsid made the node its own process group leader, so the group id is its pid.
  kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
}

stop_node() {
  local node_dir=$1
  [ -f "$node_dir/pid" ] || return 0
  local pid waited=0
  pid=$(cat "$node_dir/pid")
  signal_node "$node_dir" TERM
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((stop_timeout_s * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -0 "$pid" 2>/dev/null && signal_node "$node_dir" KILL
  rm -f "$node_dir/pid"
}

command=${1:-}
shift || true
target="" node_id=""
case "$command" in
start)
  target=${1:-}
  shift || true
  ;;
kill | restart)
  node_id=${1:-}
  shift || true
  ;;
esac
dir="" kafka_version=${KAFKA_VERSION:-4.4.0}
properties=()
while [ $# -gt 0 ]; do
  case "$1" in
  --dir) dir=${2:-} && shift 2 ;;
  --property)
    case "${2:-}" in *=*) ;; *) usage ;; esac
    properties+=("$2") && shift 2
    ;;
  --kafka-version) kafka_version=${2:-} && shift 2 ;;
  *) usage ;;
  esac
done
[ -n "$dir" ] || usage

case "$command" in
start)
  case "$target" in kafka | krill) ;; *) usage ;; esac
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  echo "$target" >"$dir/target"
  echo "$kafka_version" >"$dir/kafka-version"
  if [ "$target" = kafka ]; then
    [ -s "$compat/.cache/kafka-$kafka_version.classpath" ] || die "no classpath for Kafka $kafka_version; run scripts/install-compat-deps.sh"
  else
    [ -f "$root/dist/src/cli.js" ] || die "Krill is not built (dist/src/cli.js missing); run 'make build'"
  fi
  voters="" servers="" controllers=""
  declare -A port controller_port
  for id in $ids; do
    port[$id]=$(free_port)
    controller_port[$id]=$(free_port)
    voters="$voters${voters:+,}$id@127.0.0.1:${controller_port[$id]}"
    servers="$servers${servers:+,}127.0.0.1:${port[$id]}"
    controllers="$controllers${controllers:+,}127.0.0.1:${controller_port[$id]}"
  done
  # A cluster id as `kafka-storage random-uuid` prints it (no leading '-', which the tool's
  # argument parser would take for an option).
  cluster_id=-
  while [ "${cluster_id#-}" != "$cluster_id" ]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
  done
  for id in $ids; do
    node_dir="$dir/node-$id"
    write_config "$node_dir" "$id" "${port[$id]}" "${controller_port[$id]}" "$voters"
    # Static voters (kraft.version 0): no --standalone or --initial-controllers.
    if [ "$target" = kafka ]; then
      jvm_args "$node_dir"
      java "${java_args[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$node_dir/server.properties" \
        >"$node_dir/format.out" 2>&1 || die "kafka-storage format failed (see $node_dir/format.out)"
    else
      "$root/bin/krill" format --cluster-id "$cluster_id" --config "$node_dir/server.properties" \
        >"$node_dir/format.out" 2>&1 || die "krill format failed (see $node_dir/format.out)"
    fi
  done
  for id in $ids; do launch "$dir/node-$id"; done
  for id in $ids; do wait_ready "$dir/node-$id"; done
  echo "$servers" >"$dir/bootstrap-server"
  echo "$controllers" >"$dir/bootstrap-controller"
  echo "$cluster_id" >"$dir/cluster-id"
  ;;
kill)
  [ -d "$dir/node-$node_id" ] || usage
  signal_node "$dir/node-$node_id" KILL
  pid=$(cat "$dir/node-$node_id/pid")
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$dir/node-$node_id/pid"
  ;;
restart)
  [ -d "$dir/node-$node_id" ] || usage
  target=$(cat "$dir/target")
  kafka_version=$(cat "$dir/kafka-version")
  launch "$dir/node-$node_id"
  wait_ready "$dir/node-$node_id"
  ;;
stop)
  for id in $ids; do stop_node "$dir/node-$id" & done
  wait
  ;;
*) usage ;;
esac

#!/usr/bin/env bash
# container/compose.yaml with podman-compose: three Krill containers form one cluster (KRaft quorum
# on the compose network, CLUSTER_ID formatting their empty volumes), reached from the host through
# the published ports: krill cluster info lists three unfenced brokers, a topic with replication
# factor 3 has every replica in sync, records produced with acks=all through one node are read
# back through another, and the quorum has three voters. Host ports are free ones, the project name
# is this run's, and `down -v` removes the containers and volumes on any exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
source "$here/../../lib/assert.sh"
command -v podman-compose >/dev/null || fail "podman-compose is not installed (apt-get install podman-compose)"
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
export KRILL_1_PORT=$(free_port) KRILL_2_PORT=$(free_port) KRILL_3_PORT=$(free_port)
export IMAGE=${KRILL_IMAGE:-localhost/krill:dev}
project="krill-compose-$$"
compose() {
  podman-compose -p "$project" -f "$root/container/compose.yaml" "$@"
}
trap 'compose down -v >/dev/null 2>&1 || true' EXIT
compose up -d >/dev/null 2>&1 || fail "podman-compose up failed"
krill() {
  "$root/bin/krill" "$@" --timeout 5000
}
b1="localhost:$KRILL_1_PORT" b2="localhost:$KRILL_2_PORT" b3="localhost:$KRILL_3_PORT"
info=""
for _ in $(seq 1 60); do
  info=$(krill cluster info --bootstrap-server "$b1" 2>/dev/null || true)
  [ "$(printf '%s\n' "$info" | grep -c '	unfenced')" -eq 3 ] && break
  sleep 2
done
[ "$(printf '%s\n' "$info" | grep -c '	unfenced')" -eq 3 ] || fail "three unfenced brokers within 120 s, got: $info"
assert_contains "$info" "Cluster ID: 4L6g3nShT-eMCtK--X86sw" "the cluster id of CLUSTER_ID"
topic=$(unique_topic compose)
krill topic create "$topic" --partitions 3 --bootstrap-server "$b2" >/dev/null
desc=""
for _ in $(seq 1 20); do
  desc=$(krill topic describe "$topic" --bootstrap-server "$b3" 2>/dev/null || true)
  [ "$(printf '%s\n' "$desc" | grep -cE '	Isr: [123],[123],[123]	')" -eq 3 ] && break
  sleep 1
done
assert_contains "$desc" "ReplicationFactor: 3" "replication factor"
[ "$(printf '%s\n' "$desc" | grep -cE '	Isr: [123],[123],[123]	')" -eq 3 ] || fail "every partition with three in-sync replicas: $desc"
seq 1 30 | kcat -b "$b1" -P -t "$topic" -X acks=all -X message.timeout.ms=30000
got=$(kcat -b "$b3" -C -t "$topic" -o beginning -e -q | sort -n | tr '\n' ' ')
assert_eq "$got" "$(seq 1 30 | tr '\n' ' ')" "read back through another node"
quorum=$(krill cluster quorum --bootstrap-server "$b2")
assert_contains "$quorum" '"id": 1, ' "voter 1"
assert_contains "$quorum" '"id": 2, ' "voter 2"
assert_contains "$quorum" '"id": 3, ' "voter 3"

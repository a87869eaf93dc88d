#!/usr/bin/env bash
# The quorum scenario (issue 15): three combined KRaft nodes with static voters (cluster.sh), read
# with Kafka 4.4's own tools, then the active controller killed with SIGKILL and restarted:
#
#   1. kafka-metadata-quorum --bootstrap-server describe --status / --replication: one leader, an
#      epoch, a high watermark, the three voters with their CONTROLLER endpoints, no observers; one
#      Leader row and two Follower rows;
#   2. the same through --bootstrap-controller (KIP-919), kafka-features --bootstrap-controller
#      describe and kafka-cluster cluster-id --bootstrap-controller;
#   3. a topic created through a node that does not lead;
#   4. kill -9 of the leader's process: the survivors elect a new leader in a higher epoch, which
#      still lists the topic and creates another;
#   5. the killed node restarts on its files and rejoins as a follower that has caught up.
#
# Leadership may move at any moment on a loaded machine, so a reading of the quorum is taken only
# when --status and --replication agree on the leader, and every wait is bounded.
#
#   run.sh [--target krill|kafka|both]     (default both; the scenario is trusted only if both pass)
#
# Krill must be built (make build); Kafka's jars come from scripts/install-compat-deps.sh. Takes
# about 2 minutes per target on an idle machine (JVM starts), so it is not in `make test`:
# `make compat-quorum` runs it. Output of every step and the nodes' logs stay in
# compat-tests/.work/quorum-<pid>/<target> when a target fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
compat=$(cd "$here/.." && pwd)
root=$(cd "$compat/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"
export KAFKA_TOOLS_VERSION=${KAFKA_VERSION:-4.4.0}
source "$compat/java/kafka-tool.sh"

targets="krill kafka"
if [ "${1:-}" = "--target" ]; then
  case "${2:-}" in
  krill | kafka) targets=$2 ;;
  both) ;;
  *) echo "quorum/run.sh: --target must be krill, kafka or both" >&2 && exit 2 ;;
  esac
fi

# Folders of finished runs are removed; this run's stays only if something failed.
for stale in "$compat"/.work/quorum-*; do
  [ -d "$stale" ] || continue
  kill -0 "${stale##*-}" 2>/dev/null || rm -rf "$stale"
done
work="$compat/.work/quorum-$$"
mkdir -p "$work"

log() { echo "quorum[$target]: $*" >&2; }
fail() {
  log "FAIL: $*"
  return 1
}
now_ms() { date +%s%3N; }
field() { printf '%s\n' "$1" | sed -n "s/^$2:[[:space:]]*//p" | head -1; }

# quorum_reading BOOTSTRAP_OPTION ADDRESSES: sets `status`, `replication`, `leader` and `epoch`
# from one --status and one --replication that agree on the leader (retried, bounded).
quorum_reading() {
  local option=$1 addresses=$2 deadline=$(($(now_ms) + ${3:-60000}))
  while :; do
    if status=$(kafka_tool kafka-metadata-quorum "$option" "$addresses" describe --status 2>&1) &&
      replication=$(kafka_tool kafka-metadata-quorum "$option" "$addresses" describe --replication 2>&1); then
      leader=$(field "$status" LeaderId)
      epoch=$(field "$status" LeaderEpoch)
      local leader_row
      leader_row=$(printf '%s\n' "$replication" | awk '$NF == "Leader" { print $1 }')
      if [ -n "$leader" ] && [ "$leader" != -1 ] && [ "$leader_row" = "$leader" ]; then
        return 0
      fi
      log "$option: leader moved between readings (status: ${leader:-none}, replication: ${leader_row:-none}); again"
    else
      log "$option: not answered yet: $(printf '%s' "$status$replication" | grep -m1 -E 'Exception|Error' || true)"
    fi
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

check_reading() {
  local what=$1
  field "$status" HighWatermark | grep -Eq '^[1-9][0-9]*$' || fail "$what: no high watermark: $status" || return 1
  for id in 1 2 3; do
    local port
    port=$(cat "$dir/node-$id/controller-port")
    # Static voters (kraft.version 0): no directory id, as Kafka prints them.
    case "$status" in
    *"{\"id\": $id, \"endpoints\": [\"CONTROLLER://127.0.0.1:$port\"]}"*) ;;
    *) fail "$what: voter $id with CONTROLLER://127.0.0.1:$port not listed: $status" || return 1 ;;
    esac
  done
  case "$status" in *"CurrentObservers:       []"*) ;; *) fail "$what: observers listed: $status" || return 1 ;; esac
  local followers
  followers=$(printf '%s\n' "$replication" | awk '$NF == "Follower"' | wc -l)
  [ "$followers" -eq 2 ] || fail "$what: $followers Follower rows: $replication" || return 1
  log "$what: leader $leader, epoch $epoch, high watermark $(field "$status" HighWatermark), 3 voters, 2 followers"
}

topics() {
  kafka_tool kafka-topics --bootstrap-server "$1" --list 2>/dev/null
}

# Retried while the cluster settles (a new leader, a dead node still in the brokers' metadata).
create_topic() {
  local via=$1 topic=$2 deadline=$(($(now_ms) + 60000))
  until kafka_tool kafka-topics --bootstrap-server "$via" --create --if-not-exists --topic "$topic" \
    --partitions 1 --replication-factor 1 >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 1
  done
  deadline=$(($(now_ms) + 30000))
  until topics "$via" | grep -qx "$topic"; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

scenario() {
  local servers controllers
  servers=$(cat "$dir/bootstrap-server")
  controllers=$(cat "$dir/bootstrap-controller")
  # 1-2: the quorum as Kafka's tools read it, through brokers and through controllers.
  quorum_reading --bootstrap-server "$servers" || fail "no agreeing --status/--replication via --bootstrap-server" || return 1
  check_reading "--bootstrap-server" || return 1
  quorum_reading --bootstrap-controller "$controllers" || fail "no agreeing reading via --bootstrap-controller" || return 1
  check_reading "--bootstrap-controller" || return 1
  local features cluster_id
  features=$(kafka_tool kafka-features --bootstrap-controller "$controllers" describe 2>&1) ||
    fail "kafka-features --bootstrap-controller: $features" || return 1
  printf '%s\n' "$features" | grep -Eq '^Feature: metadata.version.*FinalizedVersionLevel: [34]\.' ||
    fail "kafka-features --bootstrap-controller: no finalized metadata.version: $features" || return 1
  cluster_id=$(kafka_tool kafka-cluster cluster-id --bootstrap-controller "$controllers" 2>&1) ||
    fail "kafka-cluster cluster-id: $cluster_id" || return 1
  [ "$cluster_id" = "Cluster ID: $(cat "$dir/cluster-id")" ] || fail "kafka-cluster cluster-id: $cluster_id" || return 1
  log "--bootstrap-controller: kafka-features and kafka-cluster cluster-id answer"

  # 3: a topic through a node that does not lead.
  local old=$leader old_epoch=$epoch other
  other=$((old % 3 + 1))
  create_topic "127.0.0.1:$(cat "$dir/node-$other/port")" quorum-before || fail "topic not created through node $other" || return 1

  # 4: kill -9 of the active controller; a new leader in a higher epoch.
  local killed_ms survivors=""
  for id in 1 2 3; do
    [ "$id" = "$old" ] || survivors="$survivors${survivors:+,}127.0.0.1:$(cat "$dir/node-$id/port")"
  done
  killed_ms=$(now_ms)
  "$here/cluster.sh" kill "$old" --dir "$dir"
  log "killed node $old (the leader of epoch $old_epoch) with SIGKILL"
  local deadline=$(($(now_ms) + 90000))
  while :; do
    if status=$(kafka_tool kafka-metadata-quorum --bootstrap-server "$survivors" describe --status 2>&1); then
      leader=$(field "$status" LeaderId)
      epoch=$(field "$status" LeaderEpoch)
      if [ -n "$leader" ] && [ "$leader" != -1 ] && [ "$leader" != "$old" ] && [ "$epoch" -gt "$old_epoch" ]; then
        break
      fi
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "no new leader within 90 s of the kill: $status" || return 1
    sleep 1
  done
  log "new leader $leader in epoch $epoch, seen $(($(now_ms) - killed_ms)) ms after the kill (an upper bound: each reading is a JVM start)"
  local next=$leader
  topics "$survivors" | grep -qx quorum-before || fail "quorum-before lost after the failover" || return 1
  create_topic "127.0.0.1:$(cat "$dir/node-$next/port")" quorum-after || fail "no topic created after the failover" || return 1
  log "quorum-before kept, quorum-after created through node $next"

  # 5: the killed node restarts and rejoins as a caught-up follower.
  "$here/cluster.sh" restart "$old" --dir "$dir"
  deadline=$(($(now_ms) + 90000))
  while :; do
    if quorum_reading --bootstrap-server "$servers" 30000; then
      local row
      row=$(printf '%s\n' "$replication" | awk -v id="$old" '$1 == id')
      # LogEndOffset (3rd column) at least the high watermark, and a Follower, or (if the quorum
      # elected again meanwhile) the leader of a later epoch: either way a member again.
      if [ -n "$row" ] && [ "$(echo "$row" | awk '{ print $3 }')" -ge "$(field "$status" HighWatermark)" ]; then
        case "$row" in
        *Follower*) break ;;
        *Leader*) [ "$epoch" -gt "$old_epoch" ] && break ;;
        esac
      fi
    fi
    [ "$(now_ms)" -lt "$deadline" ] || fail "node $old did not rejoin within 90 s: $replication" || return 1
    sleep 1
  done
  log "node $old rejoined: $(printf '%s\n' "$replication" | awk -v id="$old" '$1 == id' | tr -s ' \t' ' ')(leader $leader, epoch $epoch)"
}

status_all=0
for target in $targets; do
  dir="$work/$target"
  started=$(now_ms)
  if ! "$here/cluster.sh" start "$target" --dir "$dir" --kafka-version "$KAFKA_TOOLS_VERSION"; then
    log "FAIL: the cluster did not start"
    "$here/cluster.sh" stop --dir "$dir" || true
    status_all=1
    continue
  fi
  log "three nodes up in $((($(now_ms) - started) / 1000)) s"
  if scenario; then
    log "PASS in $((($(now_ms) - started) / 1000)) s"
  else
    status_all=1
  fi
  "$here/cluster.sh" stop --dir "$dir"
done
[ "$status_all" -ne 0 ] || rm -rf "$work"
exit "$status_all"

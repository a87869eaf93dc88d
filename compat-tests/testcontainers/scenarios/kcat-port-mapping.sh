#!/usr/bin/env bash
# The image as a user of Apache Kafka's image runs it: a bridged network (no --network host), a
# published port, the advertised address from KAFKA_ADVERTISED_LISTENERS (the entrypoint's
# --env-config), and kcat on the host as the client. Two ways Kafka's image documents:
#   1. -p 127.0.0.1:P:9092 with KAFKA_LISTENERS=PLAINTEXT://:9092 and the advertised host port P;
#   2. -p 127.0.0.1:P:P with KAFKA_ADVERTISED_LISTENERS alone: the listeners are then derived from it
#      (every interface, the advertised port), as Kafka's image derives them.
# Each time: Metadata names the advertised address, a keyed record with a header is produced and
# read back, and `podman stop` ends with exit code 0. The host side binds 127.0.0.1 only.
set -euo pipefail
image=${KRILL_IMAGE:-localhost/krill:dev}
label=()
[ -z "${KRILL_COMPAT_RUN:-}" ] || label=(--label "krill.compat.run=$KRILL_COMPAT_RUN")
cid=
cleanup() { [ -z "$cid" ] || podman rm -f "$cid" >/dev/null 2>&1 || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" && exit 1; }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

check_mode() {
  local name=$1 port=$2
  shift 2
  cid=$(podman run -d "${label[@]}" "$@" "$image")
  local deadline=$((SECONDS + 60)) metadata=
  until metadata=$(timeout 10 kcat -b "127.0.0.1:$port" -L -m 5 2>/dev/null) && grep -q "broker 1 at 127.0.0.1:$port" <<<"$metadata"; do
    [ "$(podman inspect --format '{{.State.Status}}' "$cid")" = running ] || fail "$name: the container stopped: $(podman logs --tail 5 "$cid" 2>&1)"
    [ "$SECONDS" -lt "$deadline" ] || fail "$name: no Metadata naming 127.0.0.1:$port within 60 s (last: $metadata)"
    sleep 0.5
  done
  echo "$name: Metadata from the host: $(grep 'broker 1 at' <<<"$metadata" | xargs)"
  local topic="port-mapping-$name-$$"
  printf 'k1:hello through port %s\n' "$port" | timeout 30 kcat -b "127.0.0.1:$port" -P -t "$topic" -K: -H source=kcat -q
  local got
  got=$(timeout 30 kcat -b "127.0.0.1:$port" -C -t "$topic" -o beginning -e -q -f '%k|%s|%h\n')
  [ "$got" = "k1|hello through port $port|source=kcat" ] || fail "$name: read back '$got'"
  echo "$name: produced and consumed: $got"
  podman stop -t 30 "$cid" >/dev/null
  local code
  code=$(podman inspect --format '{{.State.ExitCode}}' "$cid")
  [ "$code" = 0 ] || fail "$name: exit code $code after podman stop"
  podman rm "$cid" >/dev/null
  cid=
}

command -v kcat >/dev/null || fail "kcat is not installed (make deps installs it)"
p1=$(free_port)
check_mode published-9092 "$p1" -p "127.0.0.1:$p1:9092" \
  -e "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:$p1" -e KAFKA_LISTENERS=PLAINTEXT://:9092
p2=$(free_port)
check_mode derived-listeners "$p2" -p "127.0.0.1:$p2:$p2" -e "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:$p2"
echo "ok: kcat on the host reached the container through a published port, both ways"

#!/usr/bin/env bash
# Starts or stops podman's Docker-compatible API on a unix socket, for tools that speak the Docker
# API (testcontainers) on a machine without a Docker engine.
#
#   container/podman-service.sh start SOCKET   starts `podman system service --time=0` on SOCKET in
#                                             the background, waits (at most 30 s) until it answers
#                                             /_ping, writes SOCKET.pid; prints DOCKER_HOST's value
#   container/podman-service.sh stop SOCKET    SIGTERM to that service (SIGKILL after 10 s)
set -euo pipefail
command=${1:-}
socket=${2:-}
[ -n "$command" ] && [ -n "$socket" ] || {
  echo "usage: podman-service.sh start|stop SOCKET" >&2
  exit 2
}
pid_file="$socket.pid"

case "$command" in
start)
  command -v podman >/dev/null || { echo "podman-service: podman is not installed" >&2 && exit 1; }
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "podman-service: already running for $socket" >&2 && exit 1
  fi
  rm -f "$socket"
  setsid podman system service --time=0 "unix://$socket" >"$socket.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 1 300); do
    if [ -S "$socket" ] && curl -fsS --max-time 2 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
      echo "unix://$socket"
      exit 0
    fi
    kill -0 "$(cat "$pid_file")" 2>/dev/null || break
    sleep 0.1
  done
  echo "podman-service: the API did not come up on $socket (log: $socket.log)" >&2
  "$0" stop "$socket"
  exit 1
  ;;
stop)
  [ -f "$pid_file" ] || exit 0
  pid=$(cat "$pid_file")
  rm -f "$pid_file"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$socket"
  ;;
*)
  echo "usage: podman-service.sh start|stop SOCKET" >&2
  exit 2
  ;;
esac

#!/usr/bin/env bash
# Krill in a container, driven through testcontainers (the KrillContainer module in
# ../../testcontainers) over podman's Docker-compatible API: no Docker engine, no registry, and
# every container on the host network with the broker on 127.0.0.1.
#
# The broker under test is always Krill in the container, never BOOTSTRAP: each scenario starts
# its own KrillContainer. With TARGET=kafka (run-all's reference run) there is nothing to run and
# the script records nothing. Other inputs as ../lib/common.sh (SCENARIOS, RESULTS_FILE, ...), plus:
#   KRILL_IMAGE          image to run (default localhost/krill:dev)
#   KRILL_IMAGE_REBUILD  1 rebuilds the image first (container/build-image.sh); it is also built
#                        when absent
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# Scenarios start their own brokers; common.sh wants an address all the same.
: "${BOOTSTRAP:=testcontainers}"
source "$here/../lib/common.sh"
export PATH="$("$root/scripts/ensure-node.sh"):$root/node_modules/.bin:$PATH"
export KRILL_IMAGE=${KRILL_IMAGE:-localhost/krill:dev}

scenarios="podman-run lifecycle produce-consume restart"
# kafkajs's own scenarios, unchanged, each against a fresh container.
kafkajs_scenarios="admin produce-codecs idempotent-producer consumer-group transactions seek pause-resume"

list_or_skip() {
  for s in $scenarios; do run_scenario testcontainers "$s" true; done
  for s in $kafkajs_scenarios; do run_scenario testcontainers "kafkajs-$s" true; done
}
if [ "${LIST_SCENARIOS:-0}" = 1 ]; then
  list_or_skip
  exit 0
fi
if [ "$TARGET" = kafka ]; then
  echo "testcontainers: the scenarios run Krill in a container; nothing to run against the reference Kafka" >&2
  exit 0
fi

command -v podman >/dev/null || { echo "FAIL: podman is not installed (apt-get install podman runc)" >&2 && exit 1; }
if [ "${KRILL_IMAGE_REBUILD:-0}" = 1 ] || ! podman image exists "$KRILL_IMAGE"; then
  echo "testcontainers: building $KRILL_IMAGE" >&2
  timeout -k 10 900 "$root/container/build-image.sh" --tag "$KRILL_IMAGE" >&2
fi
# The module and its one dependency live in their own package, out of the root's.
if [ ! -d "$root/testcontainers/node_modules/testcontainers" ]; then
  (cd "$root/testcontainers" && timeout -k 10 300 npm install --no-audit --no-fund --loglevel=error >&2)
fi
tsc -p "$root/testcontainers/tsconfig.json"

work="$compat_root/.work/testcontainers"
mkdir -p "$work"
socket="$work/podman.sock"
run_id="krill-compat-$$"
cleanup() {
  # Ryuk (testcontainers' reaper) is off, so containers and volumes a killed scenario left are
  # removed here.
  local left
  left=$(podman ps -aq --filter "label=krill.compat.run=$run_id" 2>/dev/null || true)
  [ -z "$left" ] || podman rm -f $left >/dev/null 2>&1 || true
  left=$(podman volume ls -q --filter "label=krill.compat.run=$run_id" 2>/dev/null || true)
  [ -z "$left" ] || podman volume rm -f $left >/dev/null 2>&1 || true
  "$root/container/podman-service.sh" stop "$socket"
}
trap cleanup EXIT
DOCKER_HOST=$("$root/container/podman-service.sh" start "$socket")
export DOCKER_HOST TESTCONTAINERS_RYUK_DISABLED=true KRILL_COMPAT_RUN=$run_id

record_version testcontainers "testcontainers $(node -p "require('$root/testcontainers/node_modules/testcontainers/package.json').version"), podman $(podman version --format '{{.Client.Version}}'), image $KRILL_IMAGE ($(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$KRILL_IMAGE")), Node $(node -v)"
for s in $scenarios; do
  run_scenario testcontainers "$s" node "$here/scenarios/$s.mjs"
done
for s in $kafkajs_scenarios; do
  run_scenario testcontainers "kafkajs-$s" node "$here/with-container.mjs" tsx "$compat_root/kafkajs/scenarios/$s.ts"
done
finish_client

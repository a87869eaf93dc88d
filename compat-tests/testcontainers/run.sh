#!/usr/bin/env bash
# Krill in a container, driven through testcontainers (the KrillContainer module in
# ../../testcontainers) over podman's Docker-compatible API: no Docker engine, no registry; the
# containers on the host network with the broker on 127.0.0.1, except kcat-port-mapping (a bridged
# network and a published port, as Apache Kafka's image is run, reached by kcat on the host).
#
# The broker under test is always Krill in the container, never BOOTSTRAP: each scenario starts
# its own KrillContainer. With TARGET=kafka (run-all's reference run) there is nothing to run and
# the script records nothing. Other inputs as ../lib/common.sh (SCENARIOS, RESULTS_FILE, ...), plus:
#   KRILL_IMAGE          image to run (default localhost/krill:src-HASH, HASH naming the committed
#                        sources the image is built from, so a new commit gets a new image)
#   KRILL_IMAGE_REBUILD  1 rebuilds the image first (container/build-image.sh); it is also built
#                        when absent, and when its revision label is not HEAD and a source the image
#                        holds changed since (never a stale image)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# Scenarios start their own brokers; common.sh wants an address all the same.
: "${BOOTSTRAP:=testcontainers}"
source "$here/../lib/common.sh"
export PATH="$("$root/scripts/ensure-node.sh"):$root/node_modules/.bin:$PATH"
# What container/build-image.sh puts in the image (git archive of these paths at HEAD, plus the
# build script and the default config): a change to any of them makes an image built before it stale.
image_sources=(package.json package-lock.json tsconfig.json tsconfig.build.json src tools/build/bundle.ts
  container/build-image.sh container/server.properties)
sources_hash=$(git -C "$root" ls-tree HEAD -- "${image_sources[@]}" | git -C "$root" hash-object --stdin | cut -c1-12)
export KRILL_IMAGE=${KRILL_IMAGE:-localhost/krill:src-$sources_hash}
# image_is_current: the image exists and was built from HEAD, or from a commit whose image sources
# are the same as HEAD's (its org.opencontainers.image.revision label, set by build-image.sh).
image_is_current() {
  podman image exists "$KRILL_IMAGE" || return 1
  local rev
  rev=$(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$KRILL_IMAGE" 2>/dev/null || true)
  [ -n "$rev" ] && git -C "$root" cat-file -e "$rev^{commit}" 2>/dev/null || return 1
  git -C "$root" diff --quiet "$rev" HEAD -- "${image_sources[@]}"
}

scenarios="module-tests podman-run kcat-port-mapping lifecycle produce-consume restart compose-cluster"
# kafkajs's own scenarios, unchanged, each against a fresh container.
kafkajs_scenarios="admin produce-codecs idempotent-producer consumer-group transactions seek pause-resume"

list_scenarios() {
  for s in $scenarios; do run_scenario testcontainers "$s" true; done
  for s in $kafkajs_scenarios; do run_scenario testcontainers "kafkajs-$s" true; done
}
if [ "${LIST_SCENARIOS:-0}" = 1 ]; then
  list_scenarios
  exit 0
fi
if [ "$TARGET" = kafka ]; then
  echo "testcontainers: the scenarios run Krill in a container; nothing to run against the reference Kafka" >&2
  exit 0
fi

# fail_all REASON: records every scenario as failed with REASON (the set-up could not be done).
fail_all() {
  local s
  for s in $scenarios; do run_scenario testcontainers "$s" bash -c 'echo "FAIL: $1"; exit 1' _ "$1"; done
  for s in $kafkajs_scenarios; do run_scenario testcontainers "kafkajs-$s" bash -c 'echo "FAIL: $1"; exit 1' _ "$1"; done
  exit 1
}

# Podman and runc from Debian (the compat suite's other system packages come from apt too).
if ! command -v podman >/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "testcontainers: installing podman and runc from apt" >&2
  { timeout -k 10 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout -k 10 600 apt-get install -y -qq podman runc; } >&2 ||
    true
fi
command -v podman >/dev/null || fail_all "podman is not installed (apt-get install podman runc)"
# podman-compose for compose-cluster (container/compose.yaml), from Debian too.
if ! command -v podman-compose >/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "testcontainers: installing podman-compose from apt" >&2
  { timeout -k 10 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout -k 10 600 apt-get install -y -qq podman-compose; } >&2 ||
    true
fi
if ! git -C "$root" diff --quiet HEAD -- "${image_sources[@]}"; then
  echo "testcontainers: uncommitted changes to the image's sources are not in the image (it holds HEAD's)" >&2
fi
if [ "${KRILL_IMAGE_REBUILD:-0}" = 1 ] || ! image_is_current; then
  echo "testcontainers: building $KRILL_IMAGE from HEAD ($(git -C "$root" rev-parse --short HEAD))" >&2
  timeout -k 10 900 "$root/container/build-image.sh" --tag "$KRILL_IMAGE" >&2 || fail_all "container/build-image.sh failed"
  # Older source-hash images are left by earlier commits: keep the three newest (an image a
  # container still uses is not removed).
  podman images --format '{{.Repository}}:{{.Tag}}' --sort created localhost/krill 2>/dev/null |
    grep ':src-' | grep -vx "$KRILL_IMAGE" | tail -n +3 | xargs -r podman rmi >/dev/null 2>&1 || true
fi
# The module and its dependencies (testcontainers; TypeScript and vitest for its build and tests)
# live in their own package, out of the root's.
if [ ! -d "$root/testcontainers/node_modules/testcontainers" ] || [ ! -x "$root/testcontainers/node_modules/.bin/vitest" ]; then
  (cd "$root/testcontainers" && timeout -k 10 300 npm install --no-audit --no-fund --loglevel=error >&2) ||
    fail_all "npm install failed in testcontainers/"
fi
"$root/testcontainers/node_modules/.bin/tsc" -p "$root/testcontainers/tsconfig.build.json" ||
  fail_all "the KrillContainer module does not compile"

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
DOCKER_HOST=$("$root/container/podman-service.sh" start "$socket") || fail_all "podman's API service did not start"
export DOCKER_HOST TESTCONTAINERS_RYUK_DISABLED=true KRILL_COMPAT_RUN=$run_id

record_version testcontainers "testcontainers $(node -p "require('$root/testcontainers/node_modules/testcontainers/package.json').version"), podman $(podman version --format '{{.Client.Version}}'), image $KRILL_IMAGE ($(podman image inspect --format '{{index .Labels "org.opencontainers.image.revision"}}' "$KRILL_IMAGE")), Node $(node -v)"
# The module's own tests (type check, unit tests, and its container test, which runs here because
# DOCKER_HOST is set), then the scenarios.
run_scenario testcontainers module-tests bash -c 'cd "$1" && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/vitest run' _ "$root/testcontainers"
for s in $scenarios; do
  if [ -f "$here/scenarios/$s.sh" ]; then
    run_scenario testcontainers "$s" "$here/scenarios/$s.sh"
  elif [ "$s" != module-tests ]; then
    run_scenario testcontainers "$s" node "$here/scenarios/$s.mjs"
  fi
done
for s in $kafkajs_scenarios; do
  run_scenario testcontainers "kafkajs-$s" node "$here/with-container.mjs" tsx "$compat_root/kafkajs/scenarios/$s.ts"
done
finish_client

#!/usr/bin/env bash
# Checks the npm package as a user gets it: `npm pack` (which builds, through `prepack`), install
# of the tarball into an empty project, then from that project
#   - `npx krill --version` prints the version and the commit stamped at build time;
#   - an older Node (the system's, when it is older than 22.15) gets the launcher's one-line message
#     and exit status 1, not a stack trace;
#   - `krill start` (node_modules/.bin/krill) starts a broker that kcat produces to and consumes from, and SIGTERM stops it
#     with exit status 0;
#   - `import { startBroker } from "krill"` starts and stops a broker in-process.
# Every step is bounded in time; the scratch folder and the broker are removed on exit.
#
#   scripts/pack-check.sh        (`make pack-check`; part of `make test`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
node_bin=$("$root/scripts/ensure-node.sh")
export PATH="$node_bin:$root/node_modules/.bin:$PATH"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/krill-pack-XXXXXX")
broker_pid=
cleanup() {
  if [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null; then kill -KILL "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
passed=0
failed=0
ok() { echo "pack-check: ok   $*" && passed=$((passed + 1)); }
fail() { echo "pack-check: FAIL $*" >&2 && failed=$((failed + 1)); }

echo "pack-check: npm pack (builds through prepack)"
(cd "$root" && timeout 300 npm pack --pack-destination "$scratch" --loglevel=error >"$scratch/pack.out")
tarball=$(ls "$scratch"/krill-*.tgz)
mkdir -p "$scratch/app"
cd "$scratch/app"
printf '{ "name": "krill-pack-check", "version": "0.0.0", "private": true, "type": "module" }\n' >package.json
timeout 300 npm install --no-audit --no-fund --prefer-offline --loglevel=error "$tarball" >/dev/null
expected_version=$(node -p "require('$root/package.json').version")

version=$(timeout 30 npx --no-install krill --version)
if [[ $version =~ ^krill\ $expected_version\ \(commit\ [0-9a-f]{12}(-dirty)?, ]]; then
  ok "npx krill --version: $version"
else
  fail "npx krill --version printed '$version'"
fi

old_node=
for candidate in /usr/bin/node /usr/local/bin/node; do
  [ -x "$candidate" ] || continue
  if [ "$("$candidate" -p "const [a, b] = process.versions.node.split('.').map(Number); a < 22 || (a === 22 && b < 15) ? 1 : 0")" = 1 ]; then
    old_node=$candidate
    break
  fi
done
if [ -n "$old_node" ]; then
  set +e
  message=$(timeout 30 "$old_node" node_modules/.bin/krill --version 2>&1)
  status=$?
  set -e
  if [ "$status" = 1 ] && [[ $message =~ ^krill:\ Node.js\ 22.15.0\ or\ later\ is\ required ]] && [ "$(wc -l <<<"$message")" = 1 ]; then
    ok "Node $("$old_node" --version): $message"
  else
    fail "Node $("$old_node" --version) printed (status $status): $message"
  fi
else
  echo "pack-check: skip the older-Node message: no Node older than 22.15 on this machine"
fi

# The broker from the installed package (its bin, as npx runs it; npx itself would stand between
# the signal and the broker), on a free port chosen by the kernel.
node_modules/.bin/krill start --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$scratch/data" \
  >"$scratch/broker.out" 2>&1 &
broker_pid=$!
port=
for _ in $(seq 1 300); do
  port=$(grep -o '"listeners":\["PLAINTEXT://127.0.0.1:[0-9]*' "$scratch/broker.out" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  kill -0 "$broker_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  fail "krill start did not start:" && cat "$scratch/broker.out" >&2
else
  ok "krill start: listening on 127.0.0.1:$port"
  if command -v kcat >/dev/null; then
    echo 'k1:from the npm package' | timeout 30 kcat -b "127.0.0.1:$port" -P -t pack-check -K: -q
    got=$(timeout 30 kcat -b "127.0.0.1:$port" -C -t pack-check -o beginning -e -q -f '%k=%s\n')
    if [ "$got" = "k1=from the npm package" ]; then ok "kcat produced and consumed one record"; else fail "kcat read '$got'"; fi
  else
    echo "pack-check: skip kcat produce/consume: kcat is not installed (make deps installs it)"
  fi
  kill -TERM "$broker_pid"
  set +e
  timeout 30 tail --pid="$broker_pid" -f /dev/null
  wait "$broker_pid"
  status=$?
  set -e
  broker_pid=
  if [ "$status" = 0 ]; then ok "SIGTERM: exit status 0"; else fail "SIGTERM: exit status $status"; fi
fi

cat >"$scratch/app/library.mjs" <<'JS'
import { startBroker } from "krill";
const broker = await startBroker({ "num.partitions": 2 });
if (!/^127\.0\.0\.1:\d+$/.test(broker.bootstrap)) throw new Error(`bootstrap ${broker.bootstrap}`);
await broker.stop();
console.log(broker.bootstrap);
JS
if bootstrap=$(timeout 60 node library.mjs 2>&1); then
  ok "import { startBroker } from \"krill\": started on $bootstrap and stopped"
else
  fail "import { startBroker } from \"krill\": $bootstrap"
fi

echo "pack-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
